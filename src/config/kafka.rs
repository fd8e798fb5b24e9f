//! Kafka settings: the named variables operators expect, plus a pass-through of any librdkafka
//! property as `KAFKA_CONFIG_<KEY>` (upper case, dots as underscores:
//! `KAFKA_CONFIG_FETCH_WAIT_MAX_MS=10` sets `fetch.wait.max.ms=10`). Secrets never reach Debug.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::parse::parse_in_range;
use super::KafkaEnvVars;

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

pub fn validate(
    bootstrap_servers: String,
    env: &KafkaEnvVars,
    passthrough: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> KafkaSettings {
    let topic_partitions = parse_in_range(
        problems,
        "KAFKA_TOPIC_PARTITIONS",
        &env.topic_partitions,
        1,
        10_000,
    );
    let replication_factor = parse_in_range(
        problems,
        "KAFKA_REPLICATION_FACTOR",
        &env.replication_factor,
        1,
        16,
    );
    let session_timeout_ms: u32 = parse_in_range(
        problems,
        "KAFKA_SESSION_TIMEOUT_MS",
        &env.session_timeout_ms,
        1000,
        3_600_000,
    );
    let outbox_batch_size = parse_in_range(
        problems,
        "OUTBOX_BATCH_SIZE",
        &env.outbox_batch_size,
        1,
        100_000,
    );
    let sweep_interval_ms: u64 = parse_in_range(
        problems,
        "OUTBOX_SWEEP_INTERVAL_MS",
        &env.outbox_sweep_interval_ms,
        10,
        600_000,
    );
    let sweep_after_ms: u64 = parse_in_range(
        problems,
        "OUTBOX_SWEEP_AFTER_MS",
        &env.outbox_sweep_after_ms,
        0,
        3_600_000,
    );
    if env.outbox_poll_interval_ms.is_some() {
        problems.push(
            "OUTBOX_POLL_INTERVAL_MS: no longer read; rows are published on commit, and \
             OUTBOX_SWEEP_INTERVAL_MS sets how often the sweeper looks for rows a crash left behind"
                .to_owned(),
        );
    }
    let mut client_properties = BTreeMap::new();
    client_properties.insert(
        "session.timeout.ms".to_owned(),
        session_timeout_ms.to_string(),
    );
    let named = [
        ("security.protocol", &env.security_protocol),
        ("sasl.mechanism", &env.sasl_mechanism),
        ("sasl.username", &env.sasl_username),
        ("sasl.password", &env.sasl_password),
        ("ssl.ca.location", &env.ssl_ca_location),
        ("ssl.certificate.location", &env.ssl_certificate_location),
        ("ssl.key.location", &env.ssl_key_location),
    ];
    for (key, value) in named {
        if let Some(value) = value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
        {
            client_properties.insert(key.to_owned(), value.to_owned());
        }
    }
    if let Some(protocol) = client_properties.get("security.protocol") {
        let known = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
        if !known.contains(&protocol.to_ascii_lowercase().as_str()) {
            problems.push(format!("KAFKA_SECURITY_PROTOCOL: '{protocol}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"));
        }
    }
    for (key, value) in passthrough {
        if key.starts_with("enable.auto") || key == "group.id" || key == "bootstrap.servers" {
            problems.push(format!(
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
        problems.push(format!(
            "KAFKA_BOOTSTRAP_SERVERS: '{bootstrap_servers}' has an empty entry"
        ));
    }
    let topic_prefix = env.topic_prefix.trim().to_owned();
    if !topic_prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        problems.push(format!(
            "KAFKA_TOPIC_PREFIX: '{topic_prefix}' may only hold letters, digits, '.', '_' and '-'"
        ));
    }
    KafkaSettings {
        bootstrap_servers,
        topic_prefix,
        topic_partitions,
        replication_factor,
        client_properties,
        sweeper: SweeperSettings {
            batch_size: outbox_batch_size,
            interval: Duration::from_millis(sweep_interval_ms),
            grace: Duration::from_millis(sweep_after_ms),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let env = KafkaEnvVars {
            topic_partitions: "6".into(),
            replication_factor: "1".into(),
            session_timeout_ms: "6000".into(),
            security_protocol: Some("SASL_SSL".into()),
            sasl_password: Some("hunter2".into()),
            outbox_batch_size: "500".into(),
            outbox_sweep_interval_ms: "1000".into(),
            outbox_sweep_after_ms: "5000".into(),
            ..KafkaEnvVars::default()
        };
        let passthrough = BTreeMap::from([("enable.auto.commit".to_owned(), "true".to_owned())]);
        let mut problems = Vec::new();
        let settings = validate("127.0.0.1:9092".into(), &env, &passthrough, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("managed"));
        assert_eq!(settings.client_properties["session.timeout.ms"], "6000");
        assert_eq!(settings.client_properties["security.protocol"], "SASL_SSL");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
