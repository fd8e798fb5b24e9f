//! The relay's view of the outbox: committed rows not yet published, in commit order.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::store::statement;

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub seq: i64,
    pub topic: String,
    pub key: String,
    pub event_type: String,
    pub envelope: String,
    /// Transport headers, a JSON object of strings.
    pub headers: Option<String>,
}

/// Up to `limit` unpublished rows, oldest first.
pub async fn next_batch(db: &impl ConnectionTrait, limit: usize) -> Result<Vec<OutboxRow>, DbErr> {
    let sql = r#"SELECT seq, topic, key, event_type, envelope, headers FROM events
                 WHERE published_at IS NULL ORDER BY seq LIMIT $1"#;
    let rows = db
        .query_all_raw(statement(
            db,
            sql,
            vec![i64::try_from(limit).unwrap_or(i64::MAX).into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(OutboxRow {
                seq: row.try_get("", "seq")?,
                topic: row.try_get("", "topic")?,
                key: row.try_get("", "key")?,
                event_type: row.try_get("", "event_type")?,
                envelope: row.try_get("", "envelope")?,
                headers: row.try_get("", "headers")?,
            })
        })
        .collect()
}

/// Marks the rows with these sequence numbers as published.
pub async fn mark_published(
    db: &impl ConnectionTrait,
    seqs: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in seqs.chunks(500) {
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

/// How many committed rows wait for the relay.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let sql = r#"SELECT COUNT(*) AS backlog FROM events WHERE published_at IS NULL"#;
    let row = db.query_one_raw(statement(db, sql, Vec::new())).await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "backlog"))
        .transpose()?
        .unwrap_or(0))
}
