//! An http tool on a local server that fails twice (503) and then succeeds: the exception
//! resolves after three attempts carrying one Idempotency-Key (the execution id). Once the
//! execution is terminal, neither a new request for it nor a redelivery calls the endpoint
//! again: the first re-emits the stored result, the second is a duplicate.

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use test_support::readers::row_counts;
use test_support::{on_all_backends, wait_until, Backend, TestApp, TestDb};

use crate::flow::{
    envelopes, executions, inject, post, wait_for_events, wait_for_processed_event,
    wait_for_status, Execution,
};
use crate::tool_server::{lab_setup, spawn_lab, write_lab_packs, ToolServer, LAB};

on_all_backends!(
    an_http_tool_failing_twice_then_succeeding_resolves_the_exception,
    a_terminal_execution_never_calls_the_endpoint_again,
);

const FLAKY: &str = "/flaky";

/// Arrange shared by both scenarios: the exception resolved through `flaky_http`.
async fn resolve_through_the_flaky_tool(app: &TestApp, exception_id: &str) -> Execution {
    post(
        app,
        json!({"exceptionId": exception_id, "exceptionType": "LAB_RETRY"}),
    )
    .await;
    wait_for_status(app, exception_id, "resolved").await;
    wait_for_events(app, "FeedbackCaptured", exception_id, 1).await;
    let runs = executions(&app.db, exception_id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().expect("one execution")
}

async fn an_http_tool_failing_twice_then_succeeding_resolves_the_exception(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let server = ToolServer::start(2);
    let packs = write_lab_packs(server.port);
    let app = spawn_lab(&test_db, &packs).await;

    // Act
    let run = resolve_through_the_flaky_tool(&app, "LAB-RETRY-1").await;

    // Assert: three requests, one key, and the key is the stored execution id.
    let seen = server.seen(FLAKY);
    assert_eq!(seen.len(), 3, "{seen:?}");
    for request in &seen {
        assert_eq!(
            request.idempotency_key.as_deref(),
            Some(run.execution_id.as_str())
        );
    }
    assert_eq!(run.status, "succeeded");
    assert_eq!(run.attempts, 3);
    assert_eq!(run.output, Some(json!({"ticket": "T-42", "attempt": 3})));
    let completed = envelopes(&app.db, "ToolExecutionCompleted", "LAB-RETRY-1").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].payload["status"], "succeeded");
    assert_eq!(completed[0].payload["attempts"], 3);
    assert_eq!(completed[0].payload["replayed"], false);

    app.app.shutdown().await;
    server.stop().await;
}

async fn a_terminal_execution_never_calls_the_endpoint_again(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: a resolved exception whose execution succeeded on the third request.
    let server = ToolServer::start(2);
    let packs = write_lab_packs(server.port);
    let app = spawn_lab(&test_db, &packs).await;
    let id = "LAB-REPLAY-1";
    let run = resolve_through_the_flaky_tool(&app, id).await;
    assert_eq!(server.seen(FLAKY).len(), 3);
    let original = envelopes(&app.db, "ToolExecutionRequested", id).await;
    assert_eq!(original.len(), 1);

    // Act 1: the same request again, as a new event (new event id, same execution id).
    let payload = Value::Object(original[0].payload.clone());
    let again = inject(
        &app,
        "tools.requested",
        "ToolExecutionRequested",
        LAB,
        id,
        payload,
    )
    .await;
    wait_for_processed_event(&app, "tool", &again).await;
    wait_for_events(&app, "ToolExecutionCompleted", id, 2).await;

    // Assert 1: no request; the stored result is re-emitted, marked replayed.
    assert_eq!(server.seen(FLAKY).len(), 3);
    let completed = envelopes(&app.db, "ToolExecutionCompleted", id).await;
    let replayed = &completed[1].payload;
    assert_eq!(replayed["replayed"], true);
    assert_eq!(replayed["execution_id"], run.execution_id.as_str());
    assert_eq!(replayed["status"], "succeeded");
    assert_eq!(replayed["attempts"], 3);
    assert_eq!(Some(&replayed["output"]), run.output.as_ref());
    assert_eq!(executions(&app.db, id).await, vec![run.clone()]);
    // The playbook has no step waiting for it: the run is not completed twice.
    let replayed_id = completed[1].event_id.to_string();
    wait_for_processed_event(&app, "playbook", &replayed_id).await;
    wait_for_processed_event(&app, "feedback", &replayed_id).await;
    for once in ["PlaybookCompleted", "ExceptionResolved"] {
        let events = envelopes(&app.db, once, id).await;
        assert_eq!(events.len(), 1, "{once}");
    }

    // Act 2: a plain redelivery of every tool request after a lost commit.
    app.app.shutdown().await;
    let reset = test_db.connect().await;
    let before = row_counts(&reset).await;
    let mut setup = lab_setup(&test_db, &packs);
    match &test_db.kafka {
        // The embedded bus keeps the groups' positions in consumer_offsets: rewind the tool's.
        None => {
            reset
                .execute_unprepared(
                    "UPDATE consumer_offsets SET next_offset = 0 WHERE group_id = 'tool'",
                )
                .await
                .expect("Failed to reset the tool group's offsets");
        }
        // Kafka keeps them in the broker: new consumer groups start from the earliest offset,
        // so every role of the restarted app is redelivered everything it has processed.
        Some(kafka) => setup = setup.env("GROUP_ID", &format!("{}-redelivered", kafka.group)),
    }
    let _closed = reset.close().await;
    let restarted = setup.spawn().await;
    let labels = [("role", "tool"), ("outcome", "duplicate")];
    wait_until("the tool role counted 2 duplicates", async || {
        restarted.metric("events_processed_total", &labels) == 2.0
    })
    .await;

    // Assert 2: no request, no new event, no new row.
    assert_eq!(server.seen(FLAKY).len(), 3);
    assert_eq!(row_counts(&restarted.db).await, before);
    assert_eq!(executions(&restarted.db, id).await, vec![run]);

    restarted.app.shutdown().await;
    server.stop().await;
}
