//! One test's share of the broker and the database: a fresh Postgres database, a unique topic
//! prefix and consumer group, the environment every worker of the test starts with, and the
//! in-process app built from it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use exception_worker::app::AppOptions;
use exception_worker::config::{EnvVars, Settings};

use crate::db::kafka_bootstrap_servers;
use crate::{Backend, TestApp, TestDb, CONFIG_DIR};

/// tansu answers JoinGroup only after half of the session timeout: keep it short.
pub const SESSION_TIMEOUT_MS: &str = "6000";
/// Empty fetches are held this long by the broker (librdkafka's default is 500 ms).
pub const FETCH_WAIT_MAX_MS: &str = "10";

/// A test's broker, names and database; the database is dropped with it.
pub struct Cluster {
    pub db: TestDb,
    pub servers: String,
    /// Prepended to every topic this test's workers use.
    pub prefix: String,
    /// The consumer group every worker of this test shares.
    pub group: String,
    /// Entries added to (or replacing) the base environment.
    overrides: HashMap<String, String>,
}

impl Cluster {
    /// None when the test must be skipped (no broker or no database, outside CI).
    pub async fn start(test: &str) -> Option<Cluster> {
        let servers = kafka_bootstrap_servers("a Kafka test")?;
        let db = TestDb::create(Backend::Postgres).await?;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let short: String = test.chars().take(24).collect();
        Some(Cluster {
            db,
            servers,
            prefix: format!("t{}.{short}.", &unique[..10]),
            group: format!("g{}.{short}", &unique[..10]),
            overrides: HashMap::new(),
        })
    }

    /// Sets an environment entry for every worker started from now on.
    pub fn set(&mut self, key: &str, value: &str) {
        self.overrides.insert(key.to_owned(), value.to_owned());
    }

    /// The environment of a worker of this test (without the pass-through properties).
    pub fn env(&self) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("DATABASE_URL", self.db.url.as_str()),
            ("CONFIG_DIR", CONFIG_DIR),
            ("KAFKA_BOOTSTRAP_SERVERS", self.servers.as_str()),
            ("KAFKA_TOPIC_PREFIX", self.prefix.as_str()),
            ("KAFKA_TOPIC_PARTITIONS", "6"),
            ("KAFKA_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS),
            ("GROUP_ID", self.group.as_str()),
            ("CONCURRENCY", "2"),
            ("COMMIT_INTERVAL_MS", "100"),
            ("OUTBOX_SWEEP_INTERVAL_MS", "50"),
            ("OUTBOX_SWEEP_AFTER_MS", "3000"),
            ("SHUTDOWN_TIMEOUT_SECS", "10"),
            ("MAX_ATTEMPTS", "3"),
            ("RETRY_BACKOFF_BASE_MS", "5"),
            ("RETRY_BACKOFF_MAX_MS", "50"),
            ("DB_MAX_CONNECTIONS", "5"),
            ("HTTP_ADDR", "127.0.0.1:0"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
        env.extend(self.overrides.clone());
        env
    }

    /// librdkafka properties passed through (`KAFKA_CONFIG_*` for a child process).
    pub fn passthrough() -> BTreeMap<String, String> {
        BTreeMap::from([("fetch.wait.max.ms".to_owned(), FETCH_WAIT_MAX_MS.to_owned())])
    }

    /// In-process settings for `roles` (None: no role, e.g. a producer).
    pub fn settings(&self, roles: Option<&str>) -> Settings {
        let env = EnvVars::from_map(&self.env());
        Settings::from_sources_with(&env, &Self::passthrough(), roles, roles.is_some())
            .unwrap_or_else(|errors| panic!("{errors}"))
    }

    /// The app, in this process, running `roles` on HTTP port 0.
    pub async fn spawn_app(&self, roles: &str, options: AppOptions) -> TestApp {
        TestApp::start(self.settings(Some(roles)), Path::new(CONFIG_DIR), options).await
    }
}
