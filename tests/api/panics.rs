//! A panicking role call is isolated: it is counted, retried up to MAX_ATTEMPTS, dead-lettered
//! with its reason, and the events behind it on the same partition are still processed.

use std::sync::Arc;

use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use exception_worker::store::dead_letters;
use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{
    ids_on_partition, on_both_backends, partition_of, wait_until, Backend, Setup, TestDb, ACME,
};

on_both_backends!(a_panicking_handler_is_counted_and_its_partition_moves_on);

/// Panics inside intake's attempt for payloads marked `"panic": true`.
struct PanicOnMark;

impl FaultHook for PanicOnMark {
    fn before_effect(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault> {
        if role == RoleName::Intake && envelope.payload.get("panic") == Some(&Value::Bool(true)) {
            panic!("boom: a role call panicked on purpose");
        }
        Ok(())
    }

    fn after_commit(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }
}

async fn a_panicking_handler_is_counted_and_its_partition_moves_on(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: one panicking exception followed by three on the same partition and handler.
    let app = Setup::new(&test_db)
        .env("CONCURRENCY", "1")
        .env("MAX_ATTEMPTS", "2")
        .env("RETRY_BACKOFF_BASE_MS", "1")
        .env("RETRY_BACKOFF_MAX_MS", "5")
        .faults(Arc::new(PanicOnMark))
        .spawn()
        .await;
    let ids = ids_on_partition(ACME, "PANIC", 1, 4);
    let (panicking, followers) = ids.split_first().expect("four ids");
    let mut payloads =
        vec![json!({"exceptionId": panicking, "exceptionType": "TRADE_BREAK", "panic": true})];
    payloads.extend(
        followers
            .iter()
            .map(|id| json!({"exceptionId": id, "exceptionType": "TRADE_BREAK"})),
    );

    // Act
    let accepted = app.ingest(ACME, &payloads).await;
    app.wait_for_processed("policy", followers.len() as i64)
        .await;
    wait_until("the panicking event is dead-lettered", async || {
        !dead_letters::list(&app.db, 10)
            .await
            .expect("dead letters")
            .is_empty()
    })
    .await;

    // Assert
    let letters = dead_letters::list(&app.db, 10).await.expect("dead letters");
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter.role, "intake");
    assert_eq!(letter.topic, "exceptions.ingested");
    assert_eq!(letter.partition as usize, partition_of(ACME, panicking));
    assert_eq!(
        letter.event_id.as_deref(),
        Some(accepted[0].event_id.as_str())
    );
    assert!(letter.reason.contains("panicked"), "{}", letter.reason);
    assert!(letter.reason.contains("boom"), "{}", letter.reason);
    assert_eq!(letter.attempts, 2);
    let panics = app.metric("handler_panics_total", &[("role", "intake")]);
    assert_eq!(panics, 2.0, "each attempt's panic is counted");
    let rows = "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id = $1";
    assert_eq!(
        count(&app.db, rows, vec![panicking.as_str().into()]).await,
        0
    );
    for follower in followers {
        let values = vec![follower.as_str().into()];
        assert_eq!(count(&app.db, rows, values).await, 1, "{follower}");
    }
    let dlq = "SELECT COUNT(*) AS n FROM events WHERE event_type = 'DeadLettered'";
    assert_eq!(count(&app.db, dlq, vec![]).await, 1);

    app.app.shutdown().await;
}
