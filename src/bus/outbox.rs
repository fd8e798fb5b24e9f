//! The Kafka bus's view of the `events` table as an outbox: marking rows published once the
//! broker acknowledged them, the rows a crash left unpublished, and the backlog.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::log::AppendedRow;
use crate::store::statement;

/// Rows marked per UPDATE.
const MARK_CHUNK: usize = 500;

/// Marks the rows with these sequence numbers as published.
pub async fn mark_published(
    db: &impl ConnectionTrait,
    seqs: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in seqs.chunks(MARK_CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|index| format!("${}", index + 2))
            .collect();
        let sql = format!(
            "UPDATE events SET published_at = $1 WHERE seq IN ({})",
            placeholders.join(", ")
        );
        let mut values: Vec<Value> = vec![now.into()];
        values.extend(chunk.iter().map(|seq| Value::from(*seq)));
        db.execute_raw(statement(db, &sql, values)).await?;
    }
    Ok(())
}

/// Up to `limit` rows committed before `cutoff` and still unpublished, oldest first: what a
/// process that crashed between its commit and its publish left behind.
pub async fn unpublished_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<AppendedRow>, DbErr> {
    let sql = r#"SELECT seq, topic, key, event_type, envelope, headers FROM events
                 WHERE published_at IS NULL AND created_at < $1 ORDER BY seq LIMIT $2"#;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(statement(db, sql, vec![cutoff.into(), limit.into()]))
        .await?;
    rows.into_iter().map(appended_row).collect()
}

/// The rows of `key` still unpublished, oldest first: the outputs of an input whose process
/// crashed between its commit and the broker's acknowledgement.
pub async fn unpublished_of_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Vec<AppendedRow>, DbErr> {
    let sql = r#"SELECT seq, topic, key, event_type, envelope, headers FROM events
                 WHERE published_at IS NULL AND key = $1 ORDER BY seq"#;
    let rows = db
        .query_all_raw(statement(db, sql, vec![key.into()]))
        .await?;
    rows.into_iter().map(appended_row).collect()
}

fn appended_row(row: sea_orm::QueryResult) -> Result<AppendedRow, DbErr> {
    Ok(AppendedRow {
        seq: row.try_get("", "seq")?,
        topic: row.try_get("", "topic")?,
        key: row.try_get("", "key")?,
        event_type: row.try_get("", "event_type")?,
        envelope: row.try_get::<String>("", "envelope")?.into(),
        headers: row.try_get("", "headers")?,
        position: None,
    })
}

/// How many committed rows are not yet published.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let sql = r#"SELECT COUNT(*) AS backlog FROM events WHERE published_at IS NULL"#;
    let row = db.query_one_raw(statement(db, sql, Vec::new())).await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "backlog"))
        .transpose()?
        .unwrap_or(0))
}
