//! Kafka settings: the named variables operators expect, plus a pass-through of any librdkafka
//! property as `KAFKA_CONFIG_<KEY>` (upper case, dots as underscores:
//! `KAFKA_CONFIG_FETCH_WAIT_MAX_MS=10` sets `fetch.wait.max.ms=10`). Secrets never reach Debug.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::checked::Checked;
use super::table::{
    KAFKA_REPLICATION_FACTOR, KAFKA_SASL_MECHANISM, KAFKA_SASL_PASSWORD, KAFKA_SASL_USERNAME,
    KAFKA_SECURITY_PROTOCOL, KAFKA_SESSION_TIMEOUT_MS, KAFKA_SSL_CA_LOCATION,
    KAFKA_SSL_CERTIFICATE_LOCATION, KAFKA_SSL_KEY_LOCATION, KAFKA_TOPIC_PARTITIONS,
    KAFKA_TOPIC_PREFIX, OUTBOX_BATCH_SIZE, OUTBOX_SWEEP_AFTER_MS, OUTBOX_SWEEP_INTERVAL_MS,
};

pub const PASSTHROUGH_PREFIX: &str = "KAFKA_CONFIG_";

#[derive(Clone)]
pub struct KafkaSettings {
    pub bootstrap_servers: String,
    /// Prepended to every topic name on the broker (e.g. `staging.`), so several deployments
    /// can share a cluster.
    pub topic_prefix: String,
    pub topic_partitions: i32,
    pub replication_factor: i32,
    /// librdkafka properties applied to every client (named settings and pass-through).
    pub client_properties: BTreeMap<String, String>,
    /// How the sweeper publishes rows a crash left unpublished.
    pub sweeper: SweeperSettings,
}

/// How the sweeper runs.
#[derive(Debug, Clone)]
pub struct SweeperSettings {
    /// Rows published per pass, at most.
    pub batch_size: usize,
    /// Time between passes.
    pub interval: Duration,
    /// How long a row may stay unpublished before the sweeper takes it over.
    pub grace: Duration,
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<&str, &str> = self
            .client_properties
            .iter()
            .map(|(key, value)| {
                let secret =
                    key.contains("password") || key.contains("secret") || key.ends_with(".key.pem");
                (key.as_str(), if secret { "***" } else { value.as_str() })
            })
            .collect();
        f.debug_struct("KafkaSettings")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("topic_prefix", &self.topic_prefix)
            .field("topic_partitions", &self.topic_partitions)
            .field("replication_factor", &self.replication_factor)
            .field("client_properties", &shown)
            .finish()
    }
}

/// `KAFKA_CONFIG_*` variables of `vars` as librdkafka properties.
pub fn passthrough_from_env(
    vars: impl Iterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    vars.filter_map(|(name, value)| {
        let key = name.strip_prefix(PASSTHROUGH_PREFIX)?;
        (!key.is_empty()).then(|| (key.to_ascii_lowercase().replace('_', "."), value))
    })
    .collect()
}

/// The Kafka settings, once KAFKA_BOOTSTRAP_SERVERS is set (their simple checks ran with the
/// table's); the rules here: named client properties, the pass-through, the servers list and the
/// topic prefix.
pub(super) fn validate(
    bootstrap_servers: String,
    c: &mut Checked,
    passthrough: &BTreeMap<String, String>,
) -> KafkaSettings {
    let topic_partitions = c.whole(&KAFKA_TOPIC_PARTITIONS);
    let replication_factor = c.whole(&KAFKA_REPLICATION_FACTOR);
    let session_timeout_ms: u32 = c.whole(&KAFKA_SESSION_TIMEOUT_MS);
    let sweeper = SweeperSettings {
        batch_size: c.whole(&OUTBOX_BATCH_SIZE),
        interval: Duration::from_millis(c.whole(&OUTBOX_SWEEP_INTERVAL_MS)),
        grace: Duration::from_millis(c.whole(&OUTBOX_SWEEP_AFTER_MS)),
    };
    let mut client_properties = BTreeMap::new();
    client_properties.insert(
        "session.timeout.ms".to_owned(),
        session_timeout_ms.to_string(),
    );
    let named = [
        ("security.protocol", KAFKA_SECURITY_PROTOCOL),
        ("sasl.mechanism", KAFKA_SASL_MECHANISM),
        ("sasl.username", KAFKA_SASL_USERNAME),
        ("sasl.password", KAFKA_SASL_PASSWORD),
        ("ssl.ca.location", KAFKA_SSL_CA_LOCATION),
        ("ssl.certificate.location", KAFKA_SSL_CERTIFICATE_LOCATION),
        ("ssl.key.location", KAFKA_SSL_KEY_LOCATION),
    ];
    for (key, setting) in named {
        if let Some(value) = c
            .raw(&setting)
            .map(str::trim)
            .filter(|value| !value.is_empty())
        {
            client_properties.insert(key.to_owned(), value.to_owned());
        }
    }
    for (key, value) in passthrough {
        if key.starts_with("enable.auto") || key == "group.id" || key == "bootstrap.servers" {
            c.problem(format!(
                "{PASSTHROUGH_PREFIX}{}: '{key}' is managed by exception-worker and cannot be overridden",
                key.replace('.', "_").to_ascii_uppercase()
            ));
            continue;
        }
        client_properties.insert(key.clone(), value.clone());
    }
    if bootstrap_servers
        .split(',')
        .any(|server| server.trim().is_empty())
    {
        c.problem(format!(
            "KAFKA_BOOTSTRAP_SERVERS: '{bootstrap_servers}' has an empty entry"
        ));
    }
    let topic_prefix = c
        .raw(&KAFKA_TOPIC_PREFIX)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if !topic_prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        c.problem(format!(
            "KAFKA_TOPIC_PREFIX: '{topic_prefix}' may only hold letters, digits, '.', '_' and '-'"
        ));
    }
    KafkaSettings {
        bootstrap_servers,
        topic_prefix,
        topic_partitions,
        replication_factor,
        client_properties,
        sweeper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EnvVars;

    #[test]
    fn passthrough_maps_names_to_properties() {
        let vars = vec![
            ("KAFKA_CONFIG_FETCH_WAIT_MAX_MS".to_owned(), "10".to_owned()),
            ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), "x".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let properties = passthrough_from_env(vars.into_iter());
        assert_eq!(properties.len(), 1);
        assert_eq!(properties["fetch.wait.max.ms"], "10");
    }

    #[test]
    fn named_settings_and_managed_keys() {
        let vars = [
            ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            ("KAFKA_SESSION_TIMEOUT_MS", "6000"),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_PASSWORD", "hunter2"),
        ];
        let env = EnvVars::from_map(
            &vars
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        );
        let passthrough = BTreeMap::from([("enable.auto.commit".to_owned(), "true".to_owned())]);
        let mut c = Checked::new(&env);
        let settings = validate("127.0.0.1:9092".into(), &mut c, &passthrough);
        let problems = c.into_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("managed"));
        assert_eq!(settings.client_properties["session.timeout.ms"], "6000");
        assert_eq!(settings.client_properties["security.protocol"], "SASL_SSL");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
