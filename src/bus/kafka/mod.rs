//! The Kafka bus (rdkafka): one consumer per role with its own group and cooperative-sticky
//! assignment, a split partition queue per assigned partition, offsets committed only from the
//! watermark, an idempotent producer behind the outbox relay, and topic creation at start.

mod admin;
mod group;
mod partition;
pub mod publisher;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;
use tokio::sync::{mpsc, Notify};

use super::{AssignmentEvent, Bus, BusError, OutboxPlacement, PlacedEvent, RelayPort};
use crate::config::KafkaSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use group::GroupHandle;

pub struct KafkaBus {
    settings: KafkaSettings,
    producer: FutureProducer,
    appended: Arc<Notify>,
    metrics: Metrics,
    health: Health,
    drain_deadline: Duration,
    groups: Mutex<Vec<GroupHandle>>,
}

impl KafkaBus {
    pub fn new(
        settings: KafkaSettings,
        metrics: Metrics,
        health: Health,
        drain_deadline: Duration,
    ) -> Result<Self, BusError> {
        let producer: FutureProducer = producer_config(&settings).create()?;
        Ok(Self {
            settings,
            producer,
            appended: Arc::new(Notify::new()),
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

fn producer_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = base_config(settings);
    // Idempotence keeps per-partition order and removes broker-side duplicates from retries.
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "2");
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
        let producer = self.producer.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            rdkafka::producer::Producer::flush(&producer, deadline)
        })
        .await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::warn!("Producer flush did not finish; unpublished rows stay in the outbox.");
        }
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

    fn outbox_placement(&self) -> OutboxPlacement {
        OutboxPlacement::Relay
    }

    fn partitions_of(&self, _topic: &str) -> u32 {
        u32::try_from(self.settings.topic_partitions).unwrap_or(1)
    }

    fn notify_appended(&self, _placed: &[PlacedEvent]) {
        self.appended.notify_one();
    }

    fn relay_port(&self) -> Option<RelayPort> {
        Some(RelayPort {
            publisher: Arc::new(publisher::KafkaPublisher::new(
                self.producer.clone(),
                self.settings.topic_prefix.clone(),
            )),
            appended: self.appended.clone(),
        })
    }
}
