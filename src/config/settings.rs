//! `Settings`, the validated configuration of one process (built by `validate`), and what the
//! rest of the process asks of it: the consumer group of each role, whether the database is
//! SQLite, and a Debug form that never shows a password.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::kafka::KafkaSettings;
use super::retention::RetentionSettings;
use super::roles::redact_url_password;
use super::sections::{HttpSettings, SlaSettings};
use super::tuning::TuningSettings;
use crate::model::RoleName;
use crate::telemetry::LogFormat;
use crate::tools::ToolSettings;

/// The validated configuration of one process.
#[derive(Clone)]
pub struct Settings {
    pub roles: Vec<RoleName>,
    pub concurrency: usize,
    pub group_id: Option<String>,
    pub database_url: String,
    /// Kafka in production; None selects the embedded bus.
    pub kafka: Option<KafkaSettings>,
    pub http_addr: SocketAddr,
    pub http: HttpSettings,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub run_migrations: bool,
    pub allow_future_schema: bool,
    pub db_max_connections: u32,
    pub metrics_include_tenant_id: bool,
    pub tuning: TuningSettings,
    pub tools: ToolSettings,
    pub sla: SlaSettings,
    pub retention: RetentionSettings,
    /// SHA-256 of the operator API key; None disables the operator API.
    pub operator_key_sha256: Option<[u8; 32]>,
    /// Tenants this deployment serves; empty = every tenant of the packs.
    pub tenant_allowlist: BTreeSet<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("roles", &self.roles)
            .field("concurrency", &self.concurrency)
            .field("group_id", &self.group_id)
            .field("database_url", &redact_url_password(&self.database_url))
            .field("kafka", &self.kafka)
            .field("http_addr", &self.http_addr)
            .field("config_dir", &self.config_dir)
            .field("log_format", &self.log_format)
            .field("run_migrations", &self.run_migrations)
            .field("allow_future_schema", &self.allow_future_schema)
            .field("tuning", &self.tuning)
            .finish()
    }
}

impl Settings {
    /// The consumer group of a role: GROUP_ID when one role runs; `{GROUP_ID}.{role}` when
    /// several roles share the process (each role keeps its own group); the role name when
    /// GROUP_ID is unset.
    pub fn group_for(&self, role: RoleName) -> String {
        match &self.group_id {
            Some(group) if self.roles.len() == 1 => group.clone(),
            Some(group) => format!("{group}.{role}"),
            None => role.as_str().to_owned(),
        }
    }

    /// True when the database is SQLite (single writer, embedded default).
    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
