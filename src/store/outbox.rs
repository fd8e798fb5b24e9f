//! The outbox: events a transaction emits are rows of `events`, written in that transaction.
//! For the embedded bus the row is also the log entry: its offset is taken from the
//! partition's `bus_partitions` row, locked until commit, in (topic, partition) order so two
//! writers never deadlock.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

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

/// Appends `events` in the caller's transaction. Returns where each landed in the log (empty
/// for relay placement), to pass to `Bus::notify_appended` after commit.
pub async fn append(
    txn: &impl ConnectionTrait,
    bus: &dyn Bus,
    events: &[OutgoingEvent],
) -> Result<Vec<PlacedEvent>, DbErr> {
    let placement = bus.outbox_placement();
    let rows: Vec<(&OutgoingEvent, String, Option<i32>)> = events
        .iter()
        .map(|event| {
            let key = event.envelope.partition_key();
            let partition = match placement {
                OutboxPlacement::InDatabaseLog => {
                    Some(slot_for(&key, bus.partitions_of(event.topic) as usize) as i32)
                }
                OutboxPlacement::Relay => None,
            };
            (event, key, partition)
        })
        .collect();
    // Offsets are taken in (topic, partition) order, a fixed lock order so two writers never
    // deadlock; a stable sort keeps emission order within a partition.
    let mut lock_order: Vec<usize> = (0..rows.len()).collect();
    lock_order.sort_by(|a, b| (rows[*a].0.topic, rows[*a].2).cmp(&(rows[*b].0.topic, rows[*b].2)));
    let mut offsets: Vec<Option<i64>> = vec![None; rows.len()];
    for index in lock_order {
        if let Some(partition) = rows[index].2 {
            offsets[index] = Some(allocate_offset(txn, rows[index].0.topic, partition).await?);
        }
    }
    // Rows are written in emission order, so `seq` (the timeline) follows the role's story.
    let mut placed = Vec::new();
    for ((event, key, partition), offset) in rows.iter().zip(offsets) {
        insert_event(txn, event, key, *partition, offset).await?;
        if let (Some(partition), Some(offset)) = (partition, offset) {
            placed.push(PlacedEvent {
                topic: event.topic.to_owned(),
                partition: *partition,
                offset,
            });
        }
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

async fn insert_event(
    txn: &impl ConnectionTrait,
    event: &OutgoingEvent,
    key: &str,
    partition: Option<i32>,
    offset: Option<i64>,
) -> Result<(), DbErr> {
    let envelope = &event.envelope;
    let sql = r#"INSERT INTO events (event_id, topic, "partition", log_offset, key, event_type, tenant_id,
                                     exception_id, correlation_id, envelope, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#;
    let values = vec![
        envelope.event_id.to_string().into(),
        event.topic.into(),
        partition.into(),
        offset.into(),
        key.into(),
        envelope.event_type.clone().into(),
        envelope.tenant_id.clone().into(),
        envelope.exception_id.clone().into(),
        envelope.correlation_id.clone().into(),
        envelope.encode().into(),
        Utc::now().into(),
    ];
    txn.execute_raw(statement(txn, sql, values)).await?;
    Ok(())
}
