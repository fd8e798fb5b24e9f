//! Case-by-case tests of the policy rules: matching, ranking, approval and escalation.

use chrono::{TimeDelta, TimeZone};

use super::*;
use crate::packs::test_support::fixture_packs;

struct Case {
    name: &'static str,
    tenant: &'static str,
    exception_type: &'static str,
    severity: Severity,
    confidence: f64,
    sla_minutes_left: Option<i64>,
    expected_playbook: Option<&'static str>,
    expected_approval: bool,
    expected_candidates: &'static [&'static str],
    expected_reason: &'static str,
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Severity::*;
    vec![
        Case { name: "no match escalates", tenant: "t2", exception_type: "UNKNOWN", severity: Medium, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: None, expected_approval: false, expected_candidates: &[], expected_reason: "no playbook matched type UNKNOWN" },
        Case { name: "highest priority wins; CRITICAL needs approval", tenant: "t2", exception_type: "SETTLEMENT_FAIL", severity: Critical, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-critical"), expected_approval: true, expected_candidates: &["pb-sf-critical", "pb-sf-generic"], expected_reason: "CRITICAL always needs human approval" },
        Case { name: "auto approved", tenant: "t2", exception_type: "SETTLEMENT_FAIL", severity: High, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-generic"), expected_approval: false, expected_candidates: &["pb-sf-generic"], expected_reason: "meets the threshold 0.50" },
        Case { name: "tie: tenant before domain", tenant: "t1", exception_type: "TRADE_BREAK", severity: Medium, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-tb-a"), expected_approval: false, expected_candidates: &["pb-tb-a", "pb-tb-b"], expected_reason: "priority tie at 20" },
        Case { name: "other tenant lacks the tenant playbook", tenant: "t2", exception_type: "TRADE_BREAK", severity: Medium, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-tb-b"), expected_approval: false, expected_candidates: &["pb-tb-b"], expected_reason: "selected pb-tb-b (domain playbook, priority 20)" },
        Case { name: "tie: id ascending", tenant: "t2", exception_type: "PRICE_MISMATCH", severity: Low, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-pm-a"), expected_approval: false, expected_candidates: &["pb-pm-a", "pb-pm-b"], expected_reason: "priority tie at 5" },
        Case { name: "approval by tenant rule", tenant: "t1", exception_type: "SETTLEMENT_FAIL", severity: High, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-generic"), expected_approval: true, expected_candidates: &["pb-sf-generic"], expected_reason: "tenant requires approval for HIGH" },
        Case { name: "approval by threshold", tenant: "t1", exception_type: "SETTLEMENT_FAIL", severity: Medium, confidence: 0.75, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-generic"), expected_approval: true, expected_candidates: &["pb-sf-generic"], expected_reason: "below the approval threshold 0.80" },
        Case { name: "exactly threshold - 0.1 does not escalate", tenant: "t1", exception_type: "SETTLEMENT_FAIL", severity: Medium, confidence: 0.7, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-generic"), expected_approval: true, expected_candidates: &["pb-sf-generic"], expected_reason: "below the approval threshold 0.80" },
        Case { name: "escalate by low confidence", tenant: "t1", exception_type: "SETTLEMENT_FAIL", severity: Medium, confidence: 0.69, sla_minutes_left: None,
            expected_playbook: None, expected_approval: false, expected_candidates: &["pb-sf-generic"], expected_reason: "below the escalation floor 0.70" },
        Case { name: "lower tenant threshold", tenant: "t2", exception_type: "SETTLEMENT_FAIL", severity: Medium, confidence: 0.7, sla_minutes_left: None,
            expected_playbook: Some("pb-sf-generic"), expected_approval: false, expected_candidates: &["pb-sf-generic"], expected_reason: "meets the threshold" },
        Case { name: "sla close: urgent playbook; other domain excluded", tenant: "t2", exception_type: "MISSING_SSI", severity: Low, confidence: 0.9, sla_minutes_left: Some(20),
            expected_playbook: Some("pb-ssi-urgent"), expected_approval: false, expected_candidates: &["pb-ssi-urgent", "pb-ssi-normal"], expected_reason: "selected pb-ssi-urgent" },
        Case { name: "sla exactly at the limit is not below it", tenant: "t2", exception_type: "MISSING_SSI", severity: Low, confidence: 0.9, sla_minutes_left: Some(30),
            expected_playbook: Some("pb-ssi-normal"), expected_approval: false, expected_candidates: &["pb-ssi-normal"], expected_reason: "selected pb-ssi-normal" },
        Case { name: "sla already breached", tenant: "t2", exception_type: "MISSING_SSI", severity: Low, confidence: 0.9, sla_minutes_left: Some(-5),
            expected_playbook: Some("pb-ssi-urgent"), expected_approval: false, expected_candidates: &["pb-ssi-urgent", "pb-ssi-normal"], expected_reason: "selected pb-ssi-urgent" },
        Case { name: "no deadline: sla condition is false", tenant: "t2", exception_type: "MISSING_SSI", severity: Low, confidence: 0.9, sla_minutes_left: None,
            expected_playbook: Some("pb-ssi-normal"), expected_approval: false, expected_candidates: &["pb-ssi-normal"], expected_reason: "selected pb-ssi-normal" },
    ]
}

#[test]
fn policy_rule_table_case_by_case() {
    let packs = fixture_packs();
    let now = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    for case in cases() {
        // Arrange
        let tenant = packs.tenant(case.tenant).expect("fixture tenant");
        let domain = packs.domain_of(tenant);
        let input = PolicyInput {
            exception_type: case.exception_type,
            severity: case.severity,
            confidence: case.confidence,
            sla_deadline: case
                .sla_minutes_left
                .map(|minutes| now + TimeDelta::minutes(minutes)),
            now,
        };

        // Act
        let decision = evaluate_policy(domain, tenant, &input);

        // Assert
        let expected_outcome = match case.expected_playbook {
            Some(id) => PolicyOutcome::Matched {
                playbook_id: id.to_string(),
                approval_required: case.expected_approval,
            },
            None => PolicyOutcome::Escalate,
        };
        assert_eq!(decision.outcome, expected_outcome, "{}", case.name);
        assert_eq!(
            decision.candidates, case.expected_candidates,
            "{}",
            case.name
        );
        assert!(
            decision
                .reasons
                .iter()
                .any(|reason| reason.contains(case.expected_reason)),
            "{}: {:?}",
            case.name,
            decision.reasons
        );
    }
}

#[test]
fn decision_labels() {
    let cases = [
        (
            PolicyOutcome::Matched {
                playbook_id: "p".into(),
                approval_required: false,
            },
            "auto_approved",
        ),
        (
            PolicyOutcome::Matched {
                playbook_id: "p".into(),
                approval_required: true,
            },
            "approval_required",
        ),
        (PolicyOutcome::Escalate, "escalated"),
    ];
    for (outcome, expected) in cases {
        // Arrange
        let decision = PolicyDecision {
            outcome,
            reasons: vec![],
            candidates: vec![],
        };

        // Act / Assert
        assert_eq!(decision.decision_label(), expected);
    }
}

#[test]
fn find_playbook_looks_in_tenant_then_domain() {
    // Arrange
    let packs = fixture_packs();
    let tenant = packs.tenant("t1").expect("fixture tenant");
    let domain = packs.domain_of(tenant);

    // Act
    let tenant_playbook = find_playbook(domain, tenant, "pb-tb-a");
    let domain_playbook = find_playbook(domain, tenant, "pb-sf-generic");
    let missing = find_playbook(domain, tenant, "pb-nope");

    // Assert
    assert_eq!(
        tenant_playbook.map(|p| p.name.as_str()),
        Some("Trade break (tenant)")
    );
    assert_eq!(domain_playbook.map(|p| p.steps.len()), Some(2));
    assert!(missing.is_none());
    assert_eq!(
        packs.find_playbook(tenant, "pb-tb-a").map(|p| p.priority),
        Some(20)
    );
}
