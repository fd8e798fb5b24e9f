//! Whether the brokers answer, asked with a client of its own whose librdkafka logs go to DEBUG:
//! start-up asks again and again while a broker is down, and each failed connection would
//! otherwise log an error of its own.

use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;

use super::base_config;
use crate::config::KafkaSettings;

/// Sends librdkafka's own logs and errors to DEBUG.
struct QuietContext;

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        tracing::debug!(?level, facility, message, "librdkafka (start-up probe)");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "librdkafka (start-up probe)");
    }
}

impl ConsumerContext for QuietContext {}

/// Fetches the cluster's metadata within `timeout`; the error says why it could not.
pub async fn broker_answers(settings: &KafkaSettings, timeout: Duration) -> Result<(), KafkaError> {
    let config = base_config(settings);
    let asked = tokio::task::spawn_blocking(move || {
        let client: BaseConsumer<QuietContext> = config.create_with_context(QuietContext)?;
        client.fetch_metadata(None, timeout).map(|_| ())
    })
    .await;
    asked.unwrap_or(Err(KafkaError::Canceled))
}
