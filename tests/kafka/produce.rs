//! Producing exceptions in-process (append to the outbox, then publish what is pending, as the
//! `ingest` command does) and reading their effects: rows, never log lines.

use std::sync::Arc;
use std::time::{Duration, Instant};

use exception_worker::app::{instance_id, open_bus, open_database};
use exception_worker::bus::Bus;
use exception_worker::clock::{Clock, SystemClock};
use exception_worker::health::Health;
use exception_worker::ingest;
use exception_worker::metrics::Metrics;
use exception_worker::model::topics;
use exception_worker::relay;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::cluster::{Cluster, FETCH_WAIT_MAX_MS};
use crate::readers::{count, processed_by};

/// Produced exceptions alternate between the two demo tenants.
pub const TENANTS: [&str; 2] = ["acme-capital", "globex-markets"];

/// The test's own database connection and Kafka bus (a producer; it joins no group).
pub struct Producer {
    pub db: DatabaseConnection,
    pub bus: Arc<dyn Bus>,
    metrics: Metrics,
    holder: String,
    produced: usize,
}

impl Producer {
    /// Migrates the database and creates the topics: open it before starting workers, so they
    /// never race each other through the migrations.
    pub async fn open(cluster: &Cluster) -> Producer {
        let settings = cluster.settings(None);
        let db = open_database(&settings)
            .await
            .expect("Failed to open the database");
        let metrics = Metrics::new().expect("Failed to create metrics");
        let health = Health::new(Duration::from_secs(60), Duration::from_secs(60));
        let bus = open_bus(&settings, &db, &metrics, &health)
            .await
            .expect("Failed to open the Kafka bus");
        Producer {
            db,
            bus,
            metrics,
            holder: format!("test-producer-{}", instance_id()),
            produced: 0,
        }
    }

    /// Exceptions appended so far.
    pub fn produced(&self) -> usize {
        self.produced
    }

    /// Appends `count` ExceptionIngested rows to the outbox in one transaction, without
    /// publishing them.
    pub async fn append(&mut self, count: usize) {
        let now = chrono::Utc::now();
        let envelopes = (self.produced..self.produced + count)
            .map(|n| {
                let payload = json!({
                    "exceptionId": format!("EX-{n:06}"),
                    "exceptionType": "SETTLEMENT_FAIL",
                    "sourceSystem": "MUREX",
                });
                ingest::prepare(
                    TENANTS[n % TENANTS.len()],
                    &Default::default(),
                    payload.to_string().as_bytes(),
                    now,
                )
                .expect("Failed to prepare an exception")
            })
            .collect();
        ingest::append(&self.db, self.bus.as_ref(), envelopes)
            .await
            .expect("Failed to append exceptions");
        self.produced += count;
    }

    /// Publishes what is pending, unless a running worker's relay holds the lease (it publishes
    /// the rows then).
    pub async fn publish(&self) {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let port = self
            .bus
            .relay_port()
            .expect("the Kafka bus has a relay port");
        relay::publish_pending(&self.db, &port, &self.holder, 500, &self.metrics, clock)
            .await
            .expect("Failed to publish the outbox");
    }

    /// Appends and publishes `count` exceptions in batches of `batch`.
    pub async fn produce(&mut self, count: usize, batch: usize) {
        let mut left = count;
        while left > 0 {
            let now = left.min(batch);
            self.append(now).await;
            self.publish().await;
            left -= now;
        }
    }

    pub async fn close(self) {
        self.bus.close(Duration::from_secs(10)).await;
    }
}

/// The effects that must happen exactly once per produced exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    pub exceptions: i64,
    pub processed_by_intake: i64,
    pub normalized_events: i64,
}

impl Effects {
    pub fn all(n: usize) -> Effects {
        let n = n as i64;
        Effects {
            exceptions: n,
            processed_by_intake: n,
            normalized_events: n,
        }
    }
}

pub async fn effects(db: &DatabaseConnection) -> Effects {
    let normalized = "SELECT COUNT(*) AS n FROM events WHERE event_type = 'ExceptionNormalized'";
    Effects {
        exceptions: count(db, "SELECT COUNT(*) AS n FROM exceptions", vec![]).await,
        processed_by_intake: processed_by(db, "intake").await,
        normalized_events: count(db, normalized, vec![]).await,
    }
}

/// The records on the test's `exceptions.ingested` topic, counted by reading every partition
/// from the beginning. (Reading, not the broker's end offsets: tansu answers ListOffsets with
/// the last batch's base offset + 1, which undercounts batched records.)
pub async fn ingested_on_broker(cluster: &Cluster, expected: usize) -> usize {
    read_topic(
        cluster,
        topics::INGESTED,
        "reader",
        expected,
        Duration::from_secs(20),
    )
    .await
    .len()
}

/// Every record of the test's (prefixed) `topic`, read from the beginning of each partition
/// until at least `expected` arrived and nothing more came for half a second, or `limit`
/// passed.
pub async fn read_topic(
    cluster: &Cluster,
    topic: &str,
    reader: &str,
    expected: usize,
    limit: Duration,
) -> Vec<OwnedMessage> {
    let servers = cluster.servers.clone();
    let topic = format!("{}{topic}", cluster.prefix);
    let group = format!("{}.{reader}", cluster.group);
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MAX_MS)
            .create()
            .expect("Failed to create a reader");
        let metadata = consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(10))
            .expect("Failed to read the topic's metadata");
        let mut assignment = TopicPartitionList::new();
        for partition in metadata.topics()[0].partitions() {
            assignment
                .add_partition_offset(&topic, partition.id(), Offset::Beginning)
                .expect("a partition");
        }
        consumer.assign(&assignment).expect("Failed to assign");
        let deadline = Instant::now() + limit;
        let mut records = Vec::new();
        let mut last = Instant::now();
        while Instant::now() < deadline
            && (records.len() < expected || last.elapsed() < Duration::from_millis(500))
        {
            if let Some(message) = consumer.poll(Duration::from_millis(50)) {
                records.push(message.expect("Failed to read the topic").detach());
                last = Instant::now();
            }
        }
        records
    })
    .await
    .expect("the topic reader panicked")
}

/// Waits (up to `limit`) until intake processed all `n` exceptions, then asserts each effect
/// happened exactly once. On a mismatch the broker's offsets are shown next to the counts.
pub async fn assert_exactly_once(
    cluster: &Cluster,
    db: &DatabaseConnection,
    n: usize,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    // The three counts are separate queries: a transaction committing between them shows a
    // torn view for one read, so wait for a consistent full view rather than a first count.
    let mut seen = effects(db).await;
    while seen != Effects::all(n) && Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(200)).await;
        seen = effects(db).await;
    }
    // Settle once more: a late duplicate would show here, a torn read would not.
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    seen = effects(db).await;
    if seen != Effects::all(n) {
        let on_broker = ingested_on_broker(cluster, n).await;
        let backlog = count(
            db,
            "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL",
            vec![],
        )
        .await;
        panic!(
            "expected every effect of {n} exceptions exactly once, found {seen:?} after {limit:?}; \
             the broker holds {on_broker} ingested records; \
             outbox rows not yet published: {backlog}"
        );
    }
}
