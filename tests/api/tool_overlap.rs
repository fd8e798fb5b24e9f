//! I/O-bound tool calls overlap: one tool handler (CONCURRENCY=1) keeps several calls in flight
//! for different exceptions, so a burst is limited by the tool, not by waiting one call at a time.

use serde_json::json;
use test_support::{on_both_backends, Backend, TestDb};

use crate::flow::{post, wait_for_status};
use crate::tool_server::{lab_setup, write_lab_packs, ToolServer};

on_both_backends!(one_tool_handler_keeps_several_calls_in_flight);

const EXCEPTIONS: usize = 8;

async fn one_tool_handler_keeps_several_calls_in_flight(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: one handler per role; each call to /wait takes 300 ms.
    let server = ToolServer::start(0);
    let packs = write_lab_packs(server.port);
    let app = lab_setup(&test_db, &packs)
        .env("CONCURRENCY", "1")
        .env("HANDLER_IN_FLIGHT", "8")
        .spawn()
        .await;

    // Act
    for n in 0..EXCEPTIONS {
        let id = format!("LAB-WAIT-{n}");
        post(
            &app,
            json!({"exceptionId": id, "exceptionType": "LAB_WAIT"}),
        )
        .await;
    }

    // Assert: every one resolved, and the tool saw calls overlap.
    for n in 0..EXCEPTIONS {
        wait_for_status(&app, &format!("LAB-WAIT-{n}"), "resolved").await;
    }
    let overlap = server.most_waiting_at_once();
    assert!(
        overlap >= 4,
        "one tool handler held at most {overlap} call(s) at once"
    );
    assert_eq!(server.seen("/wait").len(), EXCEPTIONS);

    app.app.shutdown().await;
    server.stop().await;
}
