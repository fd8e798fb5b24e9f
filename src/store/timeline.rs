//! An exception's event timeline, read from the outbox rows of its tenant.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use crate::store::statement;

/// One event of an exception's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub event_id: String,
    pub event_type: String,
    pub topic: String,
    pub created_at: DateTime<Utc>,
    /// The event's payload as emitted; null when it could not be read back.
    pub payload: serde_json::Value,
}

/// Events of one exception in the order they were written, bounded to `limit`.
pub async fn of_exception(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
    limit: u64,
) -> Result<Vec<TimelineEntry>, DbErr> {
    let sql = r#"SELECT event_id, event_type, topic, created_at, envelope FROM events
                 WHERE tenant_id = $1 AND exception_id = $2 ORDER BY seq LIMIT $3"#;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(statement(
            db,
            sql,
            vec![tenant_id.into(), exception_id.into(), limit.into()],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let envelope: String = row.try_get("", "envelope")?;
        let payload = serde_json::from_str::<serde_json::Value>(&envelope)
            .ok()
            .and_then(|mut value| value.get_mut("payload").map(serde_json::Value::take))
            .unwrap_or(serde_json::Value::Null);
        entries.push(TimelineEntry {
            event_id: row.try_get("", "event_id")?,
            event_type: row.try_get("", "event_type")?,
            topic: row.try_get("", "topic")?,
            created_at: row.try_get("", "created_at")?,
            payload,
        });
    }
    Ok(entries)
}
