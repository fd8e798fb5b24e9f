//! The outbox: events a transaction emits are rows of `events`, written in that transaction.
//! For the embedded bus the row is also the log entry: its offset is taken from the
//! partition's `bus_partitions` row, locked until commit, in (topic, partition) order so two
//! writers never deadlock.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};

use crate::bus::{Bus, OutboxPlacement, PlacedEvent};
use crate::envelope::Envelope;
use crate::routing::slot_for;
use crate::store::statement;

/// An event to emit, with its destination topic.
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    pub topic: &'static str,
    pub envelope: Envelope,
}

/// One row of the log as stored: the envelope bytes exactly as they will be published.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub event_id: String,
    pub topic: String,
    pub key: String,
    pub event_type: String,
    pub tenant_id: String,
    pub exception_id: Option<String>,
    pub correlation_id: String,
    pub envelope: String,
    /// Transport headers as a JSON object of strings (published as Kafka headers).
    pub headers: Option<String>,
    /// 0 for an original event, n for its n-th replay.
    pub replay_count: i32,
}

impl From<&OutgoingEvent> for LogRow {
    fn from(event: &OutgoingEvent) -> Self {
        let envelope = &event.envelope;
        LogRow {
            event_id: envelope.event_id.to_string(),
            topic: event.topic.to_owned(),
            key: envelope.partition_key(),
            event_type: envelope.event_type.clone(),
            tenant_id: envelope.tenant_id.clone(),
            exception_id: envelope.exception_id.clone(),
            correlation_id: envelope.correlation_id.clone(),
            envelope: envelope.encode(),
            headers: None,
            replay_count: 0,
        }
    }
}

/// Appends `events` in the caller's transaction. Returns where each landed in the log (empty
/// for relay placement), to pass to `Bus::notify_appended` after commit.
pub async fn append(
    txn: &impl ConnectionTrait,
    bus: &dyn Bus,
    events: &[OutgoingEvent],
) -> Result<Vec<PlacedEvent>, DbErr> {
    let rows: Vec<LogRow> = events.iter().map(LogRow::from).collect();
    append_rows(txn, bus, &rows).await
}

/// Appends prepared rows in the caller's transaction (see `append`).
pub async fn append_rows(
    txn: &impl ConnectionTrait,
    bus: &dyn Bus,
    rows: &[LogRow],
) -> Result<Vec<PlacedEvent>, DbErr> {
    let placement = bus.outbox_placement();
    if placement == OutboxPlacement::InDatabaseLog
        && txn.get_database_backend() == DbBackend::Sqlite
    {
        return append_to_sqlite_log(txn, bus, rows).await;
    }
    let partitions: Vec<Option<i32>> = rows
        .iter()
        .map(|row| match placement {
            OutboxPlacement::InDatabaseLog => {
                Some(slot_for(&row.key, bus.partitions_of(&row.topic) as usize) as i32)
            }
            OutboxPlacement::Relay => None,
        })
        .collect();
    // Offsets are taken in (topic, partition) order, a fixed lock order so two writers never
    // deadlock; a stable sort keeps emission order within a partition.
    let mut lock_order: Vec<usize> = (0..rows.len()).collect();
    lock_order
        .sort_by(|a, b| (&rows[*a].topic, partitions[*a]).cmp(&(&rows[*b].topic, partitions[*b])));
    let mut offsets: Vec<Option<i64>> = vec![None; rows.len()];
    for index in lock_order {
        if let Some(partition) = partitions[index] {
            offsets[index] = Some(allocate_offset(txn, &rows[index].topic, partition).await?);
        }
    }
    // Rows are written in emission order, so `seq` (the timeline) follows the role's story.
    let mut placed = Vec::new();
    for ((row, partition), offset) in rows.iter().zip(partitions).zip(offsets) {
        insert_row(txn, row, partition, offset).await?;
        if let (Some(partition), Some(offset)) = (partition, offset) {
            placed.push(PlacedEvent {
                topic: row.topic.clone(),
                partition,
                offset,
            });
        }
    }
    Ok(placed)
}
/// SQLite has one writer, so there is no lock order to keep: each row takes its offset and is
/// written in one round trip (two statements in one call), in emission order.
async fn append_to_sqlite_log(
    txn: &impl ConnectionTrait,
    bus: &dyn Bus,
    rows: &[LogRow],
) -> Result<Vec<PlacedEvent>, DbErr> {
    let sql = r#"UPDATE bus_partitions SET next_offset = next_offset + 1 WHERE topic = $2 AND "partition" = $3;
                 INSERT INTO events (event_id, topic, "partition", log_offset, key, event_type, tenant_id,
                                     exception_id, correlation_id, envelope, headers, replay_count, created_at)
                 SELECT $1, $2, $3, COALESCE($4, next_offset - 1), $5, $6, $7, $8, $9, $10, $11, $12, $13
                 FROM bus_partitions WHERE topic = $2 AND "partition" = $3
                 RETURNING log_offset"#;
    let mut placed = Vec::with_capacity(rows.len());
    for row in rows {
        let partition = slot_for(&row.key, bus.partitions_of(&row.topic) as usize) as i32;
        let values = row_values(row, Some(partition), None);
        let offset = txn
            .query_one_raw(statement(txn, sql, values))
            .await?
            .ok_or_else(|| {
                DbErr::Custom(format!(
                    "topic {} has no partition {partition}; was it created?",
                    row.topic
                ))
            })?
            .try_get::<i64>("", "log_offset")?;
        placed.push(PlacedEvent {
            topic: row.topic.clone(),
            partition,
            offset,
        });
    }
    Ok(placed)
}

async fn allocate_offset(
    txn: &impl ConnectionTrait,
    topic: &str,
    partition: i32,
) -> Result<i64, DbErr> {
    let sql = r#"UPDATE bus_partitions SET next_offset = next_offset + 1
                 WHERE topic = $1 AND "partition" = $2 RETURNING next_offset"#;
    let row = txn
        .query_one_raw(statement(txn, sql, vec![topic.into(), partition.into()]))
        .await?
        .ok_or_else(|| {
            DbErr::Custom(format!(
                "topic {topic} has no partition {partition}; was it created?"
            ))
        })?;
    Ok(row.try_get::<i64>("", "next_offset")? - 1)
}

async fn insert_row(
    txn: &impl ConnectionTrait,
    row: &LogRow,
    partition: Option<i32>,
    offset: Option<i64>,
) -> Result<(), DbErr> {
    let sql = r#"INSERT INTO events (event_id, topic, "partition", log_offset, key, event_type, tenant_id,
                                     exception_id, correlation_id, envelope, headers, replay_count, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"#;
    let values = row_values(row, partition, offset);
    txn.execute_raw(statement(txn, sql, values)).await?;
    Ok(())
}

/// The 13 values of an `events` row, in the column order both inserts use.
fn row_values(row: &LogRow, partition: Option<i32>, offset: Option<i64>) -> Vec<Value> {
    vec![
        row.event_id.clone().into(),
        row.topic.clone().into(),
        partition.into(),
        offset.into(),
        row.key.clone().into(),
        row.event_type.clone().into(),
        row.tenant_id.clone().into(),
        row.exception_id.clone().into(),
        row.correlation_id.clone().into(),
        row.envelope.clone().into(),
        row.headers.clone().into(),
        row.replay_count.into(),
        Utc::now().into(),
    ]
}
