//! librdkafka's statistics that matter to an operator, as metrics: the producer's queue
//! (messages and bytes waiting to be sent or acknowledged) and the mean round trip to each
//! broker. librdkafka emits them every `statistics.interval.ms` (15 s unless set otherwise).

use rdkafka::client::ClientContext;
use rdkafka::statistics::Statistics;

use crate::metrics::Metrics;

/// The producer's client context: records each statistics report.
pub struct StatsContext {
    metrics: Metrics,
}

impl StatsContext {
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl ClientContext for StatsContext {
    fn stats(&self, statistics: Statistics) {
        let metrics = &self.metrics;
        metrics
            .kafka_producer_queue_messages
            .set(i64::try_from(statistics.msg_cnt).unwrap_or(i64::MAX));
        metrics
            .kafka_producer_queue_bytes
            .set(i64::try_from(statistics.msg_size).unwrap_or(i64::MAX));
        // Real brokers only: bootstrap and coordinator entries have no node id of their own.
        for broker in statistics
            .brokers
            .values()
            .filter(|broker| broker.nodeid >= 0)
        {
            if let Some(rtt) = &broker.rtt {
                metrics
                    .kafka_broker_rtt_seconds
                    .with_label_values(&[broker.name.as_str()])
                    .set(rtt.avg as f64 / 1_000_000.0);
            }
        }
    }
}
