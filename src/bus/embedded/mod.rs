//! The embedded bus: the `events` table is the log, `bus_partitions` holds each partition's
//! next offset, `consumer_offsets` the groups' positions. Offsets are allocated inside the
//! writing transaction under the partition row's lock, so rows become visible in offset order
//! (no outbox gap) on SQLite and Postgres alike. Consumers wake on an in-process signal after a
//! commit and poll slowly as a fallback (for writers in other processes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{mpsc, watch};

use crate::store::statement;

use super::{
    AssignmentEvent, Bus, BusError, OutboxPlacement, PartitionSource, PlacedEvent, Record,
    TopicPartition,
};

/// Latest appended offset per partition, observed by that partition's consumers.
#[derive(Default)]
struct Signals(Mutex<HashMap<TopicPartition, watch::Sender<i64>>>);

impl Signals {
    fn receiver(&self, tp: &TopicPartition) -> watch::Receiver<i64> {
        let mut senders = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        senders
            .entry(tp.clone())
            .or_insert_with(|| watch::channel(-1).0)
            .subscribe()
    }

    fn notify(&self, tp: &TopicPartition, offset: i64) {
        let mut senders = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sender = senders
            .entry(tp.clone())
            .or_insert_with(|| watch::channel(-1).0);
        sender.send_if_modified(|latest| {
            let moved = offset > *latest;
            *latest = (*latest).max(offset);
            moved
        });
    }
}

pub struct EmbeddedBus {
    db: DatabaseConnection,
    /// Fetches read committed rows here (a pool of its own on SQLite, beside the writer).
    reader: DatabaseConnection,
    default_partitions: u32,
    partition_counts: RwLock<HashMap<String, u32>>,
    signals: Arc<Signals>,
    fallback_poll: Duration,
    subscriptions: Mutex<Vec<mpsc::UnboundedSender<AssignmentEvent>>>,
}

impl EmbeddedBus {
    pub fn new(
        db: DatabaseConnection,
        reader: DatabaseConnection,
        default_partitions: u32,
    ) -> Self {
        Self {
            db,
            reader,
            default_partitions: default_partitions.max(1),
            partition_counts: RwLock::new(HashMap::new()),
            signals: Arc::new(Signals::default()),
            fallback_poll: Duration::from_secs(1),
            subscriptions: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), BusError> {
        for topic in topics {
            for partition in 0..self.default_partitions as i32 {
                let sql = r#"INSERT INTO bus_partitions (topic, "partition", next_offset) VALUES ($1, $2, 0)
                             ON CONFLICT (topic, "partition") DO NOTHING"#;
                self.db
                    .execute_raw(statement(
                        &self.db,
                        sql,
                        vec![(*topic).into(), partition.into()],
                    ))
                    .await?;
            }
            let sql = r#"SELECT COUNT(*) AS partitions FROM bus_partitions WHERE topic = $1"#;
            let row = self
                .db
                .query_one_raw(statement(&self.db, sql, vec![(*topic).into()]))
                .await?;
            let existing = row
                .map(|row| row.try_get::<i64>("", "partitions"))
                .transpose()?
                .unwrap_or(0);
            let count = u32::try_from(existing)
                .unwrap_or(self.default_partitions)
                .max(1);
            if count != self.default_partitions {
                tracing::warn!(
                    topic,
                    existing = count,
                    configured = self.default_partitions,
                    "Topic keeps its existing partition count."
                );
            }
            self.partition_counts
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert((*topic).to_owned(), count);
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        _role: &str,
        group: &str,
        topics: &[&'static str],
    ) -> Result<mpsc::UnboundedReceiver<AssignmentEvent>, BusError> {
        let mut sources: Vec<Arc<dyn PartitionSource>> = Vec::new();
        for topic in topics {
            for partition in 0..self.partitions_of(topic) as i32 {
                let tp = TopicPartition {
                    topic: (*topic).to_owned(),
                    partition,
                };
                let wakeup = tokio::sync::Mutex::new(self.signals.receiver(&tp));
                sources.push(Arc::new(EmbeddedPartition {
                    db: self.db.clone(),
                    reader: self.reader.clone(),
                    group: group.to_owned(),
                    topic: Arc::from(*topic),
                    tp,
                    wakeup,
                    fallback_poll: self.fallback_poll,
                }));
            }
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        sender
            .send(AssignmentEvent::Assigned(sources))
            .map_err(|_| BusError::Closed)?;
        self.subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(sender);
        Ok(receiver)
    }

    async fn close(&self, _deadline: Duration) {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    fn outbox_placement(&self) -> OutboxPlacement {
        OutboxPlacement::InDatabaseLog
    }

    fn partitions_of(&self, topic: &str) -> u32 {
        self.partition_counts
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(topic)
            .copied()
            .unwrap_or(self.default_partitions)
    }

    fn notify_appended(&self, placed: &[PlacedEvent]) {
        for event in placed {
            let tp = TopicPartition {
                topic: event.topic.clone(),
                partition: event.partition,
            };
            self.signals.notify(&tp, event.offset);
        }
    }
}

struct EmbeddedPartition {
    db: DatabaseConnection,
    reader: DatabaseConnection,
    group: String,
    topic: Arc<str>,
    tp: TopicPartition,
    wakeup: tokio::sync::Mutex<watch::Receiver<i64>>,
    fallback_poll: Duration,
}

impl EmbeddedPartition {
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
        wakeup.borrow_and_update();
        let records = self.read(from, max).await?;
        if !records.is_empty() || wait.is_zero() {
            return Ok(records);
        }
        let wait = wait.min(self.fallback_poll);
        tokio::select! {
            _ = wakeup.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        self.read(from, max).await
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
