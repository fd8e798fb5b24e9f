//! The bus seam: how partitions are assigned to a consumer group, read in offset order and
//! committed, how a transaction appends the events it emits, and how they are delivered once it
//! committed. Two implementations sit behind it, and every actor and handler works with either:
//! `embedded` (the `events` table is the log) and `kafka` (the `events` table is the outbox,
//! published on commit). `log` appends to the `events` table for both, `outbox` reads it as the
//! Kafka bus's outbox, and `transact` (`write_and_emit`) is how writers outside the handlers
//! commit state and events together. docs/architecture.md describes the delivery guarantees.

pub mod embedded;
pub mod kafka;
pub mod log;
pub mod outbox;
mod transact;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use tokio::sync::mpsc;

pub use self::log::{Appended, AppendedRow, LogRow, OutgoingEvent};
pub use self::transact::write_and_emit;

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

/// Whether the events appended by one transaction are on the bus yet: the embedded bus has
/// them the moment they commit; the Kafka bus once the broker acknowledged them.
pub enum Delivery {
    Done(DeliveryReport),
    Pending(BoxFuture<'static, DeliveryReport>),
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    /// Rows the broker refused for good; they stay unpublished in the outbox.
    pub failed: usize,
}

impl Delivery {
    /// Already on the bus.
    pub fn done(delivered: usize) -> Self {
        Delivery::Done(DeliveryReport {
            delivered,
            failed: 0,
        })
    }

    /// Delivered once `pending` resolves.
    pub fn pending(pending: impl Future<Output = DeliveryReport> + Send + 'static) -> Self {
        Delivery::Pending(Box::pin(pending))
    }

    pub async fn wait(self) -> DeliveryReport {
        match self {
            Delivery::Done(report) => report,
            Delivery::Pending(pending) => pending.await,
        }
    }
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
    /// Leaves every group, publishes what is queued and releases the clients, waiting at most
    /// `deadline`.
    async fn close(&self, deadline: Duration);
    /// Appends `rows` to the log (embedded) or the outbox (Kafka) in the caller's transaction.
    async fn append(
        &self,
        txn: &DatabaseTransaction,
        rows: Vec<LogRow>,
    ) -> Result<Appended, sea_orm::DbErr>;
    /// Delivers what a transaction appended, once it committed: wakes the consumers (embedded)
    /// or hands the rows to the producer at once (Kafka; backpressure waits here when its queue
    /// is full). The returned delivery resolves once the events are on the bus.
    async fn deliver(&self, appended: Appended) -> Delivery;
    /// Whether the broker answers (always true for the embedded bus: it is the database).
    async fn ping(&self) -> bool {
        true
    }
    /// Delivers the rows of `key` a crash left unpublished (an outbox bus), before the input
    /// that emitted them is acknowledged again: so no later event of the key overtakes them.
    async fn deliver_unpublished(&self, _key: &str) -> Result<Delivery, sea_orm::DbErr> {
        Ok(Delivery::done(0))
    }
    /// True when appended rows wait in an outbox until published, so a sweeper must look for
    /// rows a crash left behind.
    fn has_outbox(&self) -> bool {
        false
    }
    /// Delivers rows a sweeper found unpublished and returns once they are marked published
    /// too, so that its next pass does not find (and publish) them again.
    async fn deliver_swept(&self, rows: Vec<AppendedRow>) -> DeliveryReport {
        self.deliver(Appended { rows }).await.wait().await
    }
}
