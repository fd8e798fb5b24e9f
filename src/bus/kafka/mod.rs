//! The Kafka bus (rdkafka): one consumer per role with its own group and cooperative-sticky
//! assignment, a split partition queue per assigned partition, offsets committed only from the
//! watermark, an idempotent producer that publishes each transaction's outbox rows right after
//! its commit, and topic creation at start.

mod admin;
mod group;
mod marker;
mod partition;
pub mod publisher;
pub mod reachable;
mod stats;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::mpsc;

use super::log::{self, Appended, LogRow, Placement};
use super::{AppendedRow, AssignmentEvent, Bus, BusError, Delivery, DeliveryReport};
use crate::config::KafkaSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use group::GroupHandle;
use marker::Marker;
use publisher::KafkaPublisher;
use stats::StatsContext;

pub struct KafkaBus {
    settings: KafkaSettings,
    db: DatabaseConnection,
    producer: FutureProducer<StatsContext>,
    publisher: KafkaPublisher,
    metrics: Metrics,
    health: Health,
    drain_deadline: Duration,
    groups: Mutex<Vec<GroupHandle>>,
}

impl KafkaBus {
    /// Creates the clients; `db` is where published rows are marked. Call it inside a runtime
    /// (the marking task starts on it).
    pub fn new(
        settings: KafkaSettings,
        db: DatabaseConnection,
        metrics: Metrics,
        health: Health,
        drain_deadline: Duration,
    ) -> Result<Self, BusError> {
        let producer: FutureProducer<StatsContext> =
            producer_config(&settings).create_with_context(StatsContext::new(metrics.clone()))?;
        let publisher = KafkaPublisher::new(
            producer.clone(),
            settings.topic_prefix.clone(),
            Marker::start(db.clone(), metrics.clone()),
            metrics.clone(),
        );
        Ok(Self {
            settings,
            db,
            producer,
            publisher,
            metrics,
            health,
            drain_deadline,
            groups: Mutex::new(Vec::new()),
        })
    }
}

/// The broker's name of a topic: the configured prefix, then the topic.
pub(crate) fn physical_topic(settings: &KafkaSettings, topic: &str) -> String {
    format!("{}{topic}", settings.topic_prefix)
}

/// How long the sweeper waits for the rows it published to be marked before its next pass.
const SWEPT_MARK_DEADLINE: Duration = Duration::from_secs(30);

/// librdkafka defaults this service changes, unless the operator sets them: after a broker
/// outage a client retries its connection at most a second apart instead of ten, so work
/// resumes within a second of the broker's return.
const CLIENT_DEFAULTS: [(&str, &str); 2] = [
    ("reconnect.backoff.ms", "100"),
    ("reconnect.backoff.max.ms", "1000"),
];

/// Properties every client shares: the bootstrap servers and the operator's settings.
pub(crate) fn base_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.bootstrap_servers);
    for (key, value) in CLIENT_DEFAULTS {
        config.set(key, value);
    }
    for (key, value) in &settings.client_properties {
        config.set(key, value);
    }
    config
}

/// Producer defaults the operator may override: a row is retried until delivered (an infinite
/// message timeout, so a broker outage never drops a row while later rows of its partition go
/// through), the queue is bounded so an outage pushes back on the handlers instead of
/// growing memory, and statistics (queue, broker round trips) reach the metrics every 15 s.
const PRODUCER_DEFAULTS: [(&str, &str); 4] = [
    ("linger.ms", "2"),
    ("statistics.interval.ms", "15000"),
    ("message.timeout.ms", "0"),
    ("queue.buffering.max.kbytes", "65536"),
];

fn producer_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = base_config(settings);
    for (key, value) in PRODUCER_DEFAULTS {
        if !settings.client_properties.contains_key(key) {
            config.set(key, value);
        }
    }
    // Idempotence keeps per-partition order and removes broker-side duplicates from retries.
    config.set("enable.idempotence", "true").set("acks", "all");
    // Consumer-only properties would only produce warnings on a producer.
    for key in [
        "session.timeout.ms",
        "fetch.wait.max.ms",
        "auto.offset.reset",
    ] {
        config.remove(key);
    }
    config
}

#[async_trait]
impl Bus for KafkaBus {
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), BusError> {
        admin::ensure_topics(&self.settings, topics).await
    }

    async fn subscribe(
        &self,
        role: &str,
        group: &str,
        topics: &[&'static str],
    ) -> Result<mpsc::UnboundedReceiver<AssignmentEvent>, BusError> {
        let (handle, receiver) = group::join(
            &self.settings,
            role,
            group,
            topics,
            self.metrics.clone(),
            self.health.clone(),
            self.drain_deadline,
        )?;
        self.groups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(handle);
        Ok(receiver)
    }

    async fn close(&self, deadline: Duration) {
        let groups: Vec<GroupHandle> = std::mem::take(
            &mut *self
                .groups
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for group in groups {
            group.close(deadline).await;
        }
        self.publisher.flush(deadline).await;
    }

    async fn append(
        &self,
        txn: &DatabaseTransaction,
        rows: Vec<LogRow>,
    ) -> Result<Appended, DbErr> {
        log::append(txn, Placement::Outbox, rows).await
    }

    async fn deliver(&self, appended: Appended) -> Delivery {
        self.publisher.publish(appended.rows).await
    }

    async fn deliver_unpublished(&self, key: &str) -> Result<Delivery, DbErr> {
        let rows = super::outbox::unpublished_of_key(&self.db, key).await?;
        Ok(self.publisher.publish(rows).await)
    }

    fn has_outbox(&self) -> bool {
        true
    }

    async fn deliver_swept(&self, rows: Vec<AppendedRow>) -> DeliveryReport {
        let report = self.publisher.publish(rows).await.wait().await;
        self.publisher.wait_marked(SWEPT_MARK_DEADLINE).await;
        report
    }

    async fn ping(&self) -> bool {
        let producer = self.producer.clone();
        let answered = tokio::task::spawn_blocking(move || {
            rdkafka::producer::Producer::client(&producer)
                .fetch_metadata(None, Duration::from_secs(2))
                .is_ok()
        })
        .await;
        matches!(answered, Ok(true))
    }
}
