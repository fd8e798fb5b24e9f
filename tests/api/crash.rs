//! A crash between the effect and the acknowledgement: the event comes again, and its second
//! run is a counted duplicate that changes nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use serde_json::json;
use test_support::readers::{count, processed_by, row_counts};
use test_support::{on_both_backends, wait_until, Backend, Setup, TestDb, ACME, PIPELINE_ROLES};

on_both_backends!(
    a_failure_after_the_commit_is_retried_as_a_duplicate,
    a_crash_before_any_offset_commit_redelivers_without_duplicating
);

/// Fails the acknowledgement of intake's first commit for one exception, once.
struct LoseOneAcknowledgement {
    exception_id: &'static str,
    fired: AtomicBool,
}

impl FaultHook for LoseOneAcknowledgement {
    fn before_effect(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }

    fn after_commit(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault> {
        let targeted =
            role == RoleName::Intake && envelope.exception_id.as_deref() == Some(self.exception_id);
        if targeted && !self.fired.swap(true, Ordering::SeqCst) {
            return Err("simulated crash between the commit and the acknowledgement".into());
        }
        Ok(())
    }
}

async fn a_failure_after_the_commit_is_retried_as_a_duplicate(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let hook = Arc::new(LoseOneAcknowledgement {
        exception_id: "ACK-LOST-1",
        fired: AtomicBool::new(false),
    });
    let app = Setup::new(&test_db).faults(hook.clone()).spawn().await;
    let payloads = [
        json!({"exceptionId": "ACK-LOST-1", "exceptionType": "SETTLEMENT_FAIL"}),
        json!({"exceptionId": "ACK-KEPT-2", "exceptionType": "SETTLEMENT_FAIL"}),
    ];

    // Act
    app.ingest(ACME, &payloads).await;
    app.wait_for_processed("policy", 2).await;
    wait_until("intake counted the duplicate", async || {
        app.duplicates("intake") == 1.0
    })
    .await;

    // Assert
    assert!(hook.fired.load(Ordering::SeqCst), "the fault never fired");
    let db = &app.db;
    let rows = "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id = $1";
    assert_eq!(count(db, rows, vec!["ACK-LOST-1".into()]).await, 1);
    let by_type = "SELECT COUNT(*) AS n FROM events WHERE exception_id = $1 AND event_type = $2";
    for event_type in ["ExceptionNormalized", "TriageCompleted"] {
        let values = vec!["ACK-LOST-1".into(), event_type.into()];
        assert_eq!(count(db, by_type, values).await, 1, "{event_type}");
    }
    let retries = app.metric(
        "handler_retries_total",
        &[("role", "intake"), ("class", "transient")],
    );
    assert_eq!(retries, 1.0);
    assert_eq!(processed_by(db, "intake").await, 2);

    app.app.shutdown().await;
}

const EXCEPTIONS: usize = 5;

async fn a_crash_before_any_offset_commit_redelivers_without_duplicating(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: effects done, offsets never committed (the periodic commit is an hour away).
    let first = Setup::new(&test_db)
        .env("COMMIT_INTERVAL_MS", "3600000")
        .spawn()
        .await;
    let payloads: Vec<_> = (0..EXCEPTIONS)
        .map(|n| json!({"exceptionId": format!("CRASH-{n}"), "exceptionType": "TRADE_BREAK"}))
        .collect();
    first.ingest(ACME, &payloads).await;
    for role in PIPELINE_ROLES {
        first.wait_for_processed(role, EXCEPTIONS as i64).await;
    }

    // Act
    first.app.crash().await;
    let committed = count(
        &first.db,
        "SELECT COUNT(*) AS n FROM consumer_offsets",
        vec![],
    )
    .await;
    assert_eq!(committed, 0, "a crash must not commit offsets");
    let before = row_counts(&first.db).await;
    let second = Setup::new(&test_db).spawn().await;
    second.wait_for_duplicates(EXCEPTIONS as f64).await;

    // Assert
    assert_eq!(before.exceptions, EXCEPTIONS as i64);
    assert_eq!(row_counts(&second.db).await, before);
    for role in PIPELINE_ROLES {
        let labels = [("role", role), ("outcome", "processed")];
        assert_eq!(second.metric("events_processed_total", &labels), 0.0);
    }

    second.app.shutdown().await;
}
