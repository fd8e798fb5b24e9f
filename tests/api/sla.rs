//! The SLA monitor with an injected clock, driven by CheckNow: SLAImminent once past 80% of the
//! window, SLAExpired and ExceptionEscalated once past the deadline, never again on later
//! checks, after a restart, or from a second monitor; a resolved exception is never flagged.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use chrono::{DateTime, Utc};
use exception_worker::clock::ManualClock;
use exception_worker::config::SlaSettings;
use exception_worker::metrics::Metrics;
use exception_worker::runtime::Runtime;
use exception_worker::sla_monitor::{CheckNow, CheckReport, SlaMonitor, StopMonitor};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use test_support::readers::statement;
use test_support::{on_all_backends, Backend, Setup, TestApp, TestDb};

use crate::flow::{event_count, post, status, wait_for_status, wait_for_step, ALL_ROLES};

on_all_backends!(
    sla_flags_are_emitted_once_across_checks_and_a_restart,
    two_monitors_checking_at_once_never_both_emit,
    monitors_that_both_hold_the_lease_still_flag_once,
);

/// acme-capital's CRITICAL target.
const WINDOW_MINUTES: i64 = 60;
const INTERVAL_SECS: u64 = 3600;

async fn spawn(db: &TestDb, clock: &Arc<ManualClock>) -> TestApp {
    Setup::new(db)
        .roles(Some(ALL_ROLES))
        .env("SLA_CHECK_INTERVAL_SECS", &INTERVAL_SECS.to_string())
        .clock(clock.clone())
        .spawn()
        .await
}

async fn check(monitor: &Addr<SlaMonitor>) -> CheckReport {
    monitor
        .send(CheckNow)
        .await
        .expect("the monitor is running")
        .expect("the check succeeds")
}

fn report(leader: bool, imminent: usize, breached: usize) -> CheckReport {
    CheckReport {
        leader,
        imminent,
        breached,
    }
}

/// (created_at, sla_deadline, sla_imminent_at, sla_breached_at) of the exception.
type SlaRow = (
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

async fn sla_row(db: &DatabaseConnection, id: &str) -> SlaRow {
    let sql = "SELECT created_at, sla_deadline, sla_imminent_at, sla_breached_at FROM exceptions \
               WHERE exception_id = $1";
    let row = db
        .query_one_raw(statement(db, sql, vec![id.into()]))
        .await
        .expect("Failed to read the exception")
        .expect("the exception exists");
    (
        row.try_get("", "created_at").unwrap(),
        row.try_get("", "sla_deadline").unwrap(),
        row.try_get("", "sla_imminent_at").unwrap(),
        row.try_get("", "sla_breached_at").unwrap(),
    )
}

/// A critical settlement fail that waits for a person, so it stays unresolved.
async fn post_waiting(app: &TestApp, id: &str) {
    post(
        app,
        json!({"exceptionId": id, "exceptionType": "SETTLEMENT_FAIL", "amount": 25_000_000, "currency": "USD"}),
    )
    .await;
    wait_for_step(app, id, 3, "waiting_person").await;
}

/// (SLAImminent, SLAExpired, ExceptionEscalated by the monitor) about `id`.
async fn sla_events(db: &DatabaseConnection, id: &str) -> (i64, i64, i64) {
    let sql = "SELECT COUNT(*) AS n FROM events WHERE event_type = 'ExceptionEscalated' \
               AND exception_id = $1 AND envelope LIKE '%sla_monitor%'";
    (
        event_count(db, "SLAImminent", Some(id)).await,
        event_count(db, "SLAExpired", Some(id)).await,
        test_support::readers::count(db, sql, vec![id.into()]).await,
    )
}

async fn sla_flags_are_emitted_once_across_checks_and_a_restart(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: one exception waiting for a person, one resolved.
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = spawn(&test_db, &clock).await;
    post_waiting(&app, "SLA-OPEN").await;
    post(
        &app,
        json!({"exceptionId": "SLA-DONE", "exceptionType": "PRICE_MISMATCH", "priceDiffBps": 12, "currency": "GBP"}),
    )
    .await;
    wait_for_status(&app, "SLA-DONE", "resolved").await;
    let (created_at, deadline, imminent_at, _) = sla_row(&app.db, "SLA-OPEN").await;
    assert_eq!(
        deadline,
        Some(created_at + chrono::Duration::minutes(WINDOW_MINUTES))
    );
    assert_eq!(imminent_at, None);
    let monitor = app
        .app
        .current_sla_monitor()
        .await
        .expect("the monitor runs with --roles all");

    // Act + Assert: 49 of 60 minutes used -> imminent, once.
    clock.advance(chrono::Duration::minutes(49));
    assert_eq!(check(&monitor).await, report(true, 1, 0));
    assert!(sla_row(&app.db, "SLA-OPEN").await.2.is_some());
    assert_eq!(status(&app.db, "SLA-OPEN").await, "in_progress");
    assert_eq!(check(&monitor).await, report(true, 0, 0));
    assert_eq!(sla_events(&app.db, "SLA-OPEN").await, (1, 0, 0));

    // Past the deadline -> expired and escalated, once.
    clock.advance(chrono::Duration::minutes(12));
    assert_eq!(check(&monitor).await, report(true, 0, 1));
    assert!(sla_row(&app.db, "SLA-OPEN").await.3.is_some());
    assert_eq!(status(&app.db, "SLA-OPEN").await, "escalated");
    assert_eq!(check(&monitor).await, report(true, 0, 0));
    assert_eq!(sla_events(&app.db, "SLA-OPEN").await, (1, 1, 1));

    // A restart on the same database: the new monitor, once it holds the lease, adds nothing,
    // even past the resolved exception's own deadline.
    app.app.shutdown().await;
    let restarted = spawn(&test_db, &clock).await;
    clock.advance(chrono::Duration::hours(25));
    let monitor = restarted
        .app
        .current_sla_monitor()
        .await
        .expect("a monitor");
    assert_eq!(check(&monitor).await, report(true, 0, 0));
    assert_eq!(sla_events(&restarted.db, "SLA-OPEN").await, (1, 1, 1));
    assert_eq!(sla_events(&restarted.db, "SLA-DONE").await, (0, 0, 0));
    let (_, _, done_imminent, done_breached) = sla_row(&restarted.db, "SLA-DONE").await;
    assert_eq!((done_imminent, done_breached), (None, None));
    assert_eq!(status(&restarted.db, "SLA-DONE").await, "resolved");

    restarted.app.shutdown().await;
}

/// A monitor outside any app, as another replica would run it.
fn start_monitor(app: &TestApp, clock: &Arc<ManualClock>, holder: &str) -> Addr<SlaMonitor> {
    let settings = SlaSettings {
        check_interval: Duration::from_secs(INTERVAL_SECS),
        imminent_threshold: 0.8,
    };
    let replica = Runtime {
        clock: clock.clone(),
        metrics: Metrics::new().expect("metrics"),
        ..app.app.runtime.clone()
    };
    SlaMonitor::new(&replica, holder.to_owned(), settings).start()
}

async fn two_monitors_checking_at_once_never_both_emit(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: the app's monitor and a second one (another replica) on the same database.
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = spawn(&test_db, &clock).await;
    let first = app
        .app
        .current_sla_monitor()
        .await
        .expect("the app's monitor");
    let second = start_monitor(&app, &clock, "second-replica");
    post_waiting(&app, "SLA-TWO").await;

    // Act: both check at once, at 49 minutes and then past the deadline (and past the lease).
    let mut reports = Vec::new();
    for advance in [chrono::Duration::minutes(49), chrono::Duration::hours(4)] {
        clock.advance(advance);
        let (a, b) = futures::join!(check(&first), check(&second));
        reports.push((a, b));
    }
    // Then the second alone, once the lease has expired again: it leads and adds nothing.
    clock.advance(chrono::Duration::hours(4));
    let second_alone = check(&second).await;
    let first_after = check(&first).await;

    // Assert: one leader per round; each flag emitted exactly once in all.
    for (round, (a, b)) in reports.iter().enumerate() {
        assert!(a.leader != b.leader, "round {round}: {a:?} {b:?}");
    }
    let imminent: usize = reports.iter().map(|(a, b)| a.imminent + b.imminent).sum();
    let breached: usize = reports.iter().map(|(a, b)| a.breached + b.breached).sum();
    assert_eq!((imminent, breached), (1, 1));
    assert_eq!(second_alone, report(true, 0, 0));
    assert_eq!(first_after, report(false, 0, 0));
    assert_eq!(sla_events(&app.db, "SLA-TWO").await, (1, 1, 1));
    assert_eq!(event_count(&app.db, "SLAImminent", None).await, 1);
    assert_eq!(event_count(&app.db, "SLAExpired", None).await, 1);
    assert_eq!(status(&app.db, "SLA-TWO").await, "escalated");

    second
        .send(StopMonitor)
        .await
        .expect("the second monitor stops");
    app.app.shutdown().await;
}

async fn monitors_that_both_hold_the_lease_still_flag_once(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: no monitor in the app; two monitors under one holder name, so the lease does
    // not keep them apart and only the flags on the row can.
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let roles = "intake,triage,policy,playbook,tool,feedback";
    let app = Setup::new(&test_db)
        .roles(Some(roles))
        .clock(clock.clone())
        .spawn()
        .await;
    let monitors = [
        start_monitor(&app, &clock, "split-brain"),
        start_monitor(&app, &clock, "split-brain"),
    ];
    post_waiting(&app, "SLA-SPLIT").await;

    // Act: both check at once, past 80% and then past the deadline.
    let mut reports = Vec::new();
    for advance in [chrono::Duration::minutes(49), chrono::Duration::minutes(12)] {
        clock.advance(advance);
        let (a, b) = futures::join!(check(&monitors[0]), check(&monitors[1]));
        reports.push((a, b));
    }

    // Assert: both led every round, yet each flag was set and emitted once.
    assert!(
        reports.iter().all(|(a, b)| a.leader && b.leader),
        "{reports:?}"
    );
    let imminent: usize = reports.iter().map(|(a, b)| a.imminent + b.imminent).sum();
    let breached: usize = reports.iter().map(|(a, b)| a.breached + b.breached).sum();
    assert_eq!((imminent, breached), (1, 1), "{reports:?}");
    assert_eq!(sla_events(&app.db, "SLA-SPLIT").await, (1, 1, 1));
    assert_eq!(status(&app.db, "SLA-SPLIT").await, "escalated");

    for monitor in monitors {
        monitor.send(StopMonitor).await.expect("the monitor stops");
    }
    app.app.shutdown().await;
}
