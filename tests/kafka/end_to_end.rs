//! One exception over HTTP through intake, triage and policy on Kafka and Postgres.

use std::time::Duration;

use exception_worker::app::AppOptions;
use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{wait_for, Cluster, ACME_KEY};

const LIMIT: Duration = Duration::from_secs(60);

#[actix_rt::test]
async fn intake_triage_policy_end_to_end() {
    let Some(cluster) = Cluster::start("e2e").await else {
        return;
    };
    // Arrange
    let app = cluster.spawn_app("all", AppOptions::default()).await;
    let body = json!({
        "exceptionId": "KAFKA-E2E-1",
        "exceptionType": "SETTLEMENT_FAIL",
        "sourceSystem": "MUREX",
        "errorCode": "LACK",
    });

    // Act
    let response = app.post_exception(Some(ACME_KEY), &body.to_string()).await;

    // Assert
    assert_eq!(response.status().as_u16(), 202);
    let mut shown = Value::Null;
    wait_for("the exception shows a policy decision", LIMIT, async || {
        let response = app.get_exception(Some(ACME_KEY), "KAFKA-E2E-1").await;
        if response.status().as_u16() != 200 {
            return false;
        }
        shown = response.json().await.expect("a JSON body");
        !shown["policy_decision"].is_null()
    })
    .await;
    assert_eq!(shown["tenant_id"], "acme-capital");
    assert!(shown["severity"].is_string(), "{shown:#}");
    assert!(shown["sla_deadline"].is_string(), "{shown:#}");
    let types: Vec<&str> = shown["events"]
        .as_array()
        .expect("a timeline")
        .iter()
        .filter_map(|event| event["event_type"].as_str())
        .collect();
    for wanted in [
        "ExceptionIngested",
        "ExceptionNormalized",
        "TriageCompleted",
        "PolicyEvaluationCompleted",
    ] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    let unpublished = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";
    wait_for("the outbox backlog is 0", LIMIT, async || {
        count(&app.db, unpublished, vec![]).await == 0 && app.metric("outbox_backlog", &[]) == 0.0
    })
    .await;
    for role in ["intake", "triage", "policy"] {
        let groups = format!("{}.{role}", cluster.group);
        assert!(
            app.metric("rebalances_total", &[("role", role), ("kind", "assign")]) >= 1.0,
            "{role} (group {groups}) was never assigned partitions"
        );
    }

    app.app.shutdown().await;
}
