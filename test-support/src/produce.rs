//! Producing exceptions in-process (appended and published on commit, as the `ingest` command
//! does, or appended and left unpublished, as a crash between commit and publish leaves them)
//! and reading their effects: rows, never log lines.

use std::sync::Arc;
use std::time::{Duration, Instant};

use exception_worker::app::{instance_id, open_bus, open_database};
use exception_worker::bus::{outbox, Appended, Bus, LogRow, OutgoingEvent};
use exception_worker::envelope::Envelope;
use exception_worker::health::Health;
use exception_worker::ingest;
use exception_worker::metrics::Metrics;
use exception_worker::model::topics;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sea_orm::DatabaseConnection;
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::readers::{count, processed_by};
use crate::{Cluster, ACME, FETCH_WAIT_MAX_MS, GLOBEX};

/// Produced exceptions alternate between the two demo tenants.
pub const TENANTS: [&str; 2] = [ACME, GLOBEX];

/// The test's own database connection and Kafka bus (a producer; it joins no group).
pub struct Producer {
    pub db: DatabaseConnection,
    pub bus: Arc<dyn Bus>,
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
        let instance = format!("test-producer-{}", instance_id());
        let bus = open_bus(&settings, &db, &metrics, &health, &instance)
            .await
            .expect("Failed to open the Kafka bus");
        Producer {
            db,
            bus,
            produced: 0,
        }
    }

    /// Exceptions appended so far.
    pub fn produced(&self) -> usize {
        self.produced
    }

    /// The next `count` exceptions as ExceptionIngested envelopes.
    fn next_envelopes(&mut self, count: usize) -> Vec<Envelope> {
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
        self.produced += count;
        envelopes
    }

    /// Appends `count` ExceptionIngested rows to the outbox in one transaction and publishes
    /// nothing, as a process that crashed right after its commit would leave them.
    pub async fn append(&mut self, count: usize) {
        let rows: Vec<LogRow> = self
            .next_envelopes(count)
            .into_iter()
            .map(|envelope| {
                LogRow::from(&OutgoingEvent {
                    topic: topics::INGESTED,
                    envelope,
                })
            })
            .collect();
        let txn = self.db.begin().await.expect("Failed to begin");
        self.bus
            .append(&txn, rows)
            .await
            .expect("Failed to append exceptions");
        txn.commit().await.expect("Failed to commit");
    }

    /// Publishes every unpublished row, as the sweeper would, and waits until the broker has
    /// them.
    pub async fn publish(&self) {
        let cutoff = chrono::Utc::now() + chrono::Duration::seconds(1);
        let rows = outbox::unpublished_before(&self.db, cutoff, 1_000_000)
            .await
            .expect("Failed to read the outbox");
        self.bus.deliver(Appended { rows }).await.wait().await;
    }

    /// Appends and publishes `count` exceptions (published on commit, as `ingest` does), in
    /// transactions of `batch`.
    pub async fn produce(&mut self, count: usize, batch: usize) {
        let mut left = count;
        while left > 0 {
            let now = left.min(batch);
            let envelopes = self.next_envelopes(now);
            let (_accepted, delivery) = ingest::append(&self.db, self.bus.as_ref(), envelopes)
                .await
                .expect("Failed to append exceptions");
            delivery.wait().await;
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
