//! WORKER_TYPE and CONCURRENCY as the scaling guide sets them: one role, N handler actors.

use serde_json::json;
use test_support::readers::{metric_sum, processed_by};
use test_support::{on_both_backends, wait_until, Backend, Setup, TestDb, ACME};

on_both_backends!(worker_type_triage_runs_only_triage_with_four_handlers);

async fn worker_type_triage_runs_only_triage_with_four_handlers(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: an exception through intake only, waiting on exceptions.normalized.
    let intake = Setup::new(&test_db).roles(Some("intake")).spawn().await;
    let payload = [json!({"exceptionId": "WT-1", "exceptionType": "TRADE_BREAK"})];
    intake.ingest(ACME, &payload).await;
    intake.wait_for_processed("intake", 1).await;
    intake.app.shutdown().await;

    // Act
    let triage = Setup::new(&test_db)
        .roles(None)
        .env("WORKER_TYPE", "triage")
        .env("CONCURRENCY", "4")
        .spawn()
        .await;
    triage.wait_for_processed("triage", 1).await;
    let mut metrics = String::new();
    wait_until("triage owns its 4 partitions", async || {
        let response = triage.get("/metrics").await;
        assert_eq!(response.status().as_u16(), 200);
        metrics = response.text().await.expect("a metrics body");
        metric_sum(&metrics, "assigned_partitions", &[("role", "triage")]) == 4.0
    })
    .await;

    // Assert
    let lines: Vec<&str> = metrics.lines().collect();
    assert!(
        lines.contains(&r#"exception_worker_handler_actors{role="triage"} 4"#),
        "{metrics}"
    );
    for absent in ["intake", "policy"] {
        let series = format!(r#"{{role="{absent}"}}"#);
        assert!(
            !lines
                .iter()
                .any(|line| line.starts_with("exception_worker_handler_actors")
                    && line.contains(&series)),
            "{absent} has handlers: {metrics}"
        );
        let assigned = [("role", absent)];
        assert_eq!(metric_sum(&metrics, "assigned_partitions", &assigned), 0.0);
    }
    assert_eq!(processed_by(&triage.db, "policy").await, 0);

    triage.app.shutdown().await;
}
