//! Validates a raw domain pack: type names and error codes, severity rules, tools, playbooks.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::condition::validate_condition;
use super::playbook::{validate_playbooks, PlaybookScope};
use super::{check_type_reference, is_slug, is_upper_snake, parse_severity, require_text};
use crate::packs::domain::{
    DomainPack, ExceptionType, SeverityRule, SimulateProfile, ToolDefinition, ToolKind,
    UNKNOWN_EXCEPTION_TYPE,
};
use crate::packs::error::FileProblems;
use crate::packs::playbook::PlaybookOrigin;
use crate::packs::raw::{RawDomainPack, RawExceptionType, RawSeverityRule, RawTool};

/// Default tool timeout when a tool gives none.
pub(crate) const DEFAULT_TOOL_TIMEOUT_MS: u64 = 5_000;
const MAX_TOOL_TIMEOUT_MS: i64 = 300_000;

/// Validates a domain pack; the result is only used when `problems` stays clean.
pub(crate) fn validate_domain(raw: RawDomainPack, problems: &mut FileProblems) -> DomainPack {
    if !is_slug(&raw.name) {
        problems.report(
            "name",
            format!(
                "'{}' must be lowercase letters, digits, '-' or '_'",
                raw.name
            ),
        );
    }
    for (index, key) in raw.pii_keys.iter().enumerate() {
        require_text(key, &format!("pii_keys[{index}]"), problems);
    }
    let exception_types = validate_exception_types(raw.exception_types, problems);
    let severity_rules = validate_severity_rules(raw.severity_rules, &exception_types, problems);
    let tools = validate_tools(raw.tools, problems);
    let scope = PlaybookScope {
        origin: PlaybookOrigin::Domain,
        declared_types: &exception_types,
        declared_tools: &tools,
        enabled_tools: None,
    };
    let playbooks = validate_playbooks(raw.playbooks, &scope, &mut HashSet::new(), problems);
    DomainPack {
        name: raw.name,
        description: raw.description,
        pii_keys: raw.pii_keys,
        exception_types,
        severity_rules,
        tools,
        playbooks,
    }
}

fn validate_exception_types(
    raw_types: Vec<RawExceptionType>,
    problems: &mut FileProblems,
) -> Vec<ExceptionType> {
    if raw_types.is_empty() {
        problems.report(
            "exception_types",
            "a domain pack needs at least one exception type",
        );
    }
    let mut names = HashSet::new();
    let mut code_owners: HashMap<String, String> = HashMap::new();
    let mut types = Vec::new();
    for (index, raw) in raw_types.into_iter().enumerate() {
        let place = format!("exception_types[{index}]");
        if !is_upper_snake(&raw.name) {
            problems.report(
                format!("{place}.name"),
                format!("'{}' is not UPPER_SNAKE", raw.name),
            );
        } else if raw.name == UNKNOWN_EXCEPTION_TYPE {
            problems.report(
                format!("{place}.name"),
                "UNKNOWN is reserved for unidentified exceptions",
            );
        } else if !names.insert(raw.name.clone()) {
            problems.report(
                format!("{place}.name"),
                format!("duplicate exception type '{}'", raw.name),
            );
        }
        for (code_index, code) in raw.error_codes.iter().enumerate() {
            let code_place = format!("{place}.error_codes[{code_index}]");
            if !require_text(code, &code_place, problems) {
                continue;
            }
            if let Some(owner) = code_owners.insert(code.to_lowercase(), raw.name.clone()) {
                problems.report(
                    code_place,
                    format!("error code '{code}' is already used by {owner}"),
                );
            }
        }
        for (keyword_index, keyword) in raw.keywords.iter().enumerate() {
            require_text(
                keyword,
                &format!("{place}.keywords[{keyword_index}]"),
                problems,
            );
        }
        types.push(ExceptionType {
            name: raw.name,
            description: raw.description,
            error_codes: raw.error_codes,
            keywords: raw
                .keywords
                .iter()
                .map(|keyword| keyword.to_lowercase())
                .collect(),
        });
    }
    types
}

fn validate_severity_rules(
    raw_rules: Vec<RawSeverityRule>,
    declared_types: &[ExceptionType],
    problems: &mut FileProblems,
) -> Vec<SeverityRule> {
    let mut ids = HashSet::new();
    let mut rules = Vec::new();
    for (index, raw) in raw_rules.into_iter().enumerate() {
        let place = format!("severity_rules[{index}]");
        if require_text(&raw.id, &format!("{place}.id"), problems) && !ids.insert(raw.id.clone()) {
            problems.report(
                format!("{place}.id"),
                format!("duplicate rule id '{}'", raw.id),
            );
        }
        let type_place = format!("{place}.exception_type");
        check_type_reference(declared_types, &raw.exception_type, &type_place, problems);
        let severity = parse_severity(&raw.severity, &format!("{place}.severity"), problems);
        let when = raw
            .when
            .into_iter()
            .enumerate()
            .filter_map(|(condition_index, condition)| {
                let condition_place = format!("{place}.when[{condition_index}]");
                validate_condition(condition, &condition_place, problems)
            })
            .collect();
        if let Some(severity) = severity {
            rules.push(SeverityRule {
                id: raw.id,
                description: raw.description,
                exception_type: raw.exception_type,
                severity,
                when,
            });
        }
    }
    rules
}

fn validate_tools(raw_tools: Vec<RawTool>, problems: &mut FileProblems) -> Vec<ToolDefinition> {
    let mut names = HashSet::new();
    let mut tools = Vec::new();
    for (index, raw) in raw_tools.into_iter().enumerate() {
        let place = format!("tools[{index}]");
        if !is_slug(&raw.name) {
            problems.report(
                format!("{place}.name"),
                format!(
                    "'{}' must be lowercase letters, digits, '-' or '_'",
                    raw.name
                ),
            );
        } else if !names.insert(raw.name.clone()) {
            problems.report(
                format!("{place}.name"),
                format!("duplicate tool '{}'", raw.name),
            );
        }
        let timeout_ms = match raw.timeout_ms {
            None => DEFAULT_TOOL_TIMEOUT_MS,
            Some(ms) if (1..=MAX_TOOL_TIMEOUT_MS).contains(&ms) => ms.unsigned_abs(),
            Some(ms) => {
                problems.report(
                    format!("{place}.timeout_ms"),
                    format!("must be 1..={MAX_TOOL_TIMEOUT_MS}, found {ms}"),
                );
                DEFAULT_TOOL_TIMEOUT_MS
            }
        };
        if let Some(kind) = validate_tool_kind(&raw, &place, problems) {
            tools.push(ToolDefinition {
                name: raw.name,
                description: raw.description,
                kind,
                timeout_ms,
                input_schema: raw.input_schema.map(Value::Object),
            });
        }
    }
    tools
}

fn validate_tool_kind(raw: &RawTool, place: &str, problems: &mut FileProblems) -> Option<ToolKind> {
    match raw.kind.as_str() {
        "simulate" => {
            if raw.url.is_some() {
                problems.report(format!("{place}.url"), "`url` only applies to http tools");
            }
            let profile_place = format!("{place}.profile");
            let Some(profile_name) = raw.profile.as_deref() else {
                problems.report(
                    profile_place,
                    "a simulate tool needs `profile` (success, fail, delayed or flaky)",
                );
                return None;
            };
            let profile = SimulateProfile::parse(profile_name);
            if profile.is_none() {
                problems.report(profile_place, format!("unknown profile '{profile_name}' (expected success, fail, delayed or flaky)"));
            }
            profile.map(|profile| ToolKind::Simulate { profile })
        }
        "http" => {
            if raw.profile.is_some() {
                problems.report(
                    format!("{place}.profile"),
                    "`profile` only applies to simulate tools",
                );
            }
            let url_place = format!("{place}.url");
            let Some(url) = raw.url.as_deref() else {
                problems.report(url_place, "an http tool needs `url`");
                return None;
            };
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if !host.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')) {
                problems.report(
                    url_place,
                    format!("'{url}' is not an http(s) URL with a host"),
                );
                return None;
            }
            Some(ToolKind::Http {
                url: url.to_string(),
            })
        }
        other => {
            problems.report(
                format!("{place}.kind"),
                format!("unknown tool kind '{other}' (expected simulate or http)"),
            );
            None
        }
    }
}
