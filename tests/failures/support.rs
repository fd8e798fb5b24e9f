//! What only the failure tests share: the worker binary running given roles, the operator key,
//! and readers of dead letters, events and exceptions. The rest of their harness (cluster share,
//! child process, producers, readers) is the test-support crate's.

use std::collections::HashSet;
use std::ops::Deref;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use test_support::readers::{count, statement};
use test_support::{Cluster, Worker};

pub const PIPELINE: &str = "intake,triage,policy";
/// The operator key of the tests (its SHA-256 goes to OPERATOR_API_KEY_SHA256).
pub const OPERATOR_KEY: &str = "failure-tests-operator-key";

pub fn operator_key_sha256() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(OPERATOR_KEY.as_bytes()))
}

/// The `exception-worker` binary running `roles` (`--roles`), on an HTTP port of its own; it
/// answers what its `Worker` answers (probes, metrics, liveness).
pub struct Proc {
    pub worker: Worker,
}

impl Proc {
    /// Starts the binary with the cluster's environment plus `env`.
    pub fn spawn(name: &str, cluster: &Cluster, env: &[(&str, &str)], roles: &str) -> Proc {
        let worker = Worker::spawn(name, cluster, env, &["--roles", roles]);
        Proc { worker }
    }
}

impl Deref for Proc {
    type Target = Worker;

    fn deref(&self) -> &Worker {
        &self.worker
    }
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
