//! Publishing on commit: the rows a transaction appended are handed to the idempotent producer
//! right after it committed, in the order they were appended, without waiting for the
//! acknowledgements of earlier rows (the producer pipelines them). Once the broker acknowledged
//! them they are marked published, in batches.
//!
//! Why per-key order holds (a key is `tenant:exception`; order matters per topic and key):
//! - Within a process, one key's input events are handled by one handler actor, one at a time,
//!   so the rows their transactions append reach the producer in commit order, and the
//!   idempotent producer keeps the order of one partition, retries included (its message
//!   timeout is infinite, so a row is retried until delivered rather than dropped while later
//!   rows go through).
//! - Across processes, the partition worker stores an input's offset only after the rows its
//!   handling appended are acknowledged (`Delivery`). So when a rebalance or a crash hands the
//!   input partition to another process, every output of every input before the committed
//!   offset is on the broker already, ahead of anything the new owner emits.
//! - An input whose outputs were committed but not acknowledged (its process crashed in
//!   between) is redelivered to the new owner; the handler sees its claim, publishes the
//!   outputs still unpublished for that key first, and only then acknowledges it.
//! - Rows left unpublished by a crash are also published by the sweeper after a grace period;
//!   a row published twice is deduplicated by its event id.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::marker::Marker;
use super::stats::StatsContext;
use crate::bus::{AppendedRow, Delivery, DeliveryReport};
use crate::metrics::Metrics;

/// How long to wait before offering a row again to a full producer queue.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(2);

pub struct KafkaPublisher {
    producer: FutureProducer<StatsContext>,
    topic_prefix: String,
    marker: Marker,
    metrics: Metrics,
}

impl KafkaPublisher {
    pub fn new(
        producer: FutureProducer<StatsContext>,
        topic_prefix: String,
        marker: Marker,
        metrics: Metrics,
    ) -> Self {
        Self {
            producer,
            topic_prefix,
            marker,
            metrics,
        }
    }

    /// Hands `rows` to the producer in order (waiting while its queue is full) and returns the
    /// delivery of all of them.
    pub async fn publish(&self, rows: Vec<AppendedRow>) -> Delivery {
        if rows.is_empty() {
            return Delivery::done(0);
        }
        let mut deliveries = Vec::with_capacity(rows.len());
        let mut refused = 0;
        for row in &rows {
            let topic = format!("{}{}", self.topic_prefix, row.topic);
            let mut record = FutureRecord::to(&topic)
                .key(row.key.as_bytes())
                .payload(row.envelope.as_bytes())
                .headers(headers_of(row));
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        deliveries.push((row.seq, delivery));
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                    }
                    Err((error, _)) => {
                        refused += 1;
                        self.metrics.outbox_publish_failures.inc();
                        tracing::error!(seq = row.seq, topic = %row.topic, %error,
                            "The producer refused a row; it stays in the outbox for the sweeper.");
                        break;
                    }
                }
            }
        }
        let marker = self.marker.clone();
        let metrics = self.metrics.clone();
        // The acknowledgements are collected (and the rows marked) whether or not anyone waits
        // for the delivery: a caller that answers its client at commit may drop it.
        let acknowledged = tokio::spawn(async move {
            let mut delivered = Vec::with_capacity(deliveries.len());
            let mut failed = refused;
            for (seq, delivery) in deliveries {
                match delivery.await {
                    Ok(Ok(_)) => delivered.push(seq),
                    Ok(Err((error, _))) => {
                        failed += 1;
                        metrics.outbox_publish_failures.inc();
                        tracing::error!(seq, %error, "The broker refused a row; it stays in the outbox for the sweeper.");
                    }
                    Err(_canceled) => failed += 1,
                }
            }
            let report = DeliveryReport {
                delivered: delivered.len(),
                failed,
            };
            marker.mark(delivered);
            report
        });
        Delivery::pending(async move {
            acknowledged.await.unwrap_or(DeliveryReport {
                delivered: 0,
                failed: rows.len(),
            })
        })
    }

    /// Waits up to `deadline` until every acknowledged row is marked published.
    pub async fn wait_marked(&self, deadline: Duration) {
        self.marker.flush(deadline).await;
    }

    /// Waits up to `deadline` for queued rows to be acknowledged and marked.
    pub async fn flush(&self, deadline: Duration) {
        let producer = self.producer.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            rdkafka::producer::Producer::flush(&producer, deadline)
        })
        .await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::warn!("Producer flush did not finish; unpublished rows stay in the outbox.");
        }
        self.marker.flush(deadline).await;
    }
}

/// The row's headers as Kafka headers, after `event_type`.
fn headers_of(row: &AppendedRow) -> OwnedHeaders {
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
