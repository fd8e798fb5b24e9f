//! Supervision of the overseer's maintenance children: an SLA monitor, outbox sweeper (Kafka
//! only), retention task or heartbeat that stops is restarted and works again; past the restart
//! budget the process is marked failed and liveness says so.

use exception_worker::maintenance::MaintenanceChild;
use exception_worker::sla_monitor::CheckNow;
use test_support::{on_all_backends, wait_until, Backend, Setup, TestApp, TestDb};

use crate::flow::ALL_ROLES;

on_all_backends!(stopped_maintenance_children_are_restarted_until_the_budget_runs_out);

const RESTART_LIMIT: u32 = 5;

fn restarts(app: &TestApp, child: MaintenanceChild) -> f64 {
    app.metric(
        "actor_restarts_total",
        &[("role", "maintenance"), ("kind", child.as_str())],
    )
}

/// Stops `child` and waits for the overseer to start it again.
async fn crash_and_see_restarted(app: &TestApp, child: MaintenanceChild) {
    let before = restarts(app, child);
    assert!(
        app.app.stop_maintenance(child).await,
        "{child:?} runs in this process"
    );
    wait_until("the maintenance child is restarted", async || {
        restarts(app, child) == before + 1.0
    })
    .await;
}

async fn stopped_maintenance_children_are_restarted_until_the_budget_runs_out(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let kafka = test_db.kafka.is_some();
    let app = Setup::new(&test_db)
        .roles(Some(ALL_ROLES))
        .env("RESTART_LIMIT", &RESTART_LIMIT.to_string())
        .env("RESTART_WINDOW_SECS", "600")
        .spawn()
        .await;
    let first_monitor = app.app.current_sla_monitor().await.expect("a monitor");

    // Each child, stopped as a crash would: restarted within a second.
    for child in MaintenanceChild::ALL {
        if child == MaintenanceChild::Sweeper && !kafka {
            // The embedded bus has no outbox, so no sweeper runs.
            assert!(!app.app.stop_maintenance(child).await);
            continue;
        }
        crash_and_see_restarted(&app, child).await;
    }
    // The restarted SLA monitor is a new actor, and it checks.
    let monitor = app.app.current_sla_monitor().await.expect("a monitor");
    assert!(!first_monitor.connected() && monitor.connected());
    let report = monitor.send(CheckNow).await.expect("the monitor runs");
    assert!(report.is_ok(), "{report:?}");
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status().as_u16(),
        200,
        "within budget, the process is live"
    );
    assert_eq!(app.metric("role_failed", &[("role", "maintenance")]), 0.0);

    // Past the budget: the process is marked failed and liveness says so.
    let spent = if kafka { 4 } else { 3 };
    for _ in spent..RESTART_LIMIT {
        crash_and_see_restarted(&app, MaintenanceChild::Heartbeat).await;
    }
    assert!(app.app.stop_maintenance(MaintenanceChild::Heartbeat).await);
    wait_until("the maintenance children are marked failed", async || {
        app.metric("role_failed", &[("role", "maintenance")]) == 1.0
    })
    .await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 503);
    let body = health.text().await.expect("a body");
    assert!(
        body.contains("role maintenance failed")
            && body.contains("maintenance restarts within 600s"),
        "{body}"
    );
    app.app.shutdown().await;
}
