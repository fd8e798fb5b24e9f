//! Completing a step that is not the one waiting changes nothing: the API answers 409 with the
//! current step (whatever the body, `null` included) and appends no event; a completion event for a wrong step that reaches the
//! playbook role anyway is processed (not dead-lettered) and leaves the run as it was.

use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{on_all_backends, Backend, TestDb, ACME, ACME_KEY};

use crate::flow::{
    complete_step, dead_letters, event_count, inject, post, spawn_all, steps,
    wait_for_processed_event, wait_for_step,
};

on_all_backends!(completing_the_wrong_step_changes_nothing);

const ID: &str = "WRONG-STEP-1";

async fn all_events(db: &sea_orm::DatabaseConnection) -> i64 {
    count(db, "SELECT COUNT(*) AS n FROM events", vec![]).await
}

async fn completing_the_wrong_step_changes_nothing(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: a critical settlement fail waiting for a person at step 3.
    let app = spawn_all(&test_db).await;
    post(
        &app,
        json!({"exceptionId": ID, "exceptionType": "SETTLEMENT_FAIL", "amount": 25_000_000, "currency": "USD"}),
    )
    .await;
    wait_for_step(&app, ID, 3, "waiting_person").await;
    let run_before = steps(&app.db, ID).await;
    let events_before = all_events(&app.db).await;

    // Act 1: a person completes step 4 (and step 1, already done) through the API.
    let ahead = complete_step(&app, ID, 4, "jane.doe").await;
    let ahead_status = ahead.status().as_u16();
    let ahead_body: Value = ahead.json().await.expect("a JSON body");
    let behind = complete_step(&app, ID, 1, "jane.doe").await;
    // A `null` body is no body (the defaults): the answer is about the step, not the body.
    let null_body = app
        .client
        .post(format!(
            "{}/v1/exceptions/{ID}/steps/4/complete",
            app.address
        ))
        .bearer_auth(ACME_KEY)
        .header("Content-Type", "application/json")
        .body("null")
        .send()
        .await
        .expect("a response");

    // Assert 1: 409 naming the current step; nothing appended, nothing changed.
    assert_eq!(ahead_status, 409);
    assert_eq!(ahead_body["current_step"], 3);
    assert_eq!(ahead_body["current_status"], "waiting_person");
    assert_eq!(behind.status().as_u16(), 409);
    assert_eq!(null_body.status().as_u16(), 409);
    assert_eq!(all_events(&app.db).await, events_before);
    let requested = "PlaybookStepCompletionRequested";
    assert_eq!(event_count(&app.db, requested, Some(ID)).await, 0);
    assert_eq!(steps(&app.db, ID).await, run_before);

    // Act 2: completion events for wrong steps reach the playbook role directly.
    let mut injected = Vec::new();
    for step_number in [4, 1, 99] {
        let payload = json!({"step_number": step_number, "actor": "mallory", "actor_type": "user"});
        injected.push(inject(&app, "exceptions.steps", requested, ACME, ID, payload).await);
    }
    for event_id in &injected {
        wait_for_processed_event(&app, "playbook", event_id).await;
    }

    // Assert 2: processed, not dead-lettered, and the run is unchanged.
    assert_eq!(dead_letters(&app.db).await, 0);
    assert_eq!(steps(&app.db, ID).await, run_before);
    assert_eq!(all_events(&app.db).await, events_before + 3);
    assert_eq!(crate::flow::status(&app.db, ID).await, "in_progress");

    app.app.shutdown().await;
}
