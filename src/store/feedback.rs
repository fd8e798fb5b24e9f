//! Feedback rows (one per exception, the latest outcome wins) and the run timings they hold.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

pub struct Feedback {
    pub tenant_id: String,
    pub exception_id: String,
    pub outcome: String,
    pub classification: String,
    pub total_seconds: f64,
    pub steps_completed: i32,
    pub tool_seconds: f64,
    pub details: String,
}

pub struct RunTimings {
    pub steps_completed: i32,
    pub tool_seconds: f64,
    pub tool_executions: i64,
}

pub async fn timings(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
) -> Result<RunTimings, DbErr> {
    let sql = r#"SELECT COUNT(*) AS steps FROM playbook_steps
                 WHERE tenant_id = $1 AND exception_id = $2 AND status = 'completed'"#;
    let steps = db
        .query_one_raw(statement(
            db,
            sql,
            vec![tenant_id.into(), exception_id.into()],
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "steps"))
        .transpose()?
        .unwrap_or(0);
    let sql = r#"SELECT started_at, completed_at FROM tool_executions
                 WHERE tenant_id = $1 AND exception_id = $2"#;
    let rows = db
        .query_all_raw(statement(
            db,
            sql,
            vec![tenant_id.into(), exception_id.into()],
        ))
        .await?;
    let mut tool_seconds = 0.0;
    for row in &rows {
        let started: Option<DateTime<Utc>> = row.try_get("", "started_at")?;
        let completed: Option<DateTime<Utc>> = row.try_get("", "completed_at")?;
        if let (Some(started), Some(completed)) = (started, completed) {
            tool_seconds += (completed - started).num_milliseconds().max(0) as f64 / 1000.0;
        }
    }
    Ok(RunTimings {
        steps_completed: i32::try_from(steps).unwrap_or(i32::MAX),
        tool_seconds,
        tool_executions: i64::try_from(rows.len()).unwrap_or(i64::MAX),
    })
}

pub async fn upsert(
    db: &impl ConnectionTrait,
    row: Feedback,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = r#"INSERT INTO feedback (tenant_id, exception_id, outcome, classification, total_seconds,
                                       steps_completed, tool_seconds, details, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (tenant_id, exception_id) DO UPDATE SET
                   outcome = excluded.outcome, classification = excluded.classification,
                   total_seconds = excluded.total_seconds, steps_completed = excluded.steps_completed,
                   tool_seconds = excluded.tool_seconds, details = excluded.details,
                   created_at = excluded.created_at"#;
    let values = vec![
        row.tenant_id.into(),
        row.exception_id.into(),
        row.outcome.into(),
        row.classification.into(),
        row.total_seconds.into(),
        row.steps_completed.into(),
        row.tool_seconds.into(),
        row.details.into(),
        now.into(),
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}
