//! Validates `[[playbooks]]` of a domain or tenant pack: unique ids, known types and severities
//! in the conditions, non-empty steps, and `call_tool` steps naming a declared (and, for a
//! tenant, enabled) tool.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::{check_type_reference, parse_severity, require_text};
use crate::packs::domain::{ExceptionType, ToolDefinition};
use crate::packs::error::FileProblems;
use crate::packs::playbook::{
    Playbook, PlaybookConditions, PlaybookOrigin, PlaybookStep, StepKind, CALL_TOOL_ACTION,
};
use crate::packs::raw::{RawPlaybook, RawPlaybookConditions, RawStep};

/// What a playbook may refer to.
pub(crate) struct PlaybookScope<'a> {
    pub origin: PlaybookOrigin,
    pub declared_types: &'a [ExceptionType],
    pub declared_tools: &'a [ToolDefinition],
    /// For tenant playbooks: the tenant's enabled tools.
    pub enabled_tools: Option<&'a BTreeSet<String>>,
}

/// Validates every playbook; `taken_ids` holds ids already used (e.g. by the domain pack).
pub(crate) fn validate_playbooks(
    raw_playbooks: Vec<RawPlaybook>,
    scope: &PlaybookScope<'_>,
    taken_ids: &mut HashSet<String>,
    problems: &mut FileProblems,
) -> Vec<Playbook> {
    let mut playbooks = Vec::new();
    for (index, raw) in raw_playbooks.into_iter().enumerate() {
        let place = format!("playbooks[{index}]");
        if require_text(&raw.id, &format!("{place}.id"), problems)
            && !taken_ids.insert(raw.id.clone())
        {
            problems.report(
                format!("{place}.id"),
                format!("duplicate playbook id '{}'", raw.id),
            );
        }
        require_text(&raw.name, &format!("{place}.name"), problems);
        let conditions = validate_conditions(raw.conditions, scope, &place, problems);
        if raw.steps.is_empty() {
            problems.report(
                format!("{place}.steps"),
                "a playbook needs at least one step",
            );
        }
        let steps = raw
            .steps
            .into_iter()
            .enumerate()
            .map(|(step_index, step)| {
                let step_place = format!("{place}.steps[{step_index}]");
                validate_step(step, step_index + 1, scope, &step_place, problems)
            })
            .collect();
        playbooks.push(Playbook {
            id: raw.id,
            name: raw.name,
            description: raw.description,
            priority: raw.priority,
            origin: scope.origin,
            conditions,
            steps,
        });
    }
    playbooks
}

fn validate_conditions(
    raw: RawPlaybookConditions,
    scope: &PlaybookScope<'_>,
    place: &str,
    problems: &mut FileProblems,
) -> PlaybookConditions {
    let mut exception_types: Option<Vec<String>> = None;
    if let Some(single) = raw.single_type {
        check_type_reference(
            scope.declared_types,
            &single,
            &format!("{place}.conditions.type"),
            problems,
        );
        exception_types.get_or_insert_with(Vec::new).push(single);
    }
    if let Some(types) = raw.types {
        if types.is_empty() {
            problems.report(
                format!("{place}.conditions.types"),
                "must not be an empty list",
            );
        }
        for (index, name) in types.into_iter().enumerate() {
            let type_place = format!("{place}.conditions.types[{index}]");
            check_type_reference(scope.declared_types, &name, &type_place, problems);
            exception_types.get_or_insert_with(Vec::new).push(name);
        }
    }
    let severity_in = raw.severity_in.map(|names| {
        if names.is_empty() {
            problems.report(
                format!("{place}.conditions.severity_in"),
                "must not be an empty list",
            );
        }
        names
            .iter()
            .enumerate()
            .filter_map(|(index, name)| {
                let severity_place = format!("{place}.conditions.severity_in[{index}]");
                parse_severity(name, &severity_place, problems)
            })
            .collect()
    });
    if let Some(limit) = raw.sla_minutes_remaining_lt {
        if limit <= 0 {
            problems.report(
                format!("{place}.conditions.sla_minutes_remaining_lt"),
                format!("must be a positive number of minutes, found {limit}"),
            );
        }
    }
    if let Some(domain) = &raw.domain {
        require_text(domain, &format!("{place}.conditions.domain"), problems);
    }
    PlaybookConditions {
        exception_types,
        severity_in,
        domain: raw.domain,
        sla_minutes_remaining_lt: raw.sla_minutes_remaining_lt,
    }
}

fn validate_step(
    raw: RawStep,
    number: usize,
    scope: &PlaybookScope<'_>,
    place: &str,
    problems: &mut FileProblems,
) -> PlaybookStep {
    let action = raw.action.trim().to_string();
    require_text(&action, &format!("{place}.action"), problems);
    let tool_place = format!("{place}.tool");
    match (action == CALL_TOOL_ACTION, raw.tool.as_deref()) {
        (true, None) => problems.report(tool_place, "a call_tool step needs `tool`"),
        (true, Some(tool)) => check_tool(tool, scope, &tool_place, problems),
        (false, Some(_)) => problems.report(tool_place, "`tool` only applies to call_tool steps"),
        (false, None) => {}
    }
    let kind = StepKind::classify(&action, raw.tool.as_deref());
    PlaybookStep {
        number,
        action,
        kind,
        params: Value::Object(raw.params.unwrap_or_default()),
    }
}

fn check_tool(tool: &str, scope: &PlaybookScope<'_>, place: &str, problems: &mut FileProblems) {
    if !scope
        .declared_tools
        .iter()
        .any(|declared| declared.name == tool)
    {
        problems.report(
            place,
            format!("tool '{tool}' is not declared in the domain pack"),
        );
    } else if scope
        .enabled_tools
        .is_some_and(|enabled| !enabled.contains(tool))
    {
        problems.report(
            place,
            format!("tool '{tool}' is not in this tenant's enabled_tools"),
        );
    }
}
