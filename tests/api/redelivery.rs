//! Redelivery changes nothing: after a lost commit every event is read again, and the
//! idempotency claims turn each one into a counted duplicate with no effect.

use sea_orm::ConnectionTrait;
use serde_json::json;
use test_support::readers::{count, row_counts};
use test_support::{on_both_backends, spawn_app, Backend, TestDb, ACME, PIPELINE_ROLES};

on_both_backends!(redelivering_every_event_changes_nothing);

const EXCEPTIONS: usize = 6;

async fn redelivering_every_event_changes_nothing(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: a pipeline run to completion and shut down cleanly.
    let first = spawn_app(&test_db).await;
    let payloads: Vec<_> = (0..EXCEPTIONS)
        .map(|n| json!({"exceptionId": format!("RED-{n}"), "exceptionType": "SETTLEMENT_FAIL"}))
        .collect();
    first.ingest(ACME, &payloads).await;
    for role in PIPELINE_ROLES {
        first.wait_for_processed(role, EXCEPTIONS as i64).await;
    }
    first.app.shutdown().await;
    let reset = test_db.connect().await;
    let before = row_counts(&reset).await;
    assert_eq!(before.exceptions, EXCEPTIONS as i64);

    // Act: lose every commit, then start again on the same database.
    let committed = count(
        &reset,
        "SELECT COUNT(*) AS n FROM consumer_offsets WHERE next_offset > 0",
        vec![],
    )
    .await;
    assert!(committed > 0, "the clean shutdown committed nothing");
    reset
        .execute_unprepared("UPDATE consumer_offsets SET next_offset = 0")
        .await
        .expect("Failed to reset the offsets");
    let _closed = reset.close().await;
    let second = spawn_app(&test_db).await;
    second.wait_for_duplicates(EXCEPTIONS as f64).await;

    // Assert
    assert_eq!(row_counts(&second.db).await, before);
    for role in PIPELINE_ROLES {
        let labels = [("role", role), ("outcome", "processed")];
        assert_eq!(second.metric("events_processed_total", &labels), 0.0);
    }

    second.app.shutdown().await;
}
