//! Removing what retention no longer keeps, one bounded batch per statement (so no statement
//! holds locks for long): processed-event claims, published events of finished exceptions,
//! closed dead letters, and finished exceptions with their steps, tool executions and feedback.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait, Value};

use crate::store::statement;

/// Statuses after which an exception changes no more.
const FINISHED: &str = "('resolved', 'escalated')";

async fn delete(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(db
        .execute_raw(statement(db, sql, values))
        .await?
        .rows_affected())
}

/// Claims older than `before`: a redelivery after that is no longer recognised as a duplicate.
pub async fn processed_claims(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let sql = r#"DELETE FROM processed_events WHERE (event_id, role) IN (
                     SELECT event_id, role FROM processed_events WHERE processed_at < $1 LIMIT $2)"#;
    delete(db, sql, vec![before.into(), (batch as i64).into()]).await
}

/// Events created before `before` that are on the bus and no longer needed: an outbox row once
/// published; an embedded log row once every consumer group that reads its partition has
/// committed past it. Events of an exception still open are kept (its timeline reads them).
pub async fn published_events(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let sql = format!(
        r#"DELETE FROM events WHERE seq IN (
               SELECT e.seq FROM events e
               WHERE e.created_at < $1
                 AND ((e.log_offset IS NULL AND e.published_at IS NOT NULL)
                      OR e.log_offset < (SELECT MIN(c.next_offset) FROM consumer_offsets c
                                         WHERE c.topic = e.topic AND c."partition" = e."partition"))
                 AND NOT EXISTS (SELECT 1 FROM exceptions x
                                 WHERE x.tenant_id = e.tenant_id AND x.exception_id = e.exception_id
                                   AND x.status NOT IN {FINISHED})
               LIMIT $2)"#
    );
    delete(db, &sql, vec![before.into(), (batch as i64).into()]).await
}

/// Dead letters replayed or discarded before `before`; pending ones are always kept.
pub async fn closed_dead_letters(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let sql = r#"DELETE FROM dead_letters WHERE id IN (
                     SELECT id FROM dead_letters
                     WHERE status <> 'pending' AND resolved_at < $1 LIMIT $2)"#;
    delete(db, sql, vec![before.into(), (batch as i64).into()]).await
}

/// Exceptions finished (resolved or escalated) before `before`, with their playbook steps,
/// tool executions and feedback, in one transaction per batch. Returns the exceptions removed.
pub async fn finished_exceptions(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let select = format!(
        "SELECT tenant_id, exception_id FROM exceptions
         WHERE status IN {FINISHED} AND updated_at < $1 LIMIT $2"
    );
    let rows = db
        .query_all_raw(statement(
            db,
            &select,
            vec![before.into(), (batch as i64).into()],
        ))
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut keys: Vec<Value> = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        keys.push(row.try_get::<String>("", "tenant_id")?.into());
        keys.push(row.try_get::<String>("", "exception_id")?.into());
    }
    let pairs: Vec<String> = (0..rows.len())
        .map(|index| format!("(${}, ${})", index * 2 + 1, index * 2 + 2))
        .collect();
    let in_batch = format!("(tenant_id, exception_id) IN (VALUES {})", pairs.join(", "));
    let txn = db.begin().await?;
    for table in ["playbook_steps", "tool_executions", "feedback"] {
        let sql = format!("DELETE FROM {table} WHERE {in_batch}");
        delete(&txn, &sql, keys.clone()).await?;
    }
    let sql = format!("DELETE FROM exceptions WHERE {in_batch} AND status IN {FINISHED}");
    let removed = delete(&txn, &sql, keys).await?;
    txn.commit().await?;
    Ok(removed)
}
