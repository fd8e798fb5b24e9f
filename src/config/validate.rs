//! Turns raw environment strings and flags into `Settings` (see `settings`), collecting every problem before
//! failing so that an operator fixes a bad deployment in one round trip.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::telemetry::LogFormat;

use super::kafka;
use super::parse::{parse_bool, parse_fraction, parse_in_range, parse_value};
use super::roles::parse_roles;
pub use super::roles::redact_url_password;
pub use super::roles::AVAILABLE_ROLES;
pub use super::sections::{HttpSettings, SlaSettings};
use super::settings::Settings;
pub use super::tuning::TuningSettings;
use super::EnvVars;
use crate::tools::ToolSettings;

/// Every configuration problem found, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Settings {
    /// Validates the environment and the `--roles` flag. `need_roles` is false for subcommands
    /// (migrate, ingest) that run no role.
    pub fn from_sources(
        env: &EnvVars,
        roles_flag: Option<&str>,
        need_roles: bool,
    ) -> Result<Self, ConfigErrors> {
        let passthrough = kafka::passthrough_from_env(std::env::vars());
        Self::from_sources_with(env, &passthrough, roles_flag, need_roles)
    }

    /// As `from_sources`, with the `KAFKA_CONFIG_*` pass-through given explicitly.
    pub fn from_sources_with(
        env: &EnvVars,
        kafka_passthrough: &BTreeMap<String, String>,
        roles_flag: Option<&str>,
        need_roles: bool,
    ) -> Result<Self, ConfigErrors> {
        let mut problems = Vec::new();
        let roles = parse_roles(env, roles_flag, need_roles, &mut problems);
        let concurrency = parse_in_range(&mut problems, "CONCURRENCY", &env.concurrency, 1, 256);
        let group_id = env.group_id.as_ref().map(|group| group.trim().to_owned());
        if group_id.as_deref() == Some("") {
            problems.push("GROUP_ID: must not be empty when set".to_owned());
        }
        let data_dir = PathBuf::from(&env.data_dir);
        let database_url = match env.database_url.as_deref().map(str::trim) {
            None | Some("") => default_database_url(&data_dir),
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url.to_owned()
            }
            Some(url) => {
                problems.push(format!(
                    "DATABASE_URL: unsupported scheme in '{}' (expected sqlite:..., postgres://... or postgresql://...)",
                    redact_url_password(url)
                ));
                String::new()
            }
        };
        let kafka = env
            .kafka_bootstrap_servers
            .as_deref()
            .map(str::trim)
            .filter(|servers| !servers.is_empty())
            .map(|servers| {
                kafka::validate(
                    servers.to_owned(),
                    &env.kafka,
                    kafka_passthrough,
                    &mut problems,
                )
            });
        let http_addr = parse_value::<SocketAddr>(
            &mut problems,
            "HTTP_ADDR",
            &env.http_addr,
            "a socket address such as 0.0.0.0:8080",
            SocketAddr::from(([0, 0, 0, 0], 8080)),
        );
        let http = HttpSettings {
            body_timeout: Duration::from_secs(parse_in_range(
                &mut problems,
                "HTTP_BODY_TIMEOUT_SECS",
                &env.http_body_timeout_secs,
                1,
                3600,
            )),
            max_concurrent_bodies: parse_in_range(
                &mut problems,
                "HTTP_MAX_CONCURRENT_BODIES",
                &env.http_max_concurrent_bodies,
                1,
                100_000,
            ),
            max_connections: parse_in_range(
                &mut problems,
                "HTTP_MAX_CONNECTIONS",
                &env.http_max_connections,
                1,
                1_000_000,
            ),
        };
        let log_format = parse_value::<LogFormat>(
            &mut problems,
            "LOG_FORMAT",
            &env.log_format,
            "json or pretty",
            LogFormat::Pretty,
        );
        let run_migrations = parse_bool(&mut problems, "RUN_MIGRATIONS", &env.run_migrations);
        let allow_future_schema = parse_bool(
            &mut problems,
            "ALLOW_FUTURE_SCHEMA",
            &env.allow_future_schema,
        );
        let metrics_include_tenant_id = parse_bool(
            &mut problems,
            "METRICS_INCLUDE_TENANT_ID",
            &env.metrics_include_tenant_id,
        );
        let db_max_connections = parse_in_range(
            &mut problems,
            "DB_MAX_CONNECTIONS",
            &env.db_max_connections,
            1,
            1000,
        );
        let tuning = TuningSettings {
            embedded_partitions: parse_in_range(
                &mut problems,
                "EMBEDDED_PARTITIONS",
                &env.embedded_partitions,
                1,
                256,
            ),
            max_in_flight_per_partition: parse_in_range(
                &mut problems,
                "MAX_IN_FLIGHT_PER_PARTITION",
                &env.max_in_flight_per_partition,
                1,
                10_000,
            ),
            commit_interval: Duration::from_millis(parse_in_range(
                &mut problems,
                "COMMIT_INTERVAL_MS",
                &env.commit_interval_ms,
                10,
                3_600_000,
            )),
            handler_timeout: Duration::from_secs(parse_in_range(
                &mut problems,
                "HANDLER_TIMEOUT_SECS",
                &env.handler_timeout_secs,
                1,
                3600,
            )),
            max_attempts: parse_in_range(&mut problems, "MAX_ATTEMPTS", &env.max_attempts, 1, 1000),
            retry_backoff_base: Duration::from_millis(parse_in_range(
                &mut problems,
                "RETRY_BACKOFF_BASE_MS",
                &env.retry_backoff_base_ms,
                1,
                600_000,
            )),
            retry_backoff_max: Duration::from_millis(parse_in_range(
                &mut problems,
                "RETRY_BACKOFF_MAX_MS",
                &env.retry_backoff_max_ms,
                1,
                3_600_000,
            )),
            restart_limit: parse_in_range(
                &mut problems,
                "RESTART_LIMIT",
                &env.restart_limit,
                1,
                1000,
            ),
            restart_window: Duration::from_secs(parse_in_range(
                &mut problems,
                "RESTART_WINDOW_SECS",
                &env.restart_window_secs,
                1,
                86_400,
            )),
            shutdown_timeout: Duration::from_secs(parse_in_range(
                &mut problems,
                "SHUTDOWN_TIMEOUT_SECS",
                &env.shutdown_timeout_secs,
                1,
                3600,
            )),
            startup_timeout: Duration::from_secs(parse_in_range(
                &mut problems,
                "STARTUP_TIMEOUT_SECS",
                &env.startup_timeout_secs,
                1,
                3600,
            )),
            max_buffered_per_partition: parse_in_range(
                &mut problems,
                "MAX_BUFFERED_PER_PARTITION",
                &env.max_buffered_per_partition,
                1,
                1_000_000,
            ),
            dlq_cap_window: parse_in_range(
                &mut problems,
                "DLQ_CAP_WINDOW",
                &env.dlq_cap_window,
                1,
                1_000_000,
            ),
            dlq_cap_ratio: parse_fraction(&mut problems, "DLQ_CAP_RATIO", &env.dlq_cap_ratio),
            tenant_max_in_flight: parse_in_range(
                &mut problems,
                "TENANT_MAX_IN_FLIGHT",
                &env.tenant_max_in_flight,
                1,
                10_000,
            ),
            group_commit_max_events: parse_in_range(
                &mut problems,
                "GROUP_COMMIT_MAX_EVENTS",
                &env.group_commit_max_events,
                1,
                10_000,
            ),
            handler_in_flight: parse_in_range(
                &mut problems,
                "HANDLER_IN_FLIGHT",
                &env.handler_in_flight,
                1,
                1_000,
            ),
            handler_threads: match env.handler_threads.as_deref() {
                Some(raw) => parse_in_range(&mut problems, "HANDLER_THREADS", raw, 1, 256),
                None => std::thread::available_parallelism().map_or(1, usize::from),
            },
        };
        if tuning.max_buffered_per_partition < tuning.max_in_flight_per_partition {
            problems.push(
                "MAX_BUFFERED_PER_PARTITION: must be at least MAX_IN_FLIGHT_PER_PARTITION"
                    .to_owned(),
            );
        }
        if tuning.retry_backoff_base > tuning.retry_backoff_max {
            problems.push("RETRY_BACKOFF_BASE_MS: must not exceed RETRY_BACKOFF_MAX_MS".to_owned());
        }
        let tools = ToolSettings {
            allowed_hosts: env
                .tool_allowed_hosts
                .split(',')
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect(),
            max_attempts: parse_in_range(
                &mut problems,
                "TOOL_MAX_ATTEMPTS",
                &env.tool_max_attempts,
                1,
                100,
            ),
            ..ToolSettings::default()
        };
        let retention = super::retention::parse(env, &mut problems);
        let sla = SlaSettings {
            check_interval: Duration::from_secs(parse_in_range(
                &mut problems,
                "SLA_CHECK_INTERVAL_SECS",
                &env.sla_check_interval_secs,
                1,
                86_400,
            )),
            imminent_threshold: parse_fraction(
                &mut problems,
                "SLA_IMMINENT_THRESHOLD",
                &env.sla_imminent_threshold,
            ),
        };
        let operator_key_sha256 = env.operator_api_key_sha256.as_deref().map(str::trim).filter(|hash| !hash.is_empty()).and_then(|hash| {
            let decoded = hex::decode(hash).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
            if decoded.is_none() {
                problems.push("OPERATOR_API_KEY_SHA256: must be 64 hex characters (the SHA-256 of the operator key)".to_owned());
            }
            decoded
        });
        let tenant_allowlist: BTreeSet<String> = env
            .tenant_allowlist
            .split(',')
            .map(str::trim)
            .filter(|tenant| !tenant.is_empty())
            .map(str::to_owned)
            .collect();
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Settings {
            roles,
            concurrency,
            group_id,
            database_url,
            kafka,
            http_addr,
            http,
            config_dir: PathBuf::from(&env.config_dir),
            data_dir,
            log_format,
            run_migrations,
            allow_future_schema,
            db_max_connections,
            metrics_include_tenant_id,
            tuning,
            tools,
            sla,
            retention,
            operator_key_sha256,
            tenant_allowlist,
        })
    }
}

fn default_database_url(data_dir: &std::path::Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("exception-worker.db").display()
    )
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
