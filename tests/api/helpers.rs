//! The harness: a fresh database per test (a SQLite temp file, or a new database on the
//! Postgres server at TEST_DATABASE_URL), the real app spawned on port 0, and small readers for
//! rows, metrics and the bus. Quiet unless TEST_LOG is set.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use envconfig::Envconfig;
use exception_worker::app::{App, AppOptions};
use exception_worker::clock::{Clock, SystemClock};
use exception_worker::config::{EnvVars, Settings};
use exception_worker::handler::FaultHook;
use exception_worker::ingest::{self, Accepted};
use exception_worker::model::RoleName;
use exception_worker::packs::Packs;
use exception_worker::routing::slot_for;
use exception_worker::telemetry::{self, LogFormat};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::readers::{metric_sum, processed_by};

pub const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
pub const ACME: &str = "acme-capital";
pub const ACME_KEY: &str = "acme-demo-key";
pub const GLOBEX_KEY: &str = "globex-demo-key";
/// Embedded partitions per topic (the default of EMBEDDED_PARTITIONS).
pub const PARTITIONS: usize = 4;
/// The roles every pipeline test runs.
pub const PIPELINE_ROLES: [&str; 3] = ["intake", "triage", "policy"];

const WAIT_LIMIT: Duration = Duration::from_secs(10);
/// How long a Kafka-backed app may take until every consumer role has partitions (tansu
/// answers a JoinGroup after half the session timeout; a restart may wait out a whole one).
const KAFKA_JOIN_LIMIT: Duration = Duration::from_secs(40);
/// tansu answers JoinGroup only after half of the session timeout: keep it short.
const KAFKA_SESSION_TIMEOUT_MS: &str = "6000";
/// Empty fetches are held this long by the broker (librdkafka's default is 500 ms).
const KAFKA_FETCH_WAIT_MAX_MS: &str = "10";
const WAIT_STEP: Duration = Duration::from_millis(20);

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        telemetry::init(LogFormat::Pretty, std::io::stdout);
    }
});

/// Runs each named scenario (an `async fn(Backend)`) as two tests: `<scenario>::sqlite` and
/// `<scenario>::postgres`.
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[actix_rt::test]
                async fn sqlite() {
                    super::$scenario($crate::helpers::Backend::Sqlite).await
                }

                #[actix_rt::test]
                async fn postgres() {
                    super::$scenario($crate::helpers::Backend::Postgres).await
                }
            }
        )+
    };
}

/// Runs each named scenario (an `async fn(Backend)`) as three tests: `<scenario>::sqlite`,
/// `<scenario>::postgres` (both on the embedded bus) and `<scenario>::kafka_postgres`.
macro_rules! on_all_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[actix_rt::test]
                async fn sqlite() {
                    super::$scenario($crate::helpers::Backend::Sqlite).await
                }

                #[actix_rt::test]
                async fn postgres() {
                    super::$scenario($crate::helpers::Backend::Postgres).await
                }

                #[actix_rt::test]
                async fn kafka_postgres() {
                    super::$scenario($crate::helpers::Backend::KafkaPostgres).await
                }
            }
        )+
    };
}

#[path = "test_db.rs"]
mod test_db;
pub use test_db::{Backend, TestDb};

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
                .env("KAFKA_SESSION_TIMEOUT_MS", KAFKA_SESSION_TIMEOUT_MS)
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
        let env = EnvVars::init_from_hashmap(&self.env).expect("Failed to read the test env");
        let settings = if self.env.contains_key("KAFKA_BOOTSTRAP_SERVERS") {
            let passthrough = BTreeMap::from([(
                "fetch.wait.max.ms".to_owned(),
                KAFKA_FETCH_WAIT_MAX_MS.to_owned(),
            )]);
            Settings::from_sources_with(&env, &passthrough, self.roles.as_deref(), true)
        } else {
            Settings::from_sources(&env, self.roles.as_deref(), true)
        }
        .unwrap_or_else(|errors| panic!("{errors}"));
        // On Kafka, the app is ready once each consumer role's group has given it partitions.
        let joining: Vec<&'static str> = match settings.kafka {
            Some(_) => settings
                .roles
                .iter()
                .filter(|role| **role != RoleName::SlaMonitor)
                .map(|role| role.as_str())
                .collect(),
            None => Vec::new(),
        };
        let packs =
            Packs::load(Path::new(&self.env["CONFIG_DIR"])).expect("Failed to load the packs");
        let listener = TcpListener::bind("127.0.0.1:0").expect("Failed to bind port 0");
        let options = AppOptions {
            clock: self.clock,
            faults: self.faults,
            listener: Some(listener),
            ..AppOptions::default()
        };
        let app = App::build(settings, Arc::new(packs), options)
            .await
            .expect("Failed to build the app");
        let deadline = Instant::now() + KAFKA_JOIN_LIMIT;
        for role in joining {
            let assigned = &app.metrics.assigned_partitions;
            while assigned.with_label_values(&[role]).get() == 0 {
                assert!(
                    Instant::now() < deadline,
                    "timed out after {KAFKA_JOIN_LIMIT:?} waiting until {role} has partitions"
                );
                actix_rt::time::sleep(Duration::from_millis(50)).await;
            }
        }
        TestApp {
            address: format!("http://127.0.0.1:{}", app.http_port),
            db: app.db.clone(),
            client: reqwest::Client::new(),
            app,
        }
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
        let (accepted, delivery) = ingest::append(&self.db, self.app.bus.as_ref(), envelopes)
            .await
            .expect("Failed to append exceptions");
        delivery.wait().await;
        accepted
    }

    /// Sum of the series of `name` (without the `exception_worker_` prefix) whose labels
    /// include every pair of `labels`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_sum(&self.app.metrics.render(), name, labels)
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

/// Polls `check` every 20 ms until it holds; panics after 10 s naming what was awaited.
pub async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT_LIMIT:?} waiting until {what}"
        );
        actix_rt::time::sleep(WAIT_STEP).await;
    }
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
