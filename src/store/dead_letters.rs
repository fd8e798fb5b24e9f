//! The dead-letter path: a `dead_letters` row, and the DeadLettered event on `exceptions.dlq`
//! that the caller appends in the same transaction. A redelivery of the same (role, topic,
//! partition, offset) adds nothing, nor does a second copy of an event (same event id and bytes at
//! another offset: published twice after a crash) while its dead letter is pending; a replay arrives
//! at a new offset after its letter is marked replayed and gets its own row if it fails again.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::bus::{LogRow, OutgoingEvent};
use crate::envelope::{validate_exception_id, Envelope};
use crate::handler::failure::ErrorClass;
use crate::model::{event_types, topics, RoleName};
use crate::store::statement;

pub const PENDING: &str = "pending";
pub const REPLAYED: &str = "replayed";
pub const DISCARDED: &str = "discarded";

/// The DeadLettered event's transport headers: where the message came from and why it failed.
fn dead_letter_headers(letter: &DeadLetter, now: DateTime<Utc>) -> Value {
    json!({
        "dlq.original.topic": letter.topic,
        "dlq.original.partition": letter.partition.to_string(),
        "dlq.original.offset": letter.offset.to_string(),
        "dlq.role": letter.role,
        "dlq.reason": letter.reason.chars().take(512).collect::<String>(),
        "dlq.error.class": letter.error_class,
        "dlq.attempts": letter.attempts.to_string(),
        "dlq.time": now.to_rfc3339(),
    })
}

/// Tenant recorded on the DeadLettered event when the original message named none.
pub const UNKNOWN_TENANT: &str = "unknown";

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub role: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event_id: Option<String>,
    pub tenant_id: Option<String>,
    pub exception_id: Option<String>,
    pub event_type: Option<String>,
    pub envelope: String,
    pub reason: String,
    pub error_class: &'static str,
    pub attempts: i32,
    /// The consumed record's key, so a replay lands on the same partition.
    pub record_key: Option<String>,
}

/// Records `letter` in the caller's transaction; returns the DeadLettered event to append with
/// it (none when this offset was already dead-lettered by this role).
pub async fn record(
    txn: &impl ConnectionTrait,
    letter: &DeadLetter,
    now: DateTime<Utc>,
) -> Result<Vec<LogRow>, DbErr> {
    if !insert_row(txn, letter, now).await? {
        return Ok(Vec::new());
    }
    let event = OutgoingEvent {
        topic: topics::DLQ,
        envelope: dead_lettered_event(letter, now),
    };
    let mut row = LogRow::from(&event);
    row.headers = Some(dead_letter_headers(letter, now).to_string());
    Ok(vec![row])
}

async fn insert_row(
    txn: &impl ConnectionTrait,
    letter: &DeadLetter,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = r#"INSERT INTO dead_letters (role, topic, "partition", log_offset, event_id, tenant_id, exception_id,
                                           event_type, envelope, reason, error_class, attempts, status, created_at,
                                           record_key)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
                 WHERE $5 IS NULL OR NOT EXISTS (
                     SELECT 1 FROM dead_letters
                     WHERE event_id = $5 AND role = $1 AND status = 'pending' AND envelope = $9)
                 ON CONFLICT (role, topic, "partition", log_offset) DO NOTHING"#;
    let values = vec![
        letter.role.clone().into(),
        letter.topic.clone().into(),
        letter.partition.into(),
        letter.offset.into(),
        letter.event_id.clone().into(),
        letter.tenant_id.clone().into(),
        letter.exception_id.clone().into(),
        letter.event_type.clone().into(),
        letter.envelope.clone().into(),
        letter.reason.clone().into(),
        letter.error_class.into(),
        letter.attempts.into(),
        PENDING.into(),
        now.into(),
        letter.record_key.clone().into(),
    ];
    Ok(txn
        .execute_raw(statement(txn, sql, values))
        .await?
        .rows_affected()
        == 1)
}

/// The DeadLettered event embeds the original message up to this size (encoded) and the
/// reason up to `MAX_EMBEDDED_CHARS`; beyond that a prefix, so the event itself always fits
/// the broker's message limit (an oversized one would never leave the outbox). The
/// `dead_letters` row keeps the whole message for replay.
const MAX_EMBEDDED_BYTES: usize = 256 * 1024;
const MAX_EMBEDDED_CHARS: usize = 4096;

fn embedded_original(envelope: &str) -> Value {
    let original = (envelope.len() <= MAX_EMBEDDED_BYTES)
        .then(|| {
            serde_json::from_str::<Value>(envelope)
                .unwrap_or_else(|_| Value::String(envelope.to_owned()))
        })
        .filter(|original| original.to_string().len() <= MAX_EMBEDDED_BYTES);
    original.unwrap_or_else(|| {
        json!({
            "truncated": true,
            "original_bytes": envelope.len(),
            "prefix": envelope.chars().take(MAX_EMBEDDED_CHARS).collect::<String>(),
        })
    })
}

fn dead_lettered_event(letter: &DeadLetter, now: DateTime<Utc>) -> Envelope {
    let original = embedded_original(&letter.envelope);
    let payload = json!({
        "original_topic": letter.topic,
        "original_partition": letter.partition,
        "original_offset": letter.offset,
        "role": letter.role,
        "reason": letter.reason.chars().take(MAX_EMBEDDED_CHARS).collect::<String>(),
        "error_class": letter.error_class,
        "attempts": letter.attempts,
        "dead_lettered_at": now,
        "event": original,
    });
    let tenant = letter
        .tenant_id
        .as_deref()
        .filter(|tenant| !tenant.trim().is_empty() && tenant.len() <= 128)
        .unwrap_or(UNKNOWN_TENANT);
    let exception_id = letter
        .exception_id
        .clone()
        .filter(|id| validate_exception_id(id).is_ok());
    let payload: Map<String, Value> = payload.as_object().cloned().unwrap_or_default();
    Envelope::new(
        event_types::DEAD_LETTERED,
        tenant,
        exception_id,
        payload,
        now,
    )
}

/// The statuses a dead letter goes through.
pub const STATUSES: [&str; 3] = [PENDING, REPLAYED, DISCARDED];

fn status_schema() -> utoipa::openapi::schema::Object {
    crate::api_schema::one_of(&STATUSES)
}

/// A dead letter as operators see it in a listing.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct DeadLetterView {
    pub id: i64,
    /// The role that gave up.
    #[schema(value_type = RoleName)]
    pub role: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event_id: Option<String>,
    pub tenant_id: Option<String>,
    pub exception_id: Option<String>,
    pub reason: String,
    #[schema(value_type = ErrorClass)]
    pub error_class: String,
    pub attempts: i32,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One dead letter in full, with the original message, as GET /v1/dead-letters/{id} shows it.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct DeadLetterRecord {
    pub id: i64,
    /// The role that gave up.
    #[schema(value_type = RoleName)]
    pub role: String,
    pub topic: String,
    pub partition: i32,
    pub log_offset: i64,
    pub event_id: Option<String>,
    pub tenant_id: Option<String>,
    pub exception_id: Option<String>,
    pub event_type: Option<String>,
    /// The original message's bytes as consumed (lossy UTF-8).
    pub envelope: String,
    pub reason: String,
    #[schema(value_type = ErrorClass)]
    pub error_class: String,
    pub attempts: i32,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The original message's key, so a replay lands on the same partition.
    pub record_key: Option<String>,
}

impl From<entity::dead_letters::Model> for DeadLetterRecord {
    fn from(row: entity::dead_letters::Model) -> Self {
        Self {
            id: row.id,
            role: row.role,
            topic: row.topic,
            partition: row.partition,
            log_offset: row.log_offset,
            event_id: row.event_id,
            tenant_id: row.tenant_id,
            exception_id: row.exception_id,
            event_type: row.event_type,
            envelope: row.envelope,
            reason: row.reason,
            error_class: row.error_class,
            attempts: row.attempts,
            status: row.status,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
            record_key: row.record_key,
        }
    }
}

/// The columns a `DeadLetterView` is read from.
pub const VIEW_COLUMNS: &str = r#"id, role, topic, "partition", log_offset, event_id, tenant_id, exception_id,
     reason, error_class, attempts, status, created_at, resolved_at"#;

impl DeadLetterView {
    /// A row selected with `VIEW_COLUMNS`.
    pub fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(DeadLetterView {
            id: row.try_get("", "id")?,
            role: row.try_get("", "role")?,
            topic: row.try_get("", "topic")?,
            partition: row.try_get("", "partition")?,
            offset: row.try_get("", "log_offset")?,
            event_id: row.try_get("", "event_id")?,
            tenant_id: row.try_get("", "tenant_id")?,
            exception_id: row.try_get("", "exception_id")?,
            reason: row.try_get("", "reason")?,
            error_class: row.try_get("", "error_class")?,
            attempts: row.try_get("", "attempts")?,
            status: row.try_get("", "status")?,
            created_at: row.try_get("", "created_at")?,
            resolved_at: row.try_get("", "resolved_at")?,
        })
    }
}

/// Dead letters, oldest first.
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<DeadLetterView>, DbErr> {
    list_with_status(db, None, limit).await
}

/// Dead letters with `status` (all when None), oldest first.
pub async fn list_with_status(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    limit: u64,
) -> Result<Vec<DeadLetterView>, DbErr> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM dead_letters WHERE ($1 = '' OR status = $1) ORDER BY id LIMIT $2"
    );
    let values = vec![
        status.unwrap_or_default().into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    ];
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    rows.iter().map(DeadLetterView::from_row).collect()
}
