//! Case-by-case tests of the triage rule table and SLA deadlines.

use chrono::TimeZone;
use serde_json::{json, Value};

use super::*;
use crate::packs::test_support::fixture_packs;

struct Case {
    tenant: &'static str,
    given_type: Option<&'static str>,
    payload: Value,
    expected_type: &'static str,
    expected_given: bool,
    expected_severity: Severity,
    expected_source: SeveritySource,
    expected_confidence: f64,
    expected_evidence: &'static str,
}

fn rule(rule_id: &str) -> SeveritySource {
    SeveritySource::DomainRule {
        rule_id: rule_id.into(),
    }
}

/// (tenant, given type, payload) -> (type, given?, severity, source, confidence, evidence).
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Severity::*;
    use SeveritySource::*;
    vec![
        // given type + domain rule: highest matching rule wins, 0.9
        Case { tenant: "t2", given_type: Some("SETTLEMENT_FAIL"), payload: json!({ "amount": 20_000_000 }),
            expected_type: "SETTLEMENT_FAIL", expected_given: true, expected_severity: Critical, expected_source: rule("sf-large"),
            expected_confidence: 0.9, expected_evidence: "rule sf-medium matched (HIGH)" },
        Case { tenant: "t2", given_type: Some("SETTLEMENT_FAIL"), payload: json!({ "amount": "2000000" }),
            expected_type: "SETTLEMENT_FAIL", expected_given: true, expected_severity: High, expected_source: rule("sf-medium"),
            expected_confidence: 0.9, expected_evidence: "rule sf-medium matched (HIGH)" },
        // rule without conditions always matches
        Case { tenant: "t2", given_type: Some("MISSING_SSI"), payload: json!({}),
            expected_type: "MISSING_SSI", expected_given: true, expected_severity: Low, expected_source: rule("ssi-any"),
            expected_confidence: 0.9, expected_evidence: "rule ssi-any matched (LOW)" },
        // tenant override beats the name hint (and would beat rules)
        Case { tenant: "t1", given_type: Some("PRICE_MISMATCH"), payload: json!({}),
            expected_type: "PRICE_MISMATCH", expected_given: true, expected_severity: High, expected_source: TenantOverride,
            expected_confidence: 0.9, expected_evidence: "tenant override HIGH" },
        // name hints, type given, no rule: 0.8
        Case { tenant: "t2", given_type: Some("PRICE_MISMATCH"), payload: json!({}),
            expected_type: "PRICE_MISMATCH", expected_given: true, expected_severity: Low, expected_source: NameHint,
            expected_confidence: 0.8, expected_evidence: "type name hints LOW" },
        Case { tenant: "t2", given_type: Some("SETTLEMENT_FAIL"), payload: json!({ "amount": 5 }),
            expected_type: "SETTLEMENT_FAIL", expected_given: true, expected_severity: High, expected_source: NameHint,
            expected_confidence: 0.8, expected_evidence: "type name hints HIGH" },
        Case { tenant: "t2", given_type: Some("TRADE_BREAK"), payload: json!({}),
            expected_type: "TRADE_BREAK", expected_given: true, expected_severity: Critical, expected_source: NameHint,
            expected_confidence: 0.8, expected_evidence: "type name hints CRITICAL" },
        Case { tenant: "t2", given_type: Some("HIGH_LOW_CRITICAL"), payload: json!({}),
            expected_type: "HIGH_LOW_CRITICAL", expected_given: true, expected_severity: Critical, expected_source: NameHint,
            expected_confidence: 0.8, expected_evidence: "type name hints CRITICAL" },
        // default MEDIUM; leading ':' and blanks stripped
        Case { tenant: "t2", given_type: Some(" :custom_thing "), payload: json!({}),
            expected_type: "custom_thing", expected_given: true, expected_severity: Medium, expected_source: Default,
            expected_confidence: 0.8, expected_evidence: "default MEDIUM" },
        Case { tenant: "t2", given_type: Some("::SETTLEMENT_FAIL"), payload: json!({ "amount": 1_000_000 }),
            expected_type: "SETTLEMENT_FAIL", expected_given: true, expected_severity: High, expected_source: rule("sf-medium"),
            expected_confidence: 0.9, expected_evidence: "type given by source" },
        // a given type takes the domain's spelling
        Case { tenant: "t2", given_type: Some("missing_ssi"), payload: json!({}),
            expected_type: "MISSING_SSI", expected_given: true, expected_severity: Low, expected_source: rule("ssi-any"),
            expected_confidence: 0.9, expected_evidence: "type given by source" },
        // inferred by error code (case-insensitive), rule matched: 0.85
        Case { tenant: "t2", given_type: None, payload: json!({ "errorCode": "csd_reject", "amount": 20_000_000 }),
            expected_type: "SETTLEMENT_FAIL", expected_given: false, expected_severity: Critical, expected_source: rule("sf-large"),
            expected_confidence: 0.85, expected_evidence: "errorCode csd_reject matched SETTLEMENT_FAIL" },
        Case { tenant: "t2", given_type: Some(""), payload: json!({ "error_code": "SSI_MISSING" }),
            expected_type: "MISSING_SSI", expected_given: false, expected_severity: Low, expected_source: rule("ssi-any"),
            expected_confidence: 0.85, expected_evidence: "errorCode SSI_MISSING matched MISSING_SSI" },
        // inferred by keyword; tenant override counts as a rule: 0.85
        Case { tenant: "t1", given_type: None, payload: json!({ "errorCode": "ZZZ", "error": "Price differs from vendor" }),
            expected_type: "PRICE_MISMATCH", expected_given: false, expected_severity: High, expected_source: TenantOverride,
            expected_confidence: 0.85, expected_evidence: "keyword 'price differs' in error text matched PRICE_MISMATCH" },
        // inferred by keyword, no rule: 0.7
        Case { tenant: "t2", given_type: None, payload: json!({ "errorMessage": "UNMATCHED against broker" }),
            expected_type: "TRADE_BREAK", expected_given: false, expected_severity: Critical, expected_source: NameHint,
            expected_confidence: 0.7, expected_evidence: "keyword 'unmatched' in error text matched TRADE_BREAK" },
        // nothing identifies it: UNKNOWN, MEDIUM, 0.7
        Case { tenant: "t2", given_type: Some("  :  "), payload: json!({ "error": "something odd" }),
            expected_type: "UNKNOWN", expected_given: false, expected_severity: Medium, expected_source: Default,
            expected_confidence: 0.7, expected_evidence: "UNKNOWN" },
        Case { tenant: "t2", given_type: None, payload: json!("not even an object"),
            expected_type: "UNKNOWN", expected_given: false, expected_severity: Medium, expected_source: Default,
            expected_confidence: 0.7, expected_evidence: "default MEDIUM" },
    ]
}

#[test]
fn triage_rule_table_case_by_case() {
    let packs = fixture_packs();
    for case in cases() {
        // Arrange
        let tenant = packs.tenant(case.tenant).expect("fixture tenant");
        let domain = packs.domain_of(tenant);
        let input = TriageInput {
            exception_type: case.given_type,
            payload: &case.payload,
        };
        let described = format!("{:?} {} ({})", case.given_type, case.payload, case.tenant);

        // Act
        let decision = triage(domain, tenant, &input);

        // Assert
        assert_eq!(decision.exception_type, case.expected_type, "{described}");
        assert_eq!(decision.type_was_given, case.expected_given, "{described}");
        assert_eq!(decision.severity, case.expected_severity, "{described}");
        assert_eq!(
            decision.severity_source, case.expected_source,
            "{described}"
        );
        assert_eq!(decision.confidence, case.expected_confidence, "{described}");
        assert!(
            decision
                .evidence
                .iter()
                .any(|line| line.contains(case.expected_evidence)),
            "{described}: {:?}",
            decision.evidence
        );
    }
}

#[test]
fn sla_deadline_per_severity_with_tenant_targets_and_defaults() {
    // Arrange: t1 sets CRITICAL to 60 minutes; the rest are defaults.
    let packs = fixture_packs();
    let tenant = packs.tenant("t1").expect("fixture tenant");
    let created_at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    let cases = [
        (
            Severity::Critical,
            Utc.with_ymd_and_hms(2025, 3, 1, 13, 0, 0).unwrap(),
        ),
        (
            Severity::High,
            Utc.with_ymd_and_hms(2025, 3, 1, 20, 0, 0).unwrap(),
        ),
        (
            Severity::Medium,
            Utc.with_ymd_and_hms(2025, 3, 2, 12, 0, 0).unwrap(),
        ),
        (
            Severity::Low,
            Utc.with_ymd_and_hms(2025, 3, 4, 12, 0, 0).unwrap(),
        ),
    ];
    for (severity, expected) in cases {
        // Act
        let deadline = sla_deadline(tenant, severity, created_at);

        // Assert
        assert_eq!(deadline, expected, "{severity}");
    }
}

#[test]
fn sla_deadline_defaults_critical_to_two_hours() {
    // Arrange
    let packs = fixture_packs();
    let tenant = packs.tenant("t2").expect("fixture tenant");
    let created_at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();

    // Act
    let deadline = sla_deadline(tenant, Severity::Critical, created_at);

    // Assert
    assert_eq!(
        deadline,
        Utc.with_ymd_and_hms(2025, 3, 1, 14, 0, 0).unwrap()
    );
}

#[test]
fn clean_type_name_strips_blanks_and_leading_colons() {
    let cases = [
        (" :A ", "A"),
        ("::A", "A"),
        ("A:B", "A:B"),
        (" : ", ""),
        ("", ""),
    ];
    for (raw, expected) in cases {
        assert_eq!(clean_type_name(raw), expected, "{raw:?}");
    }
}
