//! Publishing outbox rows with the idempotent producer: every row of a batch is queued in
//! order, then every delivery is awaited, so per-partition order holds and throughput is not
//! bound by one round trip per row.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::bus::Publisher;
use crate::store::unpublished::OutboxRow;

/// How long a row may wait in the producer's queue for room.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct KafkaPublisher {
    producer: FutureProducer,
    topic_prefix: String,
}

impl KafkaPublisher {
    pub fn new(producer: FutureProducer, topic_prefix: String) -> Self {
        Self {
            producer,
            topic_prefix,
        }
    }
}

#[async_trait]
impl Publisher for KafkaPublisher {
    async fn publish(&self, rows: &[OutboxRow]) -> Vec<Result<(), String>> {
        let topics: Vec<String> = rows
            .iter()
            .map(|row| format!("{}{}", self.topic_prefix, row.topic))
            .collect();
        let deliveries = rows.iter().zip(&topics).map(|(row, topic)| {
            let headers = headers_of(row);
            let record = FutureRecord::to(topic)
                .key(row.key.as_bytes())
                .payload(row.envelope.as_bytes())
                .headers(headers);
            self.producer.send(record, QUEUE_TIMEOUT)
        });
        join_all(deliveries)
            .await
            .into_iter()
            .map(|delivery| {
                delivery
                    .map(|_| ())
                    .map_err(|(error, _message)| error.to_string())
            })
            .collect()
    }
}

/// The row's headers as Kafka headers, after `event_type`.
fn headers_of(row: &OutboxRow) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new().insert(Header {
        key: "event_type",
        value: Some(row.event_type.as_bytes()),
    });
    let extra = row
        .headers
        .as_deref()
        .and_then(|text| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok()
        })
        .unwrap_or_default();
    for (key, value) in &extra {
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        headers = headers.insert(Header {
            key,
            value: Some(value.as_bytes()),
        });
    }
    headers
}
