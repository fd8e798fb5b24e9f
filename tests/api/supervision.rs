//! Supervision: a handler actor or a partition worker that stops is restarted by its
//! supervisor and work goes on; past the role's restart budget (RESTART_LIMIT within
//! RESTART_WINDOW_SECS) the role is marked failed and liveness says so.

use std::time::Duration;

use exception_worker::model::RoleName;
use exception_worker::overseer::ChildKind;
use serde_json::json;
use test_support::readers::processed_by;
use test_support::{on_both_backends, wait_until, Backend, Setup, TestApp, TestDb, ACME};

on_both_backends!(stopped_children_are_restarted_until_the_budget_runs_out);

const RESTART_LIMIT: u32 = 5;

async fn ingest_one(app: &TestApp, id: &str) {
    app.ingest(
        ACME,
        &[json!({"exceptionId": id, "exceptionType": "TRADE_BREAK"})],
    )
    .await;
}

fn restarts(app: &TestApp, role: &str, kind: &str) -> f64 {
    app.metric("actor_restarts_total", &[("role", role), ("kind", kind)])
}

/// Stops intake's only handler and lets it stop before the next record is routed to it.
async fn stop_intake_handler(app: &TestApp) {
    let stopped = app
        .app
        .stop_children(RoleName::Intake, ChildKind::Handler(0))
        .await;
    assert_eq!(stopped, 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn stopped_children_are_restarted_until_the_budget_runs_out(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let app = Setup::new(&test_db)
        .env("CONCURRENCY", "1")
        .env("RESTART_LIMIT", &RESTART_LIMIT.to_string())
        .env("RESTART_WINDOW_SECS", "600")
        .spawn()
        .await;
    ingest_one(&app, "SUP-0").await;
    app.wait_for_processed("policy", 1).await;

    // A handler actor: restarted when the next record reaches it, and the record is processed.
    stop_intake_handler(&app).await;
    ingest_one(&app, "SUP-1").await;
    app.wait_for_processed("policy", 2).await;
    assert_eq!(restarts(&app, "intake", "handler"), 1.0);

    // Every partition worker of a role: each restarted, and work goes on.
    let halted = app
        .app
        .stop_children(RoleName::Triage, ChildKind::PartitionWorkers)
        .await;
    assert!(
        halted > 0 && halted as u32 <= RESTART_LIMIT,
        "{halted} workers"
    );
    wait_until("every halted partition worker is restarted", async || {
        restarts(&app, "triage", "partition") == halted as f64
    })
    .await;
    ingest_one(&app, "SUP-2").await;
    app.wait_for_processed("policy", 3).await;
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status().as_u16(),
        200,
        "within budget, the process is live"
    );

    // Past the budget: intake is marked failed and liveness says so.
    for attempt in 0..RESTART_LIMIT {
        stop_intake_handler(&app).await;
        ingest_one(&app, &format!("SUP-OVER-{attempt}")).await;
        wait_until("the handler is restarted", async || {
            restarts(&app, "intake", "handler") >= f64::from(attempt + 2)
        })
        .await;
    }
    assert_eq!(app.metric("role_failed", &[("role", "intake")]), 1.0);
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 503);
    let body = health.text().await.expect("a body");
    assert!(
        body.contains("role intake failed") && body.contains("handler restarts within 600s"),
        "{body}"
    );
    assert_eq!(app.metric("role_failed", &[("role", "triage")]), 0.0);
    assert!(processed_by(&app.db, "intake").await >= 3);
    app.app.shutdown().await;
}
