//! Turns the raw environment and the `--roles` flag into `Settings`. The settings table's simple
//! checks run first (see `checked`); the rules here are those that are not simple data: roles,
//! URLs, addresses, hashes, lists, and rules across settings. Every problem is collected before
//! failing, so that an operator fixes a bad deployment in one round trip.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::telemetry::LogFormat;
use crate::tools::ToolSettings;

use super::checked::Checked;
use super::kafka;
use super::retention::RetentionSettings;
use super::roles::{parse_roles, redact_url_password};
use super::sections::{HttpSettings, SlaSettings};
use super::settings::Settings;
use super::table::{
    ALLOW_FUTURE_SCHEMA, CONCURRENCY, CONFIG_DIR, DATABASE_URL, DATA_DIR, DB_MAX_CONNECTIONS,
    GROUP_ID, HTTP_ADDR, KAFKA_BOOTSTRAP_SERVERS, LOG_FORMAT, METRICS_INCLUDE_TENANT_ID,
    OPERATOR_API_KEY_SHA256, RUN_MIGRATIONS, TENANT_ALLOWLIST, TOOL_ALLOWED_HOSTS,
    TOOL_MAX_ATTEMPTS, WORKER_TYPE,
};
use super::tuning::TuningSettings;
use super::EnvVars;

/// The address HTTP_ADDR's problem shows as an example: its default.
const EXAMPLE_ADDR: &str = HTTP_ADDR.default_value();

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
        let mut c = Checked::new(env);
        let roles = parse_roles(c.raw(&WORKER_TYPE), roles_flag, need_roles, c.problems());
        let group_id = c.raw(&GROUP_ID).map(|group| group.trim().to_owned());
        if group_id.as_deref() == Some("") {
            c.problem("GROUP_ID: must not be empty when set");
        }
        let data_dir = PathBuf::from(c.raw(&DATA_DIR).unwrap_or_default());
        let database_url = database_url(&mut c, &data_dir);
        let kafka = c
            .raw(&KAFKA_BOOTSTRAP_SERVERS)
            .map(str::trim)
            .filter(|servers| !servers.is_empty())
            .map(|servers| kafka::validate(servers.to_owned(), &mut c, kafka_passthrough));
        let http_addr = c.raw(&HTTP_ADDR).unwrap_or_default();
        let http_addr = http_addr.trim().parse::<SocketAddr>().unwrap_or_else(|_| {
            c.problem(format!(
                "HTTP_ADDR: '{http_addr}' is not a socket address such as {EXAMPLE_ADDR}"
            ));
            SocketAddr::from(([0, 0, 0, 0], 0)) // never used: the problem stops the start
        });
        let tuning = TuningSettings::read(&mut c);
        if tuning.max_buffered_per_partition < tuning.max_in_flight_per_partition {
            c.problem("MAX_BUFFERED_PER_PARTITION: must be at least MAX_IN_FLIGHT_PER_PARTITION");
        }
        if tuning.retry_backoff_base > tuning.retry_backoff_max {
            c.problem("RETRY_BACKOFF_BASE_MS: must not exceed RETRY_BACKOFF_MAX_MS");
        }
        let tools = ToolSettings {
            allowed_hosts: list(c.raw(&TOOL_ALLOWED_HOSTS))
                .map(|host| host.to_ascii_lowercase())
                .collect(),
            max_attempts: c.whole(&TOOL_MAX_ATTEMPTS),
            ..ToolSettings::default()
        };
        let operator_key_sha256 = operator_key(&mut c);
        let settings = Settings {
            roles,
            concurrency: c.whole(&CONCURRENCY),
            group_id,
            database_url,
            kafka,
            http_addr,
            http: HttpSettings::read(&mut c),
            config_dir: PathBuf::from(c.raw(&CONFIG_DIR).unwrap_or_default()),
            data_dir,
            log_format: c
                .word(&LOG_FORMAT)
                .and_then(|word| word.parse().ok())
                .unwrap_or(LogFormat::Pretty), // when bad, the problem stops the start
            run_migrations: c.boolean(&RUN_MIGRATIONS),
            allow_future_schema: c.boolean(&ALLOW_FUTURE_SCHEMA),
            db_max_connections: c.whole(&DB_MAX_CONNECTIONS),
            metrics_include_tenant_id: c.boolean(&METRICS_INCLUDE_TENANT_ID),
            tuning,
            tools,
            sla: SlaSettings::read(&mut c),
            retention: RetentionSettings::read(&mut c),
            operator_key_sha256,
            tenant_allowlist: list(c.raw(&TENANT_ALLOWLIST))
                .map(str::to_owned)
                .collect::<BTreeSet<_>>(),
        };
        let problems = c.into_problems();
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(settings)
    }
}

/// DATABASE_URL, or the SQLite file under DATA_DIR when it is unset or blank.
fn database_url(c: &mut Checked, data_dir: &std::path::Path) -> String {
    match c.raw(&DATABASE_URL).map(str::trim) {
        None | Some("") => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("exception-worker.db").display()
        ),
        Some(url)
            if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://") =>
        {
            url.to_owned()
        }
        Some(url) => {
            c.problem(format!(
                "DATABASE_URL: unsupported scheme in '{}' (expected sqlite:..., postgres://... or postgresql://...)",
                redact_url_password(url)
            ));
            String::new()
        }
    }
}

/// OPERATOR_API_KEY_SHA256 decoded; None when unset or blank.
fn operator_key(c: &mut Checked) -> Option<[u8; 32]> {
    let hash = c
        .raw(&OPERATOR_API_KEY_SHA256)
        .map(str::trim)
        .filter(|hash| !hash.is_empty())?;
    let decoded = hex::decode(hash)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    if decoded.is_none() {
        c.problem(
            "OPERATOR_API_KEY_SHA256: must be 64 hex characters (the SHA-256 of the operator key)",
        );
    }
    decoded
}

/// The entries of a comma-separated list, trimmed, blanks left out.
fn list(raw: Option<&str>) -> impl Iterator<Item = &str> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
