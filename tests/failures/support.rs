//! What the failure tests share: the worker binary on an HTTP port the test chooses (so its
//! probes can be read), a raw Kafka producer that puts bytes straight onto a topic (bypassing
//! the outbox, as a foreign or hostile producer would), valid envelopes, and row readers.

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::Duration;

use exception_worker::envelope::Envelope;
use exception_worker::ingest;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use test_support::readers::{count, metric_sum, statement};
use test_support::{wait_for, Cluster, Worker};

pub const ACME: &str = "acme-capital";
pub const GLOBEX: &str = "globex-markets";
pub const PIPELINE: &str = "intake,triage,policy";
/// The operator key of the tests (its SHA-256 goes to OPERATOR_API_KEY_SHA256).
pub const OPERATOR_KEY: &str = "failure-tests-operator-key";

pub fn operator_key_sha256() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(OPERATOR_KEY.as_bytes()))
}

/// Asks the OS for a port nobody listens on (released again for the child to bind).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("Failed to bind port 0");
    listener
        .local_addr()
        .expect("Failed to read a local address")
        .port()
}

/// The `exception-worker` binary running `roles`, with its HTTP port known to the test.
pub struct Proc {
    pub worker: Worker,
    pub port: u16,
    client: reqwest::Client,
}

impl Proc {
    /// Starts the binary; HTTP_ADDR is set here (entries of `env` replace the child's own).
    pub fn spawn(name: &str, cluster: &Cluster, env: &[(&str, &str)], roles: &str) -> Proc {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let mut vars = env.to_vec();
        vars.push(("HTTP_ADDR", &address));
        let worker = Worker::spawn(name, cluster, &vars, &["--roles", roles]);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("Failed to build an HTTP client");
        Proc {
            worker,
            port,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Status and body of GET `path`, None while the process does not answer.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = self.client.get(self.url(path)).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.unwrap_or_default()))
    }

    pub async fn wait_ready(&self, limit: Duration) {
        let what = format!("{} answers /readyz with 200", self.worker.name);
        wait_for(&what, limit, async || {
            matches!(self.get("/readyz").await, Some((200, _)))
        })
        .await;
    }

    /// The sum of a metric's matching series (0 while the process does not answer).
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.get("/metrics").await {
            Some((200, text)) => metric_sum(&text, name, labels),
            _ => 0.0,
        }
    }

    /// True while the process runs (neither exited nor a zombie).
    pub fn alive(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.worker.pid()));
        match stat {
            // The state follows the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
            Err(_) => false,
        }
    }
}

/// A producer that writes bytes straight onto the test's topics, as a foreign producer would.
#[derive(Clone)]
pub struct RawProducer {
    producer: FutureProducer,
    prefix: String,
}

impl RawProducer {
    pub fn new(cluster: &Cluster) -> RawProducer {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &cluster.servers)
            // Room for the oversized (> 1 MiB) hostile messages.
            .set("message.max.bytes", "4000000")
            .set("linger.ms", "5")
            .create()
            .expect("Failed to create a raw producer");
        RawProducer {
            producer,
            prefix: cluster.prefix.clone(),
        }
    }

    /// Produces one record to `topic` (without the prefix); returns its partition and offset.
    pub async fn send(&self, topic: &str, key: Option<&str>, payload: &[u8]) -> (i32, i64) {
        let topic = format!("{}{topic}", self.prefix);
        let mut record = FutureRecord::<str, [u8]>::to(&topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        let delivery = self
            .producer
            .send(record, Duration::from_secs(30))
            .await
            .unwrap_or_else(|(error, _)| panic!("Failed to produce to {topic}: {error}"));
        (delivery.partition, delivery.offset)
    }

    /// Produces a valid envelope under its partition key.
    pub async fn send_envelope(&self, topic: &str, envelope: &Envelope) -> (i32, i64) {
        let key = envelope.partition_key();
        self.send(topic, Some(&key), envelope.encode().as_bytes())
            .await
    }
}

/// A valid ExceptionIngested envelope of `tenant` for `exception_id`.
pub fn ingested(tenant: &str, exception_id: &str) -> Envelope {
    let payload = json!({
        "exceptionId": exception_id,
        "exceptionType": "SETTLEMENT_FAIL",
        "sourceSystem": "MUREX",
    });
    ingest::prepare(
        tenant,
        &HashSet::new(),
        payload.to_string().as_bytes(),
        chrono::Utc::now(),
    )
    .expect("Failed to prepare an exception")
}

pub async fn dead_letter_count(db: &DatabaseConnection) -> i64 {
    count(db, "SELECT COUNT(*) AS n FROM dead_letters", vec![]).await
}

pub async fn events_of_type(db: &DatabaseConnection, event_type: &str) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM events WHERE event_type = $1";
    count(db, sql, vec![event_type.into()]).await
}

/// One dead letter's facts, as the tests check them.
#[derive(Debug, Clone)]
pub struct Letter {
    pub id: i64,
    pub partition: i32,
    pub offset: i64,
    pub exception_id: Option<String>,
    pub reason: String,
    pub class: String,
    pub attempts: i32,
    pub status: String,
}

pub async fn letters(db: &DatabaseConnection) -> Vec<Letter> {
    let sql = r#"SELECT id, "partition", log_offset, exception_id, reason, error_class, attempts, status
                 FROM dead_letters ORDER BY id"#;
    let rows = db
        .query_all_raw(statement(db, sql, vec![]))
        .await
        .expect("Failed to read the dead letters");
    rows.into_iter()
        .map(|row| Letter {
            id: row.try_get("", "id").expect("id"),
            partition: row.try_get("", "partition").expect("partition"),
            offset: row.try_get("", "log_offset").expect("log_offset"),
            exception_id: row.try_get("", "exception_id").expect("exception_id"),
            reason: row.try_get("", "reason").expect("reason"),
            class: row.try_get("", "error_class").expect("error_class"),
            attempts: row.try_get("", "attempts").expect("attempts"),
            status: row.try_get("", "status").expect("status"),
        })
        .collect()
}

/// The exception ids stored for `tenant`.
pub async fn exception_ids(db: &DatabaseConnection, tenant: &str) -> HashSet<String> {
    let sql = "SELECT exception_id FROM exceptions WHERE tenant_id = $1";
    db.query_all_raw(statement(db, sql, vec![tenant.into()]))
        .await
        .expect("Failed to read the exceptions")
        .into_iter()
        .map(|row| row.try_get::<String>("", "exception_id").expect("id"))
        .collect()
}
