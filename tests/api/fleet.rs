//! GET /v1/workers against real processes sharing one database: each process appears with its
//! roles and partitions (their offsets moving as work is done), only the operator key lists
//! them, a SIGKILLed process turns stale after three missed heartbeats, a SIGTERMed one
//! deletes its row, and rows silent for over an hour are forgotten by the others' beats.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::workers;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{json, Value};
use sha2::Digest;
use test_support::readers::count;
use test_support::{
    on_both_backends, wait_for, Backend, TestDb, Worker, ACME_KEY, CONFIG_DIR, PARTITIONS,
};

on_both_backends!(the_fleet_shows_live_processes_and_forgets_gone_ones);

const OPERATOR_KEY: &str = "fleet-operator-key";
/// Start-up of the binary on a busy machine, and the waits across processes.
const PROCESS_LIMIT: Duration = Duration::from_secs(60);

/// The binary as `host`, running `roles` on `test_db` with a heartbeat every second.
fn start(test_db: &TestDb, host: &str, roles: &str, concurrency: &str) -> Worker {
    let operator_sha = hex::encode(sha2::Sha256::digest(OPERATOR_KEY.as_bytes()));
    let vars = [
        ("DATABASE_URL", test_db.url.as_str()),
        ("CONFIG_DIR", CONFIG_DIR),
        ("HOSTNAME", host),
        ("WORKER_TYPE", roles),
        ("CONCURRENCY", concurrency),
        ("WORKER_HEARTBEAT_SECS", "1"),
        ("COMMIT_INTERVAL_MS", "100"),
        ("SHUTDOWN_TIMEOUT_SECS", "10"),
        ("DB_MAX_CONNECTIONS", "5"),
        ("OPERATOR_API_KEY_SHA256", operator_sha.as_str()),
    ];
    let vars: HashMap<String, String> = vars
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    Worker::start(host, vars, &[])
}

/// GET /v1/workers on `worker` with `key`: the status and the JSON body (Null when none).
async fn list(worker: &Worker, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .get(worker.url("/v1/workers"))
        .timeout(Duration::from_secs(5));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("GET /v1/workers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// The operator's listing, by host (every process of this test has its own).
async fn fleet(worker: &Worker) -> HashMap<String, Value> {
    let (status, body) = list(worker, Some(OPERATOR_KEY)).await;
    assert_eq!(status, 200, "{body}");
    let workers = body["workers"].as_array().expect("a workers array");
    let ids: Vec<&str> = workers
        .iter()
        .map(|row| row["instance_id"].as_str().expect("an instance id"))
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "listed by instance id");
    workers
        .iter()
        .map(|row| {
            (
                row["host"].as_str().expect("a host").to_owned(),
                row.clone(),
            )
        })
        .collect()
}

/// (role, topic, partition) of every partition a listed process holds.
fn partitions(row: &Value) -> BTreeSet<(String, String, i64)> {
    row["partitions"]
        .as_array()
        .expect("a partitions array")
        .iter()
        .map(|p| {
            let text = |field: &str| p[field].as_str().expect("a string").to_owned();
            (
                text("role"),
                text("topic"),
                p["partition"].as_i64().expect("a number"),
            )
        })
        .collect()
}

fn every_partition(role: &str, topic: &str) -> BTreeSet<(String, String, i64)> {
    (0..PARTITIONS as i64)
        .map(|partition| (role.to_owned(), topic.to_owned(), partition))
        .collect()
}

/// The sum of a field over a role's partitions; None while any partition lacks it.
fn total(row: &Value, role: &str, field: &str) -> Option<i64> {
    let partitions = row["partitions"].as_array()?;
    partitions
        .iter()
        .filter(|p| p["role"] == role)
        .map(|p| p[field].as_i64())
        .sum()
}

/// A row as a process silent for `silent` would have left it.
async fn silent_row(test_db: &TestDb, host: &str, silent: chrono::Duration) {
    let beat = Utc::now() - silent;
    let row = workers::ActiveModel {
        instance_id: Set(format!("{host}-1-0000abcd")),
        host: Set(host.to_owned()),
        version: Set("0.0.1".to_owned()),
        git_commit: Set("unknown".to_owned()),
        roles: Set(r#"["feedback"]"#.to_owned()),
        concurrency: Set(1),
        backend: Set("embedded".to_owned()),
        heartbeat_secs: Set(10),
        started_at: Set(beat),
        heartbeat_at: Set(beat),
        state: Set("{}".to_owned()),
    };
    let db = test_db.connect().await;
    row.insert(&db).await.expect("insert a silent row");
    let _closed = db.close().await;
}

async fn the_fleet_shows_live_processes_and_forgets_gone_ones(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: two processes with different roles on one database.
    let mut intake = start(&test_db, "fleet-intake", "intake", "2");
    intake.wait_ready(PROCESS_LIMIT).await;
    let mut downstream = start(&test_db, "fleet-downstream", "triage,policy", "3");
    downstream.wait_ready(PROCESS_LIMIT).await;

    // Assert: both appear, with their roles and every partition of their topics.
    let mut listed = HashMap::new();
    wait_for("both processes are listed", PROCESS_LIMIT, async || {
        listed = fleet(&intake).await;
        listed.len() == 2
    })
    .await;
    let first = &listed["fleet-intake"];
    assert_eq!(first["roles"], json!(["intake"]));
    assert_eq!(first["concurrency"], 2);
    assert_eq!(first["backend"], "embedded");
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(first["heartbeat_secs"], 1);
    assert_eq!(first["stale"], false);
    assert_eq!(first["failed_roles"], json!([]));
    assert_eq!(first["in_flight"], json!({"intake": 0}));
    assert!(first["instance_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("fleet-intake-")));
    assert_eq!(
        partitions(first),
        every_partition("intake", "exceptions.ingested")
    );
    let second = &listed["fleet-downstream"];
    assert_eq!(second["roles"], json!(["triage", "policy"]));
    assert_eq!(second["concurrency"], 3);
    let mut expected = every_partition("triage", "exceptions.normalized");
    expected.extend(every_partition("policy", "exceptions.triaged"));
    assert_eq!(partitions(second), expected);

    // Act: one exception through intake; its partition's committed offset moves, lag drains.
    let submitted = reqwest::Client::new()
        .post(intake.url("/v1/exceptions"))
        .bearer_auth(ACME_KEY)
        .json(&json!({"exceptionId": "FLEET-1", "exceptionType": "TRADE_BREAK"}))
        .send()
        .await
        .expect("POST an exception");
    assert_eq!(submitted.status().as_u16(), 202);
    wait_for(
        "intake committed the exception",
        PROCESS_LIMIT,
        async || {
            let row = fleet(&intake).await.remove("fleet-intake");
            row.is_some_and(|row| {
                total(&row, "intake", "committed_offset") == Some(1)
                    && total(&row, "intake", "lag") == Some(0)
            })
        },
    )
    .await;

    // Assert: only the operator key lists the fleet.
    let (status, body) = list(&intake, Some(ACME_KEY)).await;
    assert_eq!(status, 403, "a tenant key: {body}");
    let (status, _) = list(&intake, None).await;
    assert_eq!(status, 401, "no key");

    // Act: rows of processes gone half an hour and two hours ago.
    silent_row(
        &test_db,
        "fleet-gone-recently",
        chrono::Duration::minutes(30),
    )
    .await;
    silent_row(&test_db, "fleet-gone-long-ago", chrono::Duration::hours(2)).await;

    // Assert: the beats forget the one past the hour and keep the other, stale.
    wait_for(
        "the long silent row is forgotten",
        PROCESS_LIMIT,
        async || {
            let listed = fleet(&downstream).await;
            !listed.contains_key("fleet-gone-long-ago")
                && listed.contains_key("fleet-gone-recently")
        },
    )
    .await;
    assert_eq!(
        fleet(&downstream).await["fleet-gone-recently"]["stale"],
        true
    );

    // Act: SIGKILL intake; its row stays, and turns stale after three missed beats.
    intake.kill();
    let killed_at = Instant::now();
    let mut killed = Value::Null;
    wait_for(
        "the killed process turns stale",
        PROCESS_LIMIT,
        async || {
            killed = fleet(&downstream)
                .await
                .remove("fleet-intake")
                .expect("its row stays");
            killed["stale"] == true
        },
    )
    .await;
    let age = killed["heartbeat_age_secs"].as_f64().expect("an age");
    assert!(age > 3.0, "stale at {age} s");
    // Its last beat came at most a second before the kill.
    assert!(killed_at.elapsed() >= Duration::from_secs(2));
    assert_eq!(fleet(&downstream).await["fleet-downstream"]["stale"], false);

    // Act: SIGTERM the other; its graceful shutdown deletes its own row.
    downstream.terminate();
    let exit = downstream.wait_exit(PROCESS_LIMIT).await;

    // Assert
    assert!(exit.success(), "{exit:?}");
    let db = test_db.connect().await;
    let by_host = "SELECT COUNT(*) AS n FROM workers WHERE host = $1";
    assert_eq!(
        count(&db, by_host, vec!["fleet-downstream".into()]).await,
        0
    );
    assert_eq!(count(&db, by_host, vec!["fleet-intake".into()]).await, 1);
    let _closed = db.close().await;
}
