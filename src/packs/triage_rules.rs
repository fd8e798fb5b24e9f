//! Triage rules (docs/roles-and-packs.md, "Role rules"): the exception type (given or
//! inferred), its severity by precedence, a confidence and the evidence behind them, and the SLA
//! deadline. Pure.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;

use super::conditions::all_conditions_hold;
use super::domain::{DomainPack, SeverityRule, UNKNOWN_EXCEPTION_TYPE};
use super::tenant::TenantPack;
use crate::model::Severity;

pub struct TriageInput<'a> {
    /// The type the source gave, if any (trimmed and stripped of leading ':' here).
    pub exception_type: Option<&'a str>,
    pub payload: &'a Value,
}

/// Which precedence level decided the severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SeveritySource {
    TenantOverride,
    DomainRule { rule_id: String },
    NameHint,
    Default,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageDecision {
    pub exception_type: String,
    pub type_was_given: bool,
    pub severity: Severity,
    pub severity_source: SeveritySource,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// Decides type, severity and confidence. Never fails: an unidentifiable exception is
/// `UNKNOWN` with MEDIUM severity and confidence 0.7.
pub fn triage(domain: &DomainPack, tenant: &TenantPack, input: &TriageInput) -> TriageDecision {
    let mut evidence = Vec::new();
    let given = input
        .exception_type
        .map(clean_type_name)
        .filter(|name| !name.is_empty());
    let type_was_given = given.is_some();
    let exception_type = match given {
        Some(name) => {
            evidence.push("type given by source".to_string());
            declared_spelling(domain, name)
        }
        None => infer_type(domain, input.payload, &mut evidence),
    };
    let (severity, severity_source) = decide_severity(
        domain,
        tenant,
        &exception_type,
        input.payload,
        &mut evidence,
    );
    let rule_matched = matches!(
        severity_source,
        SeveritySource::TenantOverride | SeveritySource::DomainRule { .. }
    );
    let confidence = match (type_was_given, rule_matched) {
        (true, true) => 0.9,
        (false, true) => 0.85,
        (true, false) => 0.8,
        (false, false) => 0.7,
    };
    TriageDecision {
        exception_type,
        type_was_given,
        severity,
        severity_source,
        confidence,
        evidence,
    }
}

/// `created_at` plus the tenant's SLA target for the severity.
pub fn sla_deadline(
    tenant: &TenantPack,
    severity: Severity,
    created_at: DateTime<Utc>,
) -> DateTime<Utc> {
    TimeDelta::try_minutes(tenant.sla_target_minutes(severity))
        .and_then(|target| created_at.checked_add_signed(target))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Trims, strips leading ':' and trims again (`" :SETTLEMENT_FAIL"` -> `"SETTLEMENT_FAIL"`).
pub fn clean_type_name(raw: &str) -> &str {
    raw.trim().trim_start_matches(':').trim()
}

/// The domain's spelling of a given type when it matches one case-insensitively.
fn declared_spelling(domain: &DomainPack, given: &str) -> String {
    domain
        .exception_types
        .iter()
        .find(|declared| declared.name.eq_ignore_ascii_case(given))
        .map_or_else(|| given.to_string(), |declared| declared.name.clone())
}

fn infer_type(domain: &DomainPack, payload: &Value, evidence: &mut Vec<String>) -> String {
    if let Some(code) = error_code(payload) {
        let wanted = code.to_lowercase();
        for declared in &domain.exception_types {
            if declared
                .error_codes
                .iter()
                .any(|known| known.to_lowercase() == wanted)
            {
                evidence.push(format!("errorCode {code} matched {}", declared.name));
                return declared.name.clone();
            }
        }
    }
    let text = error_text(payload);
    if !text.is_empty() {
        for declared in &domain.exception_types {
            if let Some(keyword) = declared
                .keywords
                .iter()
                .find(|keyword| text.contains(keyword.as_str()))
            {
                evidence.push(format!(
                    "keyword '{keyword}' in error text matched {}",
                    declared.name
                ));
                return declared.name.clone();
            }
        }
    }
    evidence.push("no type given and no errorCode or keyword matched: UNKNOWN".to_string());
    UNKNOWN_EXCEPTION_TYPE.to_string()
}

/// `errorCode` or `error_code` as text (a number is accepted too).
fn error_code(payload: &Value) -> Option<String> {
    ["errorCode", "error_code"]
        .iter()
        .filter_map(|key| payload.get(key))
        .find_map(|value| match value {
            Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
}

/// `error` and `errorMessage` texts, lowercased and joined.
fn error_text(payload: &Value) -> String {
    ["error", "errorMessage"]
        .iter()
        .filter_map(|key| payload.get(key).and_then(Value::as_str))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("\n")
}

fn decide_severity(
    domain: &DomainPack,
    tenant: &TenantPack,
    exception_type: &str,
    payload: &Value,
    evidence: &mut Vec<String>,
) -> (Severity, SeveritySource) {
    if let Some(severity) = tenant.severity_overrides.get(exception_type) {
        evidence.push(format!("tenant override {severity}"));
        return (*severity, SeveritySource::TenantOverride);
    }
    if let Some(rule) = highest_matching_rule(domain, exception_type, payload, evidence) {
        let source = SeveritySource::DomainRule {
            rule_id: rule.id.clone(),
        };
        return (rule.severity, source);
    }
    if let Some(severity) = name_hint(exception_type) {
        evidence.push(format!("type name hints {severity}"));
        return (severity, SeveritySource::NameHint);
    }
    evidence.push("no override, rule or name hint: default MEDIUM".to_string());
    (Severity::Medium, SeveritySource::Default)
}

/// Of the rules for this type whose conditions all hold, the most severe (first declared on a tie).
fn highest_matching_rule<'a>(
    domain: &'a DomainPack,
    exception_type: &str,
    payload: &Value,
    evidence: &mut Vec<String>,
) -> Option<&'a SeverityRule> {
    let mut best: Option<&SeverityRule> = None;
    let matching = domain.severity_rules.iter().filter(|rule| {
        rule.exception_type == exception_type && all_conditions_hold(&rule.when, payload)
    });
    for rule in matching {
        evidence.push(format!("rule {} matched ({})", rule.id, rule.severity));
        if best.is_none_or(|current| rule.severity > current.severity) {
            best = Some(rule);
        }
    }
    best
}

/// CRITICAL|BREAK -> CRITICAL, else HIGH|FAIL -> HIGH, else LOW|MISMATCH -> LOW.
fn name_hint(exception_type: &str) -> Option<Severity> {
    let upper = exception_type.to_uppercase();
    let has_any = |words: &[&str]| words.iter().any(|word| upper.contains(word));
    if has_any(&["CRITICAL", "BREAK"]) {
        Some(Severity::Critical)
    } else if has_any(&["HIGH", "FAIL"]) {
        Some(Severity::High)
    } else if has_any(&["LOW", "MISMATCH"]) {
        Some(Severity::Low)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "triage_rules_tests.rs"]
mod tests;
