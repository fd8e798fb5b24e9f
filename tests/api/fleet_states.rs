//! What a process's row in the fleet registry says of its roles, in-process: a failed role is
//! listed as failed, a simulated crash leaves the row behind (as a killed process does), and a
//! graceful shutdown deletes only the process's own row.

use exception_worker::model::RoleName;
use exception_worker::overseer::ChildKind;
use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{on_both_backends, wait_until, Backend, Setup, TestApp, TestDb};

on_both_backends!(a_failed_role_shows_and_only_a_graceful_stop_removes_the_row);

const OPERATOR_KEY: &str = "fleet-states-operator-key";

async fn spawn(test_db: &TestDb) -> TestApp {
    Setup::new(test_db)
        .roles(Some("intake,triage"))
        .env("WORKER_HEARTBEAT_SECS", "1")
        .env("RESTART_LIMIT", "1")
        .env("RESTART_WINDOW_SECS", "600")
        .operator_key(OPERATOR_KEY)
        .spawn()
        .await
}

/// Every listed row, by instance id.
async fn rows(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get_json(Some(OPERATOR_KEY), "/v1/workers").await;
    assert_eq!(status, 200, "{body}");
    body["workers"].as_array().expect("a workers array").clone()
}

fn instance_id(row: &Value) -> String {
    row["instance_id"]
        .as_str()
        .expect("an instance id")
        .to_owned()
}

async fn a_failed_role_shows_and_only_a_graceful_stop_removes_the_row(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let first = spawn(&test_db).await;
    let mut listed = Vec::new();
    wait_until("the first app is listed", async || {
        listed = rows(&first).await;
        listed.len() == 1
    })
    .await;
    let crashed_id = instance_id(&listed[0]);
    assert_eq!(listed[0]["failed_roles"], json!([]));
    assert_eq!(listed[0]["roles"], json!(["intake", "triage"]));

    // Act: triage's partition workers stop past its restart budget (one restart).
    let halted = first
        .app
        .stop_children(RoleName::Triage, ChildKind::PartitionWorkers)
        .await;
    assert!(halted > 1, "{halted} workers");

    // Assert: the next beat lists triage as failed, intake as healthy.
    wait_until("triage is listed as failed", async || {
        rows(&first).await[0]["failed_roles"] == json!(["triage"])
    })
    .await;

    // Act: a simulated crash, then a second process that stops gracefully.
    first.app.crash().await;
    let second = spawn(&test_db).await;
    wait_until("both apps are listed", async || {
        listed = rows(&second).await;
        listed.len() == 2
    })
    .await;
    let stale = listed
        .iter()
        .find(|row| instance_id(row) == crashed_id)
        .expect("the crashed app's row stays");
    assert_eq!(stale["failed_roles"], json!(["triage"]));
    let db = second.db.clone();
    second.app.shutdown().await;

    // Assert: only the crashed app's row is left.
    let sql = "SELECT COUNT(*) AS n FROM workers WHERE instance_id = $1";
    assert_eq!(count(&db, sql, vec![crashed_id.clone().into()]).await, 1);
    let all = "SELECT COUNT(*) AS n FROM workers";
    assert_eq!(count(&db, all, vec![]).await, 1);
}
