//! The app in the test's own process: `Setup` (environment, roles, fault hook, clock) spawns it
//! on HTTP port 0 over a `TestDb`, and `TestApp` talks to it (HTTP, ingest, metrics).

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use exception_worker::app::{App, AppOptions};
use exception_worker::clock::{Clock, SystemClock};
use exception_worker::config::{EnvVars, Settings};
use exception_worker::handler::FaultHook;
use exception_worker::ingest::{self, Accepted};
use exception_worker::model::RoleName;
use exception_worker::packs::Packs;
use exception_worker::routing::slot_for;
use sea_orm::DatabaseConnection;

use crate::cluster::SESSION_TIMEOUT_MS;
use crate::readers::{metric_sum, processed_by};
use crate::{wait_for, wait_until, Cluster, TestDb, CONFIG_DIR};

pub const ACME: &str = "acme-capital";
pub const ACME_KEY: &str = "acme-demo-key";
pub const GLOBEX: &str = "globex-markets";
pub const GLOBEX_KEY: &str = "globex-demo-key";
/// Embedded partitions per topic (the default of EMBEDDED_PARTITIONS).
pub const PARTITIONS: usize = 4;
/// The roles every pipeline test runs.
pub const PIPELINE_ROLES: [&str; 3] = ["intake", "triage", "policy"];

/// How long a Kafka-backed app may take until every consumer role has partitions (tansu
/// answers a JoinGroup after half the session timeout; a restart may wait out a whole one).
const KAFKA_JOIN_LIMIT: Duration = Duration::from_secs(40);

/// How to start one app: environment entries, the `--roles` flag and a fault hook.
pub struct Setup {
    env: HashMap<String, String>,
    roles: Option<String>,
    faults: Option<Arc<dyn FaultHook>>,
    clock: Arc<dyn Clock>,
}

impl Setup {
    pub fn new(db: &TestDb) -> Self {
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("CONFIG_DIR", CONFIG_DIR),
            ("HTTP_ADDR", "127.0.0.1:0"),
            ("CONCURRENCY", "2"),
            ("COMMIT_INTERVAL_MS", "50"),
            ("MAX_ATTEMPTS", "3"),
            ("RETRY_BACKOFF_BASE_MS", "5"),
            ("RETRY_BACKOFF_MAX_MS", "50"),
            ("SHUTDOWN_TIMEOUT_SECS", "10"),
            ("DB_MAX_CONNECTIONS", "5"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
        let mut setup = Self {
            env,
            roles: Some(PIPELINE_ROLES.join(",")),
            faults: None,
            clock: Arc::new(SystemClock),
        };
        if let Some(kafka) = &db.kafka {
            setup = setup
                .env("KAFKA_BOOTSTRAP_SERVERS", &kafka.servers)
                .env("KAFKA_TOPIC_PREFIX", &kafka.topic_prefix)
                .env("KAFKA_TOPIC_PARTITIONS", "3")
                .env("KAFKA_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS)
                .env("GROUP_ID", &kafka.group)
                .env("OUTBOX_SWEEP_INTERVAL_MS", "100")
                .env("OUTBOX_SWEEP_AFTER_MS", "3000");
        }
        setup
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Enables the operator API with `key` (its SHA-256 in OPERATOR_API_KEY_SHA256).
    pub fn operator_key(self, key: &str) -> Self {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(key.as_bytes()));
        self.env("OPERATOR_API_KEY_SHA256", &sha)
    }

    /// The `--roles` flag; None leaves the choice to WORKER_TYPE.
    pub fn roles(mut self, roles: Option<&str>) -> Self {
        self.roles = roles.map(str::to_owned);
        self
    }

    pub fn faults(mut self, hook: Arc<dyn FaultHook>) -> Self {
        self.faults = Some(hook);
        self
    }

    /// The clock of every role, the API and the SLA monitor (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let env = EnvVars::from_map(&self.env);
        let settings = if self.env.contains_key("KAFKA_BOOTSTRAP_SERVERS") {
            let mut passthrough = Cluster::passthrough();
            passthrough.extend(exception_worker::config::kafka::passthrough_from_env(
                self.env.clone().into_iter(),
            ));
            Settings::from_sources_with(&env, &passthrough, self.roles.as_deref(), true)
        } else {
            Settings::from_sources(&env, self.roles.as_deref(), true)
        }
        .unwrap_or_else(|errors| panic!("{errors}"));
        // On Kafka, the app is ready once each consumer role's group has given it partitions.
        let mut joining: Vec<&'static str> = match settings.kafka {
            Some(_) => settings
                .roles
                .iter()
                .filter(|role| **role != RoleName::SlaMonitor)
                .map(|role| role.as_str())
                .collect(),
            None => Vec::new(),
        };
        let options = AppOptions {
            clock: self.clock,
            faults: self.faults,
            ..AppOptions::default()
        };
        let config_dir = Path::new(&self.env["CONFIG_DIR"]);
        let app = TestApp::start(settings, config_dir, options).await;
        if !joining.is_empty() {
            let what = format!("{} had partitions", joining.join(", "));
            let assigned = &app.app.runtime.metrics.assigned_partitions;
            wait_for(&what, KAFKA_JOIN_LIMIT, async || {
                joining.retain(|role| assigned.with_label_values(&[role]).get() == 0);
                joining.is_empty()
            })
            .await;
        }
        app
    }
}

/// The default app: intake, triage and policy over `db`.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    Setup::new(db).spawn().await
}

pub struct TestApp {
    pub app: App,
    pub address: String,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
}

impl TestApp {
    /// Builds the app from `settings` and the packs in `config_dir`, listening on a port of
    /// the OS's choosing (whatever `options` says about the listener).
    pub async fn start(settings: Settings, config_dir: &Path, options: AppOptions) -> TestApp {
        let packs = Packs::load(config_dir).expect("Failed to load the packs");
        let listener = TcpListener::bind("127.0.0.1:0").expect("Failed to bind port 0");
        let options = AppOptions {
            listener: Some(listener),
            ..options
        };
        let app = App::build(settings, Arc::new(packs), options)
            .await
            .expect("Failed to build the app");
        TestApp {
            address: format!("http://127.0.0.1:{}", app.http_port),
            db: app.runtime.db.clone(),
            client: reqwest::Client::new(),
            app,
        }
    }

    pub async fn post_exception(&self, api_key: Option<&str>, body: &str) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/v1/exceptions", self.address))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("Failed to POST")
    }

    pub async fn get_exception(&self, api_key: Option<&str>, id: &str) -> reqwest::Response {
        let mut request = self
            .client
            .get(format!("{}/v1/exceptions/{id}", self.address));
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("Failed to GET")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("Failed to GET")
    }

    /// GET `path` with `api_key`; answers the status and the JSON body (Null when none).
    pub async fn get_json(&self, api_key: Option<&str>, path: &str) -> (u16, serde_json::Value) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        answer(request).await
    }

    /// POST `body` (JSON) to `path` with `api_key`; answers the status and the JSON body.
    pub async fn post_json(
        &self,
        api_key: Option<&str>,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        answer(request).await
    }

    /// Puts ExceptionIngested events for `tenant` on the bus, in order, in one transaction.
    pub async fn ingest(&self, tenant: &str, payloads: &[serde_json::Value]) -> Vec<Accepted> {
        let envelopes = payloads
            .iter()
            .map(|payload| {
                ingest::prepare(
                    tenant,
                    &HashSet::new(),
                    payload.to_string().as_bytes(),
                    chrono::Utc::now(),
                )
                .expect("Failed to prepare an exception")
            })
            .collect();
        let (accepted, delivery) =
            ingest::append(&self.db, self.app.runtime.bus.as_ref(), envelopes)
                .await
                .expect("Failed to append exceptions");
        delivery.wait().await;
        accepted
    }

    /// Sum of the series of `name` (without the `exception_worker_` prefix) whose labels
    /// include every pair of `labels`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_sum(&self.app.runtime.metrics.render(), name, labels)
    }

    /// Waits until `role` has processed `expected` events in the database.
    pub async fn wait_for_processed(&self, role: &str, expected: i64) {
        let what = format!("{role} has processed {expected} event(s)");
        wait_until(&what, async || {
            processed_by(&self.db, role).await == expected
        })
        .await;
    }

    /// Waits until every role has recorded `expected` duplicates in this app's metrics.
    pub async fn wait_for_duplicates(&self, expected: f64) {
        for role in PIPELINE_ROLES {
            let what = format!("{role} counted {expected} duplicate(s)");
            wait_until(&what, async || self.duplicates(role) == expected).await;
        }
    }

    pub fn duplicates(&self, role: &str) -> f64 {
        let labels = [("role", role), ("outcome", "duplicate")];
        self.metric("events_processed_total", &labels)
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("Failed to send a request");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("Failed to read a body");
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// The embedded partition of an exception of `tenant` (the handler slot is the same hash).
pub fn partition_of(tenant: &str, exception_id: &str) -> usize {
    slot_for(&format!("{tenant}:{exception_id}"), PARTITIONS)
}

/// `count` exception ids with `prefix` whose events land on `partition`.
pub fn ids_on_partition(tenant: &str, prefix: &str, partition: usize, count: usize) -> Vec<String> {
    (0..)
        .map(|n| format!("{prefix}-{n}"))
        .filter(|id| partition_of(tenant, id) == partition)
        .take(count)
        .collect()
}
