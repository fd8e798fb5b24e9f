//! Operator actions on dead letters: replay re-publishes the original event to its original
//! topic (same bytes, same event id, the next `replay_count`), so roles that already processed
//! it dedupe it and the role that failed gets it again; a replay that fails again becomes a new
//! dead letter at its new offset, never a loop. Discard closes a dead letter without replay.

use chrono::{DateTime, Utc};
use entity::dead_letters::{Entity, Model};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::bus::LogRow;
use crate::envelope::Envelope;
use crate::store::dead_letters::{DISCARDED, PENDING, REPLAYED, UNKNOWN_TENANT};
use crate::store::statement;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("dead letter {0} not found")]
    NotFound(i64),
    #[error("dead letter {id} is {status}, not pending")]
    NotPending { id: i64, status: String },
    #[error(transparent)]
    Database(#[from] DbErr),
}

pub async fn show(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Pending dead letters, oldest first.
pub async fn pending_ids(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<i64>, DbErr> {
    let sql = r#"SELECT id FROM dead_letters WHERE status = $1 ORDER BY id LIMIT $2"#;
    let values = vec![
        PENDING.into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    ];
    db.query_all_raw(statement(db, sql, values))
        .await?
        .into_iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect()
}

/// Marks dead letter `id` replayed in the caller's transaction and returns its original event
/// as the row to append with it.
pub async fn replay(
    txn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<LogRow, ReplayError> {
    let letter = pending(txn, id).await?;
    let decoded = Envelope::decode(letter.envelope.as_bytes(), true).ok();
    let event_id = letter
        .event_id
        .clone()
        .or_else(|| {
            decoded
                .as_ref()
                .map(|envelope| envelope.event_id.to_string())
        })
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let key = letter
        .record_key
        .clone()
        .or_else(|| decoded.as_ref().map(Envelope::partition_key))
        .unwrap_or_else(|| format!("dlq:{id}"));
    let row = LogRow {
        replay_count: next_replay_count(txn, &event_id).await?,
        event_id,
        topic: letter.topic.clone(),
        key,
        event_type: letter
            .event_type
            .clone()
            .unwrap_or_else(|| "unknown".to_owned()),
        tenant_id: letter
            .tenant_id
            .clone()
            .unwrap_or_else(|| UNKNOWN_TENANT.to_owned()),
        exception_id: letter.exception_id.clone(),
        correlation_id: decoded
            .map(|envelope| envelope.correlation_id)
            .unwrap_or_default(),
        envelope: letter.envelope.clone(),
        headers: Some(serde_json::json!({ "dlq.replay.of": id.to_string() }).to_string()),
    };
    close(txn, id, REPLAYED, now).await?;
    Ok(row)
}

/// Closes dead letter `id` without replaying it.
pub async fn discard(
    db: &DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), ReplayError> {
    let txn = db.begin().await?;
    pending(&txn, id).await?;
    close(&txn, id, DISCARDED, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn pending(db: &impl ConnectionTrait, id: i64) -> Result<Model, ReplayError> {
    let letter = show(db, id).await?.ok_or(ReplayError::NotFound(id))?;
    if letter.status != PENDING {
        return Err(ReplayError::NotPending {
            id,
            status: letter.status,
        });
    }
    Ok(letter)
}

async fn next_replay_count(db: &impl ConnectionTrait, event_id: &str) -> Result<i32, DbErr> {
    let sql =
        r#"SELECT COALESCE(MAX(replay_count), -1) + 1 AS next FROM events WHERE event_id = $1"#;
    let row = db
        .query_one_raw(statement(db, sql, vec![event_id.into()]))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i32>("", "next"))
        .transpose()?
        .unwrap_or(0))
}

async fn close(
    db: &impl ConnectionTrait,
    id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = r#"UPDATE dead_letters SET status = $1, resolved_at = $2 WHERE id = $3 AND status = 'pending'"#;
    db.execute_raw(statement(
        db,
        sql,
        vec![status.into(), now.into(), id.into()],
    ))
    .await?;
    Ok(())
}
