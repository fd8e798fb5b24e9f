//! Permanent failures in a row never wedge the process: two events whose role work fails for
//! good, a moment apart (the first turns group commit careful, the second fails inside its
//! savepoint), or two operator replays of them, leave the process ready, and the next exception
//! is processed within a second.

use std::time::Duration;

use exception_worker::bus::{write_and_emit, LogRow, OutgoingEvent};
use exception_worker::envelope::Envelope;
use exception_worker::model::{event_types, topics};
use sea_orm::ConnectionTrait;
use serde_json::json;
use test_support::readers::{count, processed_by};
use test_support::{
    on_both_backends, wait_for, wait_until, Backend, Setup, TestApp, TestDb, ACME, ACME_KEY,
};

on_both_backends!(
    two_permanent_failures_in_a_row_leave_the_process_ready,
    two_replays_in_a_row_leave_the_process_ready
);

const OPERATOR_KEY: &str = "permanent-failures-operator-key";

async fn spawn(test_db: &TestDb) -> TestApp {
    Setup::new(test_db).operator_key(OPERATOR_KEY).spawn().await
}

async fn dead_letters(app: &TestApp) -> i64 {
    count(&app.db, "SELECT COUNT(*) AS n FROM dead_letters", vec![]).await
}

/// Puts an ingestion on the bus whose raw exception names its id with a number: intake's work
/// fails for good inside its transaction.
async fn ingest_unreadable(app: &TestApp, n: u64) {
    let payload = json!({"exceptionId": n, "exceptionType": "TRADE_BREAK"});
    let envelope = Envelope::new(
        event_types::EXCEPTION_INGESTED,
        ACME,
        None,
        payload.as_object().cloned().unwrap_or_default(),
        chrono::Utc::now(),
    );
    let row = LogRow::from(&OutgoingEvent {
        topic: topics::INGESTED,
        envelope,
    });
    let ((), delivery) = write_and_emit(&app.db, app.app.runtime.bus.as_ref(), async |_txn| {
        Ok::<_, sea_orm::DbErr>(((), vec![row]))
    })
    .await
    .expect("Failed to append the ingestion");
    delivery.wait().await;
}

/// Two such ingestions, 300 ms apart; waits until both are dead letters.
async fn fail_twice(app: &TestApp) {
    ingest_unreadable(app, 1).await;
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    ingest_unreadable(app, 2).await;
    wait_until("both events are dead letters", async || {
        dead_letters(app).await == 2
    })
    .await;
}

/// The process is ready, and a valid exception posted now is through intake within a second.
async fn assert_still_working(app: &TestApp) {
    let (status, body) = {
        let response = app.get("/readyz").await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    };
    assert_eq!(status, 200, "not ready after the failures: {body}");
    let body = json!({"exceptionId": "AFTER-1", "exceptionType": "TRADE_BREAK"});
    let posted = app.post_exception(Some(ACME_KEY), &body.to_string()).await;
    assert_eq!(posted.status().as_u16(), 202);
    wait_for(
        "the next exception is through intake",
        Duration::from_secs(1),
        async || processed_by(&app.db, "intake").await == 1,
    )
    .await;
}

async fn two_permanent_failures_in_a_row_leave_the_process_ready(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn(&test_db).await;

    // Act
    fail_twice(&app).await;

    // Assert
    assert_still_working(&app).await;
    app.app.shutdown().await;
}

async fn two_replays_in_a_row_leave_the_process_ready(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: two dead letters.
    let app = spawn(&test_db).await;
    fail_twice(&app).await;
    let ids = app
        .db
        .query_all_raw(test_support::readers::statement(
            &app.db,
            "SELECT id FROM dead_letters ORDER BY id",
            vec![],
        ))
        .await
        .expect("Failed to read the dead letters");
    let ids: Vec<i64> = ids
        .iter()
        .map(|row| row.try_get("", "id").expect("an id"))
        .collect();

    // Act: the operator replays both, a second apart; each fails again.
    for id in ids {
        let replayed = app
            .client
            .post(format!("{}/v1/dead-letters/{id}/replay", app.address))
            .bearer_auth(OPERATOR_KEY)
            .send()
            .await
            .expect("Failed to replay");
        assert_eq!(replayed.status().as_u16(), 202);
        actix_rt::time::sleep(Duration::from_secs(1)).await;
    }
    wait_until("both replays are dead letters again", async || {
        dead_letters(&app).await == 4
    })
    .await;

    // Assert
    assert_still_working(&app).await;
    app.app.shutdown().await;
}
