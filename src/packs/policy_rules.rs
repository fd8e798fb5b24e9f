//! Policy rules (docs/roles-and-packs.md, "Role rules"): pick the best matching playbook
//! (domain + tenant) and decide whether a person must approve it, or escalate. Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::domain::DomainPack;
use super::playbook::Playbook;
use super::tenant::{to_thousandths, TenantPack};
use crate::model::Severity;

/// How far below the approval threshold confidence may fall before the exception escalates.
const ESCALATION_MARGIN_THOUSANDTHS: i64 = 100;

pub struct PolicyInput<'a> {
    pub exception_type: &'a str,
    pub severity: Severity,
    pub confidence: f64,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyOutcome {
    Matched {
        playbook_id: String,
        approval_required: bool,
    },
    Escalate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    pub outcome: PolicyOutcome,
    /// Every fact that drove the decision, in words.
    pub reasons: Vec<String>,
    /// Ids of every matching playbook, best first.
    pub candidates: Vec<String>,
}

impl PolicyDecision {
    /// `auto_approved`, `approval_required` or `escalated`.
    pub fn decision_label(&self) -> &'static str {
        match self.outcome {
            PolicyOutcome::Matched {
                approval_required: false,
                ..
            } => "auto_approved",
            PolicyOutcome::Matched {
                approval_required: true,
                ..
            } => "approval_required",
            PolicyOutcome::Escalate => "escalated",
        }
    }
}

/// Chooses a playbook or escalates. Best = highest priority; a tie goes to the tenant's
/// playbook, then to the smaller id.
pub fn evaluate_policy(
    domain: &DomainPack,
    tenant: &TenantPack,
    input: &PolicyInput,
) -> PolicyDecision {
    let ranked = ranked_candidates(domain, tenant, input);
    let candidates: Vec<String> = ranked.iter().map(|playbook| playbook.id.clone()).collect();
    let mut reasons = Vec::new();
    let confidence = to_thousandths(input.confidence);
    let threshold = tenant.approval.threshold_thousandths;
    let escalation_floor = threshold - ESCALATION_MARGIN_THOUSANDTHS;

    let too_unsure = confidence < escalation_floor;
    if too_unsure {
        reasons.push(format!(
            "confidence {:.2} is below the escalation floor {:.2} (threshold {:.2} minus 0.1)",
            input.confidence,
            thousandths(escalation_floor),
            thousandths(threshold)
        ));
    }
    let Some(best) = ranked.first().filter(|_| !too_unsure) else {
        if ranked.is_empty() {
            reasons.push(format!(
                "no playbook matched type {} at severity {}",
                input.exception_type, input.severity
            ));
        }
        return PolicyDecision {
            outcome: PolicyOutcome::Escalate,
            reasons,
            candidates,
        };
    };

    reasons.push(format!(
        "{} candidate playbook(s): {}",
        candidates.len(),
        candidates.join(", ")
    ));
    reasons.push(format!(
        "selected {} ({} playbook, priority {})",
        best.id,
        best.origin.as_str(),
        best.priority
    ));
    if ranked
        .get(1)
        .is_some_and(|runner_up| runner_up.priority == best.priority)
    {
        reasons.push(format!(
            "priority tie at {} broken by tenant before domain, then id",
            best.priority
        ));
    }
    let approval_required = approval_reasons(tenant, input, confidence, threshold, &mut reasons);
    let outcome = PolicyOutcome::Matched {
        playbook_id: best.id.clone(),
        approval_required,
    };
    PolicyDecision {
        outcome,
        reasons,
        candidates,
    }
}

/// A domain or tenant playbook by id (ids are unique across both).
pub fn find_playbook<'a>(
    domain: &'a DomainPack,
    tenant: &'a TenantPack,
    playbook_id: &str,
) -> Option<&'a Playbook> {
    tenant
        .playbook(playbook_id)
        .or_else(|| domain.playbook(playbook_id))
}

/// Whether every present condition of the playbook holds.
pub fn playbook_matches(playbook: &Playbook, domain: &DomainPack, input: &PolicyInput) -> bool {
    let conditions = &playbook.conditions;
    let type_ok = conditions
        .exception_types
        .as_ref()
        .is_none_or(|types| types.iter().any(|name| name == input.exception_type));
    let severity_ok = conditions
        .severity_in
        .as_ref()
        .is_none_or(|severities| severities.contains(&input.severity));
    let domain_ok = conditions
        .domain
        .as_ref()
        .is_none_or(|name| *name == domain.name);
    let sla_ok = conditions
        .sla_minutes_remaining_lt
        .is_none_or(|limit_minutes| {
            input.sla_deadline.is_some_and(|deadline| {
                let remaining_seconds = (deadline - input.now).num_seconds();
                remaining_seconds < limit_minutes.saturating_mul(60)
            })
        });
    type_ok && severity_ok && domain_ok && sla_ok
}

fn ranked_candidates<'a>(
    domain: &'a DomainPack,
    tenant: &'a TenantPack,
    input: &PolicyInput,
) -> Vec<&'a Playbook> {
    let mut ranked: Vec<&Playbook> = domain
        .playbooks
        .iter()
        .chain(&tenant.playbooks)
        .filter(|playbook| playbook_matches(playbook, domain, input))
        .collect();
    ranked.sort_by(|left, right| {
        right
            .priority
            .cmp(&left.priority)
            .then(left.origin.cmp(&right.origin))
            .then_with(|| left.id.cmp(&right.id))
    });
    ranked
}

/// Adds a reason for each approval trigger; returns whether any applies.
fn approval_reasons(
    tenant: &TenantPack,
    input: &PolicyInput,
    confidence: i64,
    threshold: i64,
    reasons: &mut Vec<String>,
) -> bool {
    let mut required = false;
    if input.severity == Severity::Critical {
        reasons.push("severity CRITICAL always needs human approval".to_string());
        required = true;
    }
    if tenant
        .approval
        .require_for_severities
        .contains(&input.severity)
    {
        reasons.push(format!(
            "tenant requires approval for {} severity",
            input.severity
        ));
        required = true;
    }
    if confidence < threshold {
        reasons.push(format!(
            "confidence {:.2} is below the approval threshold {:.2}",
            input.confidence,
            thousandths(threshold)
        ));
        required = true;
    }
    if !required {
        reasons.push(format!(
            "confidence {:.2} meets the threshold {:.2} and no approval rule applies",
            input.confidence,
            thousandths(threshold)
        ));
    }
    required
}

fn thousandths(value: i64) -> f64 {
    value as f64 / 1000.0
}

#[cfg(test)]
#[path = "policy_rules_tests.rs"]
mod tests;
