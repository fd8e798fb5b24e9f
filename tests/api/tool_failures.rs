//! Each way a tool can fail before or during its call escalates the exception, with the reason
//! in ExceptionEscalated and a failed tool_executions row: an unknown tool, a tool the tenant
//! has not enabled, a timeout, and a plain-http endpoint that is not allow-listed (never called).

use sea_orm::ConnectionTrait;
use serde_json::json;
use test_support::{on_all_backends, Backend, TestDb};

use crate::flow::{
    dead_letters, envelopes, executions, inject, post, wait_for_events, wait_for_status,
    wait_for_step,
};
use crate::tool_server::{spawn_lab, write_lab_packs, ToolServer, LAB};

on_all_backends!(each_tool_failure_escalates_with_its_reason);

const GHOST_EXECUTION: &str = "exec-ghost-1";

async fn each_tool_failure_escalates_with_its_reason(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let server = ToolServer::start(0);
    let packs = write_lab_packs(server.port);
    let app = spawn_lab(&test_db, &packs).await;
    // (exception, type, failure kind in the reason, attempts made)
    let cases = [
        ("LAB-DISABLED", "LAB_DISABLED", "disabled", 0),
        ("LAB-SLOW", "LAB_SLOW", "timeout", 3),
        ("LAB-PLAIN", "LAB_PLAIN", "not_allowed", 0),
        ("LAB-GHOST", "LAB_GHOST", "unknown_tool", 0),
    ];
    // The ghost's only step waits for a person; it is made to wait for a tool instead, as
    // if its playbook had called a tool the packs no longer declare.
    post(
        &app,
        json!({"exceptionId": "LAB-GHOST", "exceptionType": "LAB_GHOST"}),
    )
    .await;
    wait_for_step(&app, "LAB-GHOST", 1, "waiting_person").await;
    let sql = format!(
        "UPDATE playbook_steps SET status = 'waiting_tool', execution_id = '{GHOST_EXECUTION}' \
         WHERE exception_id = 'LAB-GHOST' AND step_number = 1"
    );
    app.db
        .execute_unprepared(&sql)
        .await
        .expect("Failed to arrange the ghost step");

    // Act: the three playbook-driven failures, and a request for an undeclared tool.
    for (id, exception_type, _, _) in &cases[..3] {
        post(
            &app,
            json!({"exceptionId": id, "exceptionType": exception_type}),
        )
        .await;
    }
    let ghost = json!({
        "execution_id": GHOST_EXECUTION,
        "tool_name": "ghost_tool",
        "step_number": 1,
        "playbook_id": "pb-lab-ghost",
        "input": {"exception_id": "LAB-GHOST"},
    });
    inject(
        &app,
        "tools.requested",
        "ToolExecutionRequested",
        LAB,
        "LAB-GHOST",
        ghost,
    )
    .await;

    // Assert
    for (id, _, kind, attempts) in cases {
        wait_for_status(&app, id, "escalated").await;
        let escalated = envelopes(&app.db, "ExceptionEscalated", id).await;
        assert_eq!(escalated.len(), 1, "{id}");
        let reason = escalated[0].payload["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(kind),
            "{id}: reason '{reason}' should name {kind}"
        );
        assert_eq!(escalated[0].payload["escalated_by"], "playbook", "{id}");

        let runs = executions(&app.db, id).await;
        assert_eq!(runs.len(), 1, "{id}: {runs:?}");
        assert_eq!(runs[0].status, "failed", "{id}");
        assert_eq!(runs[0].attempts, attempts, "{id}");
        let error = runs[0].error.as_deref().unwrap_or_default();
        assert!(
            error.contains(kind),
            "{id}: error '{error}' should name {kind}"
        );

        let completed = envelopes(&app.db, "ToolExecutionCompleted", id).await;
        assert_eq!(completed.len(), 1, "{id}");
        assert_eq!(completed[0].payload["failure_kind"], kind, "{id}");
        wait_for_events(&app, "FeedbackCaptured", id, 1).await;
    }
    assert_eq!(
        executions(&app.db, "LAB-GHOST").await[0].tool_name,
        "ghost_tool"
    );
    assert!(
        server.seen("/plain").is_empty(),
        "a refused endpoint was called"
    );
    assert!(
        !server.seen("/slow").is_empty(),
        "the slow endpoint was never called"
    );
    assert_eq!(dead_letters(&app.db).await, 0);

    app.app.shutdown().await;
    server.stop().await;
}
