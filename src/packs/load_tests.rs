//! Loading tests: the shipped `config/` loads cleanly, and broken packs report every problem
//! at once with its file and place.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::model::Severity;

/// `config/` of the crate, found from this file's path (works from the crate and scratch builds).
fn shipped_config_dir() -> PathBuf {
    let repository = Path::new(file!())
        .ancestors()
        .nth(3)
        .unwrap_or(Path::new(""));
    repository.join("config")
}

#[test]
fn shipped_config_loads_cleanly() {
    // Arrange
    let dir = shipped_config_dir();

    // Act
    let loaded = Packs::load(&dir);

    // Assert
    let packs = match loaded {
        Ok(packs) => packs,
        Err(errors) => panic!("shipped config must load:\n{errors}"),
    };
    assert_eq!(
        packs.tenant_ids().collect::<Vec<_>>(),
        ["acme-capital", "globex-markets"]
    );
    let domain = packs
        .domain("capital_markets")
        .expect("capital_markets domain");
    assert!(domain.exception_types.len() >= 8);
    for tenant_id in ["acme-capital", "globex-markets"] {
        let tenant = packs.tenant(tenant_id).expect("tenant");
        assert_eq!(packs.domain_of(tenant).name, "capital_markets");
    }
}

#[test]
fn shipped_demo_keys_find_their_tenants_in_constant_time_lookup() {
    // Arrange
    let packs = Packs::load(&shipped_config_dir()).expect("shipped config");
    let cases = [
        ("acme-demo-key", Some("acme-capital")),
        ("globex-demo-key", Some("globex-markets")),
        ("acme-demo-key ", None),
        ("", None),
    ];
    for (presented, expected) in cases {
        // Act
        let tenant = packs.tenant_for_api_key(presented);

        // Assert
        assert_eq!(
            tenant.map(|t| t.tenant_id.as_str()),
            expected,
            "{presented:?}"
        );
    }
}

#[test]
fn pii_keys_are_the_lowercased_union_of_domain_and_tenant() {
    // Arrange
    let packs = Packs::load(&shipped_config_dir()).expect("shipped config");
    let acme = packs.tenant("acme-capital").expect("acme");
    let mut payload =
        json!({ "AccountNumber": "1", "portfolioManager": "x", "introducingBrokerContact": "y" });

    // Act
    let keys = packs.pii_keys(acme);
    let count = redact(&mut payload, keys);

    // Assert
    assert!(keys.contains("accountnumber") && keys.contains("portfoliomanager"));
    assert!(!keys.contains("introducingbrokercontact"));
    assert_eq!(count, 2);
}

#[test]
fn shipped_rules_triage_and_route_a_large_settlement_fail() {
    // Arrange
    let packs = Packs::load(&shipped_config_dir()).expect("shipped config");
    let tenant = packs.tenant("globex-markets").expect("globex");
    let domain = packs.domain_of(tenant);
    let payload = json!({ "errorCode": "LACK", "amount": 25_000_000, "currency": "USD" });

    // Act
    let triaged = triage(
        domain,
        tenant,
        &TriageInput {
            exception_type: None,
            payload: &payload,
        },
    );
    let now = chrono::Utc::now();
    let policy = evaluate_policy(
        domain,
        tenant,
        &PolicyInput {
            exception_type: &triaged.exception_type,
            severity: triaged.severity,
            confidence: triaged.confidence,
            sla_deadline: Some(sla_deadline(tenant, triaged.severity, now)),
            now,
        },
    );

    // Assert
    assert_eq!(triaged.exception_type, "SETTLEMENT_FAIL");
    assert_eq!(triaged.severity, Severity::Critical);
    assert_eq!(policy.decision_label(), "approval_required");
    let playbook = packs
        .find_playbook(tenant, "pb-settlement-fail-critical")
        .expect("playbook");
    let kinds: Vec<&StepKind> = playbook.steps.iter().map(|step| &step.kind).collect();
    assert!(kinds.contains(&&StepKind::Safe) && kinds.contains(&&StepKind::Risky));
    assert!(kinds
        .iter()
        .any(|kind| matches!(kind, StepKind::CallTool { .. })));
}
