//! One partition of the embedded log as a consumer sees it: reads of committed rows in offset
//! order, the group's committed position in `consumer_offsets`, and a wait for the next append
//! (its generation signal, or a slow poll as a fallback).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::watch;

use crate::bus::{BusError, PartitionSource, Record, TopicPartition};
use crate::store::statement;

pub struct EmbeddedPartition {
    pub(super) db: DatabaseConnection,
    /// Committed rows are read here (a pool of its own on SQLite, beside the writer).
    pub(super) reader: DatabaseConnection,
    pub(super) group: String,
    pub(super) topic: Arc<str>,
    pub(super) tp: TopicPartition,
    pub(super) wakeup: tokio::sync::Mutex<watch::Receiver<u64>>,
    pub(super) fallback_poll: Duration,
    /// The append generation the last read saw, and whether that read left rows behind (it
    /// filled its page): with neither a newer generation nor rows left behind, a fetch waits
    /// for the next append instead of reading nothing.
    pub(super) last_read: std::sync::Mutex<Option<(u64, bool)>>,
}

impl EmbeddedPartition {
    fn last_read(&self) -> Option<(u64, bool)> {
        *self
            .last_read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remember(&self, generation: u64, left_behind: bool) {
        *self
            .last_read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((generation, left_behind));
    }

    async fn read(&self, from: i64, max: usize) -> Result<Vec<Record>, BusError> {
        let sql = r#"SELECT log_offset, key, envelope FROM events
                     WHERE topic = $1 AND "partition" = $2 AND log_offset >= $3
                     ORDER BY log_offset LIMIT $4"#;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let values = vec![
            self.tp.topic.clone().into(),
            self.tp.partition.into(),
            from.into(),
            limit.into(),
        ];
        let rows = self
            .reader
            .query_all_raw(statement(&self.reader, sql, values))
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let envelope: String = row.try_get("", "envelope")?;
            records.push(Record {
                topic: self.topic.clone(),
                partition: self.tp.partition,
                offset: row.try_get("", "log_offset")?,
                key: Some(row.try_get("", "key")?),
                payload: Arc::from(envelope.into_bytes()),
            });
        }
        Ok(records)
    }
}

#[async_trait]
impl PartitionSource for EmbeddedPartition {
    fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    async fn committed_position(&self) -> Result<i64, BusError> {
        let sql = r#"SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND "partition" = $3"#;
        let values = vec![
            self.group.clone().into(),
            self.tp.topic.clone().into(),
            self.tp.partition.into(),
        ];
        let row = self
            .db
            .query_one_raw(statement(&self.db, sql, values))
            .await?;
        Ok(row
            .map(|row| row.try_get::<i64>("", "next_offset"))
            .transpose()?
            .unwrap_or(0))
    }

    async fn fetch(&self, from: i64, max: usize, wait: Duration) -> Result<Vec<Record>, BusError> {
        let mut wakeup = self.wakeup.lock().await;
        let generation = *wakeup.borrow_and_update();
        let worth_reading = self
            .last_read()
            .is_none_or(|(seen, left_behind)| left_behind || seen != generation);
        if worth_reading || wait.is_zero() {
            let records = self.read(from, max).await?;
            self.remember(generation, records.len() == max);
            if !records.is_empty() || wait.is_zero() {
                return Ok(records);
            }
        }
        let wait = wait.min(self.fallback_poll);
        tokio::select! {
            _ = wakeup.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        let generation = *wakeup.borrow_and_update();
        let records = self.read(from, max).await?;
        self.remember(generation, records.len() == max);
        Ok(records)
    }

    async fn commit(&self, position: i64) -> Result<(), BusError> {
        let sql = r#"INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (group_id, topic, "partition")
                     DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at"#;
        let values = vec![
            self.group.clone().into(),
            self.tp.topic.clone().into(),
            self.tp.partition.into(),
            position.into(),
            Utc::now().into(),
        ];
        self.db
            .execute_raw(statement(&self.db, sql, values))
            .await?;
        Ok(())
    }

    async fn end_offset(&self) -> Result<i64, BusError> {
        let sql = r#"SELECT next_offset FROM bus_partitions WHERE topic = $1 AND "partition" = $2"#;
        let values = vec![self.tp.topic.clone().into(), self.tp.partition.into()];
        let row = self
            .reader
            .query_one_raw(statement(&self.reader, sql, values))
            .await?;
        Ok(row
            .map(|row| row.try_get::<i64>("", "next_offset"))
            .transpose()?
            .unwrap_or(0))
    }
}
