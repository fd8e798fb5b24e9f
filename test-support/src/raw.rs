//! A raw Kafka producer that puts bytes straight onto a test's topics (bypassing the outbox, as
//! a foreign or hostile producer would), and the valid envelopes it usually sends.

use std::collections::HashSet;
use std::time::Duration;

use exception_worker::envelope::Envelope;
use exception_worker::ingest;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::json;

use crate::Cluster;

/// A producer that writes bytes straight onto the test's topics, as a foreign producer would.
#[derive(Clone)]
pub struct RawProducer {
    producer: FutureProducer,
    prefix: String,
}

impl RawProducer {
    pub fn new(cluster: &Cluster) -> RawProducer {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &cluster.servers)
            // Room for the oversized (> 1 MiB) hostile messages.
            .set("message.max.bytes", "4000000")
            .set("linger.ms", "5")
            .create()
            .expect("Failed to create a raw producer");
        RawProducer {
            producer,
            prefix: cluster.prefix.clone(),
        }
    }

    /// Produces one record to `topic` (without the prefix); returns its partition and offset.
    pub async fn send(&self, topic: &str, key: Option<&str>, payload: &[u8]) -> (i32, i64) {
        let topic = format!("{}{topic}", self.prefix);
        let mut record = FutureRecord::<str, [u8]>::to(&topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        let delivery = self
            .producer
            .send(record, Duration::from_secs(30))
            .await
            .unwrap_or_else(|(error, _)| panic!("Failed to produce to {topic}: {error}"));
        (delivery.partition, delivery.offset)
    }

    /// Produces a valid envelope under its partition key.
    pub async fn send_envelope(&self, topic: &str, envelope: &Envelope) -> (i32, i64) {
        let key = envelope.partition_key();
        self.send(topic, Some(&key), envelope.encode().as_bytes())
            .await
    }
}

/// A valid ExceptionIngested envelope of `tenant` for `exception_id`.
pub fn ingested(tenant: &str, exception_id: &str) -> Envelope {
    let payload = json!({
        "exceptionId": exception_id,
        "exceptionType": "SETTLEMENT_FAIL",
        "sourceSystem": "MUREX",
    });
    ingest::prepare(
        tenant,
        &HashSet::new(),
        payload.to_string().as_bytes(),
        chrono::Utc::now(),
    )
    .expect("Failed to prepare an exception")
}
