//! The embedded bus: the `events` table is the log (appended by `bus::log`), `bus_partitions`
//! holds each partition's next offset, `consumer_offsets` the groups' positions. Offsets are
//! allocated inside the writing transaction under the partition row's lock, so rows become
//! visible in offset order (no outbox gap) on SQLite and Postgres alike. Consumers wake when a
//! commit of this process appended to their partition, or (on Postgres) when another process's
//! did; a slow poll is the fallback. Every subscriber is assigned every partition: one process
//! per role.

mod partition;
pub mod signals;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::mpsc;

use self::partition::EmbeddedPartition;
use self::signals::Signals;
use super::log::{self, Appended, LogRow, Placement};
use super::{AssignmentEvent, Bus, BusError, Delivery, PartitionSource, TopicPartition};
use crate::store::statement;

pub struct EmbeddedBus {
    db: DatabaseConnection,
    /// Fetches read committed rows here (a pool of its own on SQLite, beside the writer).
    reader: DatabaseConnection,
    default_partitions: u32,
    partition_counts: RwLock<HashMap<String, u32>>,
    signals: Arc<Signals>,
    fallback_poll: Duration,
    subscriptions: Mutex<Vec<mpsc::UnboundedSender<AssignmentEvent>>>,
    /// This process's name in the NOTIFY payloads of its appends (Postgres).
    instance: String,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl EmbeddedBus {
    /// On Postgres (`listen_url` set) the bus also listens for other processes' appends; call
    /// it inside a runtime then.
    pub fn new(
        db: DatabaseConnection,
        reader: DatabaseConnection,
        default_partitions: u32,
        listen_url: Option<String>,
        instance: String,
    ) -> Self {
        let signals = Arc::new(Signals::default());
        let listener = listen_url.map(|url| {
            tokio::spawn(signals::listen_for_other_processes(
                url,
                instance.clone(),
                signals.clone(),
            ))
        });
        Self {
            db,
            reader,
            default_partitions: default_partitions.max(1),
            partition_counts: RwLock::new(HashMap::new()),
            signals,
            fallback_poll: Duration::from_secs(1),
            subscriptions: Mutex::new(Vec::new()),
            instance,
            listener,
        }
    }

    fn partition_count(&self, topic: &str) -> u32 {
        self.partition_counts
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(topic)
            .copied()
            .unwrap_or(self.default_partitions)
    }
}

impl Drop for EmbeddedBus {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
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
            for partition in 0..self.partition_count(topic) as i32 {
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
                    last_read: std::sync::Mutex::new(None),
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

    async fn append(
        &self,
        txn: &DatabaseTransaction,
        rows: Vec<LogRow>,
    ) -> Result<Appended, DbErr> {
        let partitions_of = |topic: &str| self.partition_count(topic);
        let placement = Placement::Log {
            partitions_of: &partitions_of,
            notify_as: Some(&self.instance),
        };
        log::append(txn, placement, rows).await
    }

    /// The rows are in the log once committed: wake their partitions' consumers.
    async fn deliver(&self, appended: Appended) -> Delivery {
        for row in &appended.rows {
            if let Some((partition, _offset)) = row.position {
                self.signals.bump(&TopicPartition {
                    topic: row.topic.clone(),
                    partition,
                });
            }
        }
        Delivery::done(appended.rows.len())
    }
}
