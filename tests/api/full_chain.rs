//! The full chain with `--roles all`: one exception resolved through a playbook with a tool
//! call, one escalated by policy, one that waits twice for a person and is completed through
//! the API. Feedback is stored and emitted for each; the person is recorded on the steps.

use serde_json::{json, Value};
use test_support::readers::statement;
use test_support::{on_all_backends, Backend, TestDb, ACME_KEY};

use crate::flow::{
    complete_step, event_count, executions, post, spawn_all, steps, wait_for_events,
    wait_for_status, wait_for_step,
};
use sea_orm::ConnectionTrait;

on_all_backends!(three_exceptions_end_resolved_escalated_and_resolved_by_a_person);

const PRICE: &str = "CHAIN-PRICE";
const ODD: &str = "CHAIN-ODD";
const SETTLE: &str = "CHAIN-SETTLE";

async fn three_exceptions_end_resolved_escalated_and_resolved_by_a_person(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_all(&test_db).await;

    // Act: the three exceptions of the walk-through, then a person completes steps 3 and 4.
    post(
        &app,
        json!({"exceptionId": PRICE, "exceptionType": "PRICE_MISMATCH", "priceDiffBps": 12, "currency": "GBP"}),
    )
    .await;
    post(&app, json!({"exceptionId": ODD, "error": "odd"})).await;
    post(
        &app,
        json!({"exceptionId": SETTLE, "exceptionType": "SETTLEMENT_FAIL", "amount": 25_000_000, "currency": "USD"}),
    )
    .await;
    wait_for_status(&app, PRICE, "resolved").await;
    wait_for_status(&app, ODD, "escalated").await;
    wait_for_step(&app, SETTLE, 3, "waiting_person").await;
    assert!(
        executions(&app.db, SETTLE).await.is_empty(),
        "the tool ran before approval"
    );

    let approved = complete_step(&app, SETTLE, 3, "jane.doe").await;
    assert_eq!(approved.status().as_u16(), 202);
    wait_for_step(&app, SETTLE, 4, "waiting_person").await;
    let completed = complete_step(&app, SETTLE, 4, "jane.doe").await;
    assert_eq!(completed.status().as_u16(), 202);
    wait_for_status(&app, SETTLE, "resolved").await;
    for id in [PRICE, ODD, SETTLE] {
        wait_for_events(&app, "FeedbackCaptured", id, 1).await;
    }

    // Assert: outcomes and feedback rows.
    for (id, outcome, classification) in [
        (PRICE, "resolved", "positive"),
        (ODD, "escalated", "negative"),
        (SETTLE, "resolved", "positive"),
    ] {
        let sql = "SELECT outcome, classification FROM feedback WHERE exception_id = $1";
        let row = app
            .db
            .query_one_raw(statement(&app.db, sql, vec![id.into()]))
            .await
            .expect("Failed to read feedback")
            .unwrap_or_else(|| panic!("no feedback row for {id}"));
        assert_eq!(
            row.try_get::<String>("", "outcome").unwrap(),
            outcome,
            "{id}"
        );
        assert_eq!(
            row.try_get::<String>("", "classification").unwrap(),
            classification,
            "{id}"
        );
    }
    for id in [PRICE, SETTLE] {
        assert_eq!(
            event_count(&app.db, "PlaybookCompleted", Some(id)).await,
            1,
            "{id}"
        );
        assert_eq!(
            event_count(&app.db, "ExceptionResolved", Some(id)).await,
            1,
            "{id}"
        );
    }
    assert_eq!(
        event_count(&app.db, "ExceptionEscalated", Some(ODD)).await,
        1
    );
    assert_eq!(event_count(&app.db, "PlaybookMatched", Some(ODD)).await, 0);

    // The person is the actor of steps 3 and 4; the worker of the others.
    let settle_steps = steps(&app.db, SETTLE).await;
    assert_eq!(settle_steps.len(), 5);
    for step in &settle_steps {
        assert_eq!(step.status, "completed", "{step:?}");
        let expected = if step.number == 3 || step.number == 4 {
            "jane.doe"
        } else {
            "system"
        };
        assert_eq!(step.actor.as_deref(), Some(expected), "{step:?}");
    }
    assert!(steps(&app.db, PRICE)
        .await
        .iter()
        .all(|step| step.status == "completed"));

    // Every tool execution is terminal, and succeeded.
    let price_runs = executions(&app.db, PRICE).await;
    let settle_runs = executions(&app.db, SETTLE).await;
    assert_eq!(price_runs.len(), 1);
    assert_eq!(price_runs[0].tool_name, "reprice_trade");
    assert_eq!(settle_runs.len(), 1);
    assert_eq!(settle_runs[0].tool_name, "retry_settlement");
    for run in price_runs.iter().chain(&settle_runs) {
        assert_eq!(run.status, "succeeded", "{run:?}");
        assert!(run.attempts >= 1, "{run:?}");
    }
    assert_eq!(
        price_runs[0].attempts, 2,
        "the flaky profile fails its first attempt"
    );

    // The API shows the run and its timeline.
    let shown: Value = app
        .get_exception(Some(ACME_KEY), SETTLE)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["steps"][2]["actor"], "jane.doe");
    assert_eq!(shown["steps"][3]["status"], "completed");
    let timeline: Vec<&str> = shown["events"]
        .as_array()
        .expect("an event timeline")
        .iter()
        .filter_map(|event| event["event_type"].as_str())
        .collect();
    for expected in [
        "PlaybookMatched",
        "PlaybookStepCompletionRequested",
        "ToolExecutionRequested",
        "ToolExecutionCompleted",
        "PlaybookCompleted",
        "ExceptionResolved",
        "FeedbackCaptured",
    ] {
        assert!(
            timeline.contains(&expected),
            "{expected} missing from {timeline:?}"
        );
    }

    app.app.shutdown().await;
}
