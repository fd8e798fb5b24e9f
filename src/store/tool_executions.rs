//! Tool executions: recorded before the call (running) and after it (succeeded or failed). A
//! terminal row is final: it is never run again, only re-reported.

use chrono::{DateTime, Utc};
use entity::tool_executions::{Entity, Model};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use crate::store::statement;

pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

pub fn is_terminal(row: &Model) -> bool {
    row.status == SUCCEEDED || row.status == FAILED
}

pub async fn find(db: &impl ConnectionTrait, execution_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(execution_id.to_owned()).one(db).await
}

pub struct Started<'a> {
    pub execution_id: &'a str,
    pub tenant_id: &'a str,
    pub exception_id: &'a str,
    pub step_number: i32,
    pub tool_name: &'a str,
    pub input: String,
}

/// Records that the call is about to start (a second start of a non-terminal execution keeps
/// its row and moves `started_at`).
pub async fn record_start(
    db: &impl ConnectionTrait,
    started: Started<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = r#"INSERT INTO tool_executions (execution_id, tenant_id, exception_id, step_number, tool_name,
                                              status, attempts, input, requested_at, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)
                 ON CONFLICT (execution_id) DO UPDATE SET started_at = excluded.started_at
                 WHERE tool_executions.status NOT IN ('succeeded', 'failed')"#;
    let values = vec![
        started.execution_id.into(),
        started.tenant_id.into(),
        started.exception_id.into(),
        started.step_number.into(),
        started.tool_name.into(),
        RUNNING.into(),
        started.input.into(),
        now.into(),
        now.into(),
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

pub struct Finished {
    pub status: &'static str,
    pub attempts: i32,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// Makes the execution terminal; a row that is already terminal is left as it is. Returns
/// whether this call made it terminal.
pub async fn record_finish(
    db: &impl ConnectionTrait,
    execution_id: &str,
    finished: Finished,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = r#"UPDATE tool_executions SET status = $1, attempts = attempts + $2, output = $3, error = $4,
                        completed_at = $5, started_at = COALESCE(started_at, $5)
                 WHERE execution_id = $6 AND status NOT IN ('succeeded', 'failed')"#;
    let values = vec![
        finished.status.into(),
        finished.attempts.into(),
        finished.output.into(),
        finished.error.into(),
        now.into(),
        execution_id.into(),
    ];
    Ok(db
        .execute_raw(statement(db, sql, values))
        .await?
        .rows_affected()
        == 1)
}
