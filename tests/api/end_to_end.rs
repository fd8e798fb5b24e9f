//! One exception over HTTP, from POST to a policy decision, with its timeline and no PII at rest.

use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{on_both_backends, spawn_app, wait_until, Backend, TestDb, ACME_KEY};

on_both_backends!(a_settlement_fail_flows_from_the_api_through_policy);

const ACCOUNT_NUMBER: &str = "DE-ACCT-99887766";

async fn a_settlement_fail_flows_from_the_api_through_policy(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_app(&test_db).await;
    let body = json!({
        "exceptionId": "E2E-1",
        "exceptionType": "SETTLEMENT_FAIL",
        "sourceSystem": "MUREX",
        "errorCode": "LACK",
        "amount": 2_500_000,
        "currency": "USD",
        "accountNumber": ACCOUNT_NUMBER,
    });

    // Act
    let response = app.post_exception(Some(ACME_KEY), &body.to_string()).await;

    // Assert
    assert_eq!(response.status().as_u16(), 202);
    let accepted: Value = response.json().await.expect("a JSON body");
    assert_eq!(accepted["exception_id"], "E2E-1");
    let event_id = accepted["event_id"].as_str().expect("an event_id");
    assert!(uuid::Uuid::parse_str(event_id).is_ok(), "{event_id}");

    let mut shown = Value::Null;
    wait_until("the exception shows a policy decision", async || {
        let response = app.get_exception(Some(ACME_KEY), "E2E-1").await;
        if response.status().as_u16() != 200 {
            return false;
        }
        shown = response.json().await.expect("a JSON body");
        !shown["policy_decision"].is_null()
    })
    .await;
    assert_eq!(shown["exception_id"], "E2E-1");
    assert_eq!(shown["tenant_id"], "acme-capital");
    assert_eq!(shown["exception_type"], "SETTLEMENT_FAIL");
    assert!(shown["severity"].is_string(), "{shown:#}");
    assert!(shown["sla_deadline"].is_string(), "{shown:#}");
    let status = shown["status"].as_str().expect("a status");
    assert!(
        shown["playbook_id"].is_string() || status == "escalated",
        "neither a playbook nor an escalation: {shown:#}"
    );
    let types: Vec<&str> = shown["events"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|event| event["event_type"].as_str().expect("an event_type"))
        .collect();
    let expected = [
        "ExceptionIngested",
        "ExceptionNormalized",
        "TriageCompleted",
        "PolicyEvaluationCompleted",
    ];
    let positions: Vec<usize> = expected
        .iter()
        .map(|wanted| {
            types
                .iter()
                .position(|found| found == wanted)
                .unwrap_or_else(|| panic!("{wanted} missing from the timeline {types:?}"))
        })
        .collect();
    assert!(positions.is_sorted(), "timeline out of order: {types:?}");
    assert_eq!(shown["events"][0]["event_id"], event_id);

    let db = &app.db;
    let with_pii = "SELECT COUNT(*) AS n FROM events WHERE envelope LIKE $1";
    let leaked = count(db, with_pii, vec![format!("%{ACCOUNT_NUMBER}%").into()]).await;
    assert_eq!(leaked, 0, "the account number was stored in an event");
    let redacted = count(
        db,
        with_pii,
        vec![r#"%"accountNumber":"[REDACTED]"%"#.into()],
    )
    .await;
    assert_eq!(
        redacted, 1,
        "the ingested event keeps the PII key, redacted, and no later event repeats the payload"
    );
    let kept = "SELECT COUNT(*) AS n FROM exceptions WHERE raw_payload LIKE $1";
    let redacted_row = count(db, kept, vec![r#"%"accountNumber":"[REDACTED]"%"#.into()]).await;
    assert_eq!(redacted_row, 1, "the row keeps the payload once, redacted");
    let raw =
        "SELECT COUNT(*) AS n FROM exceptions WHERE raw_payload LIKE $1 OR normalized LIKE $2";
    let pattern = format!("%{ACCOUNT_NUMBER}%");
    let leaked_in_row = count(db, raw, vec![pattern.clone().into(), pattern.into()]).await;
    assert_eq!(leaked_in_row, 0, "the account number was stored in the row");

    app.app.shutdown().await;
}
