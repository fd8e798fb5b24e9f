//! Helpers for the playbook, tool, feedback and SLA scenarios: the app with every role,
//! readers of exceptions, steps, tool executions and events (rows, never logs), and injection
//! of an event straight into the outbox.

use exception_worker::bus::{write_and_emit, LogRow, OutgoingEvent};
use exception_worker::envelope::Envelope;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use test_support::readers::{count, statement};
use test_support::{wait_until, Setup, TestApp, TestDb};

/// The `--roles` flag that co-hosts the seven roles.
pub const ALL_ROLES: &str = "all";

/// The app with every role over `db`, on the repository's packs.
pub async fn spawn_all(db: &TestDb) -> TestApp {
    Setup::new(db).roles(Some(ALL_ROLES)).spawn().await
}

/// One row of `playbook_steps`, as the assertions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub number: i32,
    pub action: String,
    pub status: String,
    pub actor: Option<String>,
    pub execution_id: Option<String>,
}

pub async fn steps(db: &DatabaseConnection, exception_id: &str) -> Vec<StepRow> {
    let sql = "SELECT step_number, action, status, actor, execution_id FROM playbook_steps \
               WHERE exception_id = $1 ORDER BY step_number";
    let rows = db
        .query_all_raw(statement(db, sql, vec![exception_id.into()]))
        .await
        .expect("Failed to read playbook_steps");
    rows.into_iter()
        .map(|row| StepRow {
            number: row.try_get("", "step_number").expect("step_number"),
            action: row.try_get("", "action").expect("action"),
            status: row.try_get("", "status").expect("status"),
            actor: row.try_get("", "actor").expect("actor"),
            execution_id: row.try_get("", "execution_id").expect("execution_id"),
        })
        .collect()
}

/// The exception's status, or "" when there is no row yet.
pub async fn status(db: &DatabaseConnection, exception_id: &str) -> String {
    let sql = "SELECT status FROM exceptions WHERE exception_id = $1";
    db.query_one_raw(statement(db, sql, vec![exception_id.into()]))
        .await
        .expect("Failed to read the exception")
        .map(|row| row.try_get::<String>("", "status").expect("status"))
        .unwrap_or_default()
}

pub async fn wait_for_status(app: &TestApp, exception_id: &str, wanted: &str) {
    let what = format!("{exception_id} is {wanted}");
    wait_until(&what, async || {
        status(&app.db, exception_id).await == wanted
    })
    .await;
}

/// Waits until step `number` of the exception has `wanted` status.
pub async fn wait_for_step(app: &TestApp, exception_id: &str, number: i32, wanted: &str) {
    let what = format!("step {number} of {exception_id} is {wanted}");
    wait_until(&what, async || {
        steps(&app.db, exception_id)
            .await
            .iter()
            .any(|step| step.number == number && step.status == wanted)
    })
    .await;
}

/// Events of `event_type` about the exception (any exception when None).
pub async fn event_count(
    db: &DatabaseConnection,
    event_type: &str,
    exception_id: Option<&str>,
) -> i64 {
    match exception_id {
        Some(id) => {
            let sql =
                "SELECT COUNT(*) AS n FROM events WHERE event_type = $1 AND exception_id = $2";
            count(db, sql, vec![event_type.into(), id.into()]).await
        }
        None => {
            let sql = "SELECT COUNT(*) AS n FROM events WHERE event_type = $1";
            count(db, sql, vec![event_type.into()]).await
        }
    }
}

/// The decoded envelopes of `event_type` about the exception, in log order.
pub async fn envelopes(
    db: &DatabaseConnection,
    event_type: &str,
    exception_id: &str,
) -> Vec<Envelope> {
    let sql =
        "SELECT envelope FROM events WHERE event_type = $1 AND exception_id = $2 ORDER BY seq";
    let rows = db
        .query_all_raw(statement(
            db,
            sql,
            vec![event_type.into(), exception_id.into()],
        ))
        .await
        .expect("Failed to read events");
    rows.into_iter()
        .map(|row| {
            let text: String = row.try_get("", "envelope").expect("envelope");
            Envelope::decode(text.as_bytes(), false).expect("a stored envelope decodes")
        })
        .collect()
}

pub async fn wait_for_events(app: &TestApp, event_type: &str, exception_id: &str, expected: i64) {
    let what = format!("{expected} {event_type} event(s) about {exception_id}");
    wait_until(&what, async || {
        event_count(&app.db, event_type, Some(exception_id)).await == expected
    })
    .await;
}

/// One `tool_executions` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub execution_id: String,
    pub tool_name: String,
    pub status: String,
    pub attempts: i32,
    pub output: Option<Value>,
    pub error: Option<String>,
}

pub async fn executions(db: &DatabaseConnection, exception_id: &str) -> Vec<Execution> {
    let sql =
        "SELECT execution_id, tool_name, status, attempts, output, error FROM tool_executions \
               WHERE exception_id = $1 ORDER BY step_number";
    let rows = db
        .query_all_raw(statement(db, sql, vec![exception_id.into()]))
        .await
        .expect("Failed to read tool_executions");
    rows.into_iter()
        .map(|row| {
            let output: Option<String> = row.try_get("", "output").expect("output");
            Execution {
                execution_id: row.try_get("", "execution_id").expect("execution_id"),
                tool_name: row.try_get("", "tool_name").expect("tool_name"),
                status: row.try_get("", "status").expect("status"),
                attempts: row.try_get("", "attempts").expect("attempts"),
                output: output.map(|text| serde_json::from_str(&text).expect("JSON output")),
                error: row.try_get("", "error").expect("error"),
            }
        })
        .collect()
}

pub async fn dead_letters(db: &DatabaseConnection) -> i64 {
    count(db, "SELECT COUNT(*) AS n FROM dead_letters", vec![]).await
}

/// Appends one event on `topic` through the outbox, as a producer the worker does not know
/// would, and waits until it is on the bus (woken embedded consumers, or published to Kafka).
/// Returns its event id.
pub async fn inject(
    app: &TestApp,
    topic: &'static str,
    event_type: &str,
    tenant_id: &str,
    exception_id: &str,
    payload: Value,
) -> String {
    let payload = payload.as_object().cloned().expect("an object payload");
    let envelope = Envelope::new(
        event_type,
        tenant_id,
        Some(exception_id.to_owned()),
        payload,
        chrono::Utc::now(),
    );
    let event_id = envelope.event_id.to_string();
    let row = LogRow::from(&OutgoingEvent { topic, envelope });
    let ((), delivery) = write_and_emit(&app.db, app.app.runtime.bus.as_ref(), async |_txn| {
        Ok::<_, sea_orm::DbErr>(((), vec![row]))
    })
    .await
    .expect("Failed to append the event");
    delivery.wait().await;
    event_id
}

/// Waits until the event `event_id` has been processed by `role`.
pub async fn wait_for_processed_event(app: &TestApp, role: &str, event_id: &str) {
    let what = format!("{role} has processed event {event_id}");
    wait_until(&what, async || {
        let sql = "SELECT COUNT(*) AS n FROM processed_events WHERE role = $1 AND event_id = $2";
        count(&app.db, sql, vec![role.into(), event_id.into()]).await == 1
    })
    .await;
}

/// POST /v1/exceptions/{id}/steps/{n}/complete as `actor`, with the acme demo key.
pub async fn complete_step(
    app: &TestApp,
    exception_id: &str,
    step: i32,
    actor: &str,
) -> reqwest::Response {
    app.client
        .post(format!(
            "{}/v1/exceptions/{exception_id}/steps/{step}/complete",
            app.address
        ))
        .bearer_auth(test_support::ACME_KEY)
        .json(&serde_json::json!({ "actor": actor }))
        .send()
        .await
        .expect("Failed to POST a step completion")
}

/// Posts a raw exception with the acme demo key and expects 202.
pub async fn post(app: &TestApp, payload: Value) {
    let response = app
        .post_exception(Some(test_support::ACME_KEY), &payload.to_string())
        .await;
    assert_eq!(response.status().as_u16(), 202, "POST {payload}");
}
