//! Topic creation at start: missing topics are created with the configured partition count;
//! existing ones are left as they are.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::base_config;
use crate::bus::BusError;
use crate::config::KafkaSettings;

pub async fn ensure_topics(settings: &KafkaSettings, topics: &[&str]) -> Result<(), BusError> {
    let mut config = base_config(settings);
    for key in [
        "session.timeout.ms",
        "fetch.wait.max.ms",
        "auto.offset.reset",
    ] {
        config.remove(key);
    }
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let names: Vec<String> = topics
        .iter()
        .map(|topic| super::physical_topic(settings, topic))
        .collect();
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|topic| {
            NewTopic::new(
                topic,
                settings.topic_partitions,
                TopicReplication::Fixed(settings.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(&new_topics, &options).await?;
    for result in results {
        match result {
            Ok(topic) => {
                tracing::info!(%topic, partitions = settings.topic_partitions, "Topic created.")
            }
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(%topic, "Topic exists.");
            }
            Err((topic, code)) => {
                return Err(BusError::Kafka(rdkafka::error::KafkaError::AdminOp(code)))
                    .inspect_err(|_| tracing::error!(%topic, ?code, "Topic creation failed."));
            }
        }
    }
    Ok(())
}
