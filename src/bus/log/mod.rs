//! The `events` table: the embedded bus's log and the Kafka bus's outbox. A transaction appends
//! the events it emits here, so "state changed but event lost" cannot happen. For the embedded
//! bus each row also gets its partition and offset in that transaction, taken from the
//! partition's `bus_partitions` row (locked until commit, in (topic, partition) order so two
//! writers never deadlock), which makes rows visible in offset order. For Kafka the rows wait
//! to be published (`published_at`).
//!
//! Appends are set-based: one statement for the offsets of every partition touched (two on
//! Postgres, which locks the partitions in order first) and one INSERT for all rows, whatever
//! their number.

mod offsets;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::envelope::Envelope;
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

/// Where appended rows go.
#[derive(Clone, Copy)]
pub enum Placement<'a> {
    /// The rows are the log: each gets a partition (`hash(key) % partitions_of(topic)`) and the
    /// partition's next offset. On Postgres, `notify_as` names this process in a NOTIFY per
    /// partition, so consumers in other processes wake at commit.
    Log {
        partitions_of: &'a (dyn Fn(&str) -> u32 + Sync),
        notify_as: Option<&'a str>,
    },
    /// The rows wait in the outbox until published to a broker.
    Outbox,
}

/// A row as appended: what delivering it needs, without reading it back.
#[derive(Debug, Clone)]
pub struct AppendedRow {
    pub seq: i64,
    pub topic: String,
    pub key: String,
    pub event_type: String,
    pub envelope: Arc<str>,
    pub headers: Option<String>,
    /// Position in the embedded log (None in the outbox).
    pub position: Option<(i32, i64)>,
}

/// What one or more appends wrote, to be delivered once their transaction committed.
#[derive(Debug, Clone, Default)]
pub struct Appended {
    pub rows: Vec<AppendedRow>,
}

impl Appended {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds the rows of a later append of the same transaction.
    pub fn extend(&mut self, other: Appended) {
        self.rows.extend(other.rows);
    }
}

/// Rows per INSERT, well below both backends' limits on bound values (14 per row).
const ROWS_PER_INSERT: usize = 500;

/// Appends `rows` in the caller's transaction, in the order given (which is their `seq` order).
pub async fn append(
    txn: &impl ConnectionTrait,
    placement: Placement<'_>,
    rows: Vec<LogRow>,
) -> Result<Appended, DbErr> {
    if rows.is_empty() {
        return Ok(Appended::default());
    }
    let positions = match placement {
        Placement::Log {
            partitions_of,
            notify_as,
        } => Some(offsets::allocate(txn, partitions_of, notify_as, &rows).await?),
        Placement::Outbox => None,
    };
    let now = Utc::now();
    let mut appended = Vec::with_capacity(rows.len());
    let mut start = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let chunk_positions = positions
            .as_ref()
            .map(|positions| &positions[start..start + chunk.len()]);
        let seqs = insert_rows(txn, chunk, chunk_positions, now).await?;
        for ((index, row), seq) in chunk.iter().enumerate().zip(seqs) {
            appended.push(AppendedRow {
                seq,
                topic: row.topic.clone(),
                key: row.key.clone(),
                event_type: row.event_type.clone(),
                envelope: Arc::from(row.envelope.as_str()),
                headers: row.headers.clone(),
                position: chunk_positions.map(|positions| positions[index]),
            });
        }
        start += chunk.len();
    }
    Ok(Appended { rows: appended })
}

/// Inserts `rows` in one statement; returns their `seq`s in the rows' order (matched by event
/// id and replay count, which are unique together, not by the order RETURNING happens to use).
async fn insert_rows(
    txn: &impl ConnectionTrait,
    rows: &[LogRow],
    positions: Option<&[(i32, i64)]>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    const COLUMNS: usize = 14;
    let mut sql = String::from(
        r#"INSERT INTO events (event_id, topic, "partition", log_offset, key, event_type, tenant_id,
                               exception_id, correlation_id, envelope, headers, replay_count, created_at,
                               published_at)
           VALUES "#,
    );
    // A row of the embedded log is on the bus the moment it commits; an outbox row once the
    // broker acknowledged it.
    let published_at = positions.map(|_| now);
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * COLUMNS);
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (1..=COLUMNS)
            .map(|column| format!("${}", index * COLUMNS + column))
            .collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
        let (partition, offset) = match positions {
            Some(positions) => (Some(positions[index].0), Some(positions[index].1)),
            None => (None, None),
        };
        values.extend([
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
            now.into(),
            published_at.into(),
        ]);
    }
    sql.push_str(" RETURNING seq, event_id, replay_count");
    let returned = txn.query_all_raw(statement(txn, &sql, values)).await?;
    let index: HashMap<(&str, i32), usize> = rows
        .iter()
        .enumerate()
        .map(|(at, row)| ((row.event_id.as_str(), row.replay_count), at))
        .collect();
    let mut seqs: Vec<Option<i64>> = vec![None; rows.len()];
    for returned_row in returned {
        let event_id: String = returned_row.try_get("", "event_id")?;
        let replay_count: i32 = returned_row.try_get("", "replay_count")?;
        if let Some(at) = index.get(&(event_id.as_str(), replay_count)) {
            seqs[*at] = Some(returned_row.try_get("", "seq")?);
        }
    }
    rows.iter()
        .zip(seqs)
        .map(|(row, seq)| {
            seq.ok_or_else(|| DbErr::Custom(format!("event {} was not stored", row.event_id)))
        })
        .collect()
}
