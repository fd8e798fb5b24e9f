//! What the rest of the process asks of its `Settings`: the consumer group of each role,
//! whether the database is SQLite, and a Debug form that never shows a password.

use std::fmt;

use super::roles::redact_url_password;
use super::validate::Settings;
use crate::model::RoleName;

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
