//! The bus seam: how partitions are assigned to a consumer group, read in offset order and
//! committed, and where the outbox places new events. Two implementations share every actor,
//! handler and test: the embedded bus (the `events` table is the log) and, later, Kafka.

pub mod embedded;
pub mod kafka;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Notify};

use crate::store::unpublished::OutboxRow;

/// One partition of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// One message read from a partition. The payload is kept as received: it is decoded by the
/// handler, never re-serialised on the way.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub payload: Arc<[u8]>,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("database error in the embedded bus: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("kafka error: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("partition {0} is no longer owned by this consumer")]
    NotOwned(TopicPartition),
    #[error("bus closed")]
    Closed,
    #[error("{0}")]
    Io(String),
}

/// Reading and committing one assigned partition.
#[async_trait]
pub trait PartitionSource: Send + Sync {
    fn topic_partition(&self) -> &TopicPartition;
    /// The position to start from: the group's committed offset, or the beginning.
    async fn committed_position(&self) -> Result<i64, BusError>;
    /// Up to `max` records at `from` or later, in offset order, waiting up to `wait` for the
    /// first one; an empty vector means nothing arrived in time.
    async fn fetch(&self, from: i64, max: usize, wait: Duration) -> Result<Vec<Record>, BusError>;
    /// Stores `position` (the next offset to read) as the group's committed offset.
    async fn commit(&self, position: i64) -> Result<(), BusError>;
    /// The offset the next appended record will get (the partition's end).
    async fn end_offset(&self) -> Result<i64, BusError>;
}

/// Changes in what this consumer owns.
pub enum AssignmentEvent {
    Assigned(Vec<Arc<dyn PartitionSource>>),
    /// The partitions must be drained and committed, then `done` answered, before anyone else
    /// may own them. The bus waits for `done` on a blocking thread (a rebalance callback).
    Revoked {
        partitions: Vec<TopicPartition>,
        done: std::sync::mpsc::SyncSender<()>,
    },
}

/// Where the outbox puts new events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxPlacement {
    /// The events table is the log: each row gets its partition and offset in the writing
    /// transaction (the embedded bus).
    InDatabaseLog,
    /// Rows wait for a relay to publish them to an external broker.
    Relay,
}

/// Publishes outbox rows to an external broker, in the given order.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// One result per row, in order: Ok once the broker acknowledged the row.
    async fn publish(&self, rows: &[OutboxRow]) -> Vec<Result<(), String>>;
}

/// What the outbox relay needs from a bus that publishes through it.
#[derive(Clone)]
pub struct RelayPort {
    pub publisher: Arc<dyn Publisher>,
    /// Signalled after a commit appended rows in this process.
    pub appended: Arc<Notify>,
}

/// An event placed in the log by the outbox, reported to the bus after commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedEvent {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

#[async_trait]
pub trait Bus: Send + Sync {
    /// Creates missing topics (and their partitions).
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), BusError>;
    /// Joins `group` for `topics` as `role`; assignment changes arrive on the returned channel.
    async fn subscribe(
        &self,
        role: &str,
        group: &str,
        topics: &[&'static str],
    ) -> Result<mpsc::UnboundedReceiver<AssignmentEvent>, BusError>;
    /// Leaves every group and releases the clients, waiting at most `deadline`.
    async fn close(&self, deadline: Duration);
    fn outbox_placement(&self) -> OutboxPlacement;
    /// The partition count of `topic`, for the outbox's partitioner.
    fn partitions_of(&self, topic: &str) -> u32;
    /// Wakes consumers (embedded) or the relay (Kafka) after a commit appended events.
    fn notify_appended(&self, placed: &[PlacedEvent]);
    /// Whether the broker answers (always true for the embedded bus: it is the database).
    async fn ping(&self) -> bool {
        true
    }
    /// The relay port, for buses whose outbox rows are published by the relay.
    fn relay_port(&self) -> Option<RelayPort> {
        None
    }
}
