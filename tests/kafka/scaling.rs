//! Horizontal scale: intake processes sharing one group on a 6-partition topic, a member
//! killed mid-stream (and how long the group takes to resume), a member joining mid-stream.
//! Every exception's effects happen exactly once, counted in rows.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use test_support::produce::{assert_exactly_once, effects};
use test_support::readers::statement;
use test_support::{wait_for, Cluster, Producer, Worker, SESSION_TIMEOUT_MS};

const PARTITIONS: f64 = 6.0;
/// Joins and rebalances take a few seconds each on tansu (JoinGroup is answered after half
/// the 6 s session timeout); a killed member is noticed after the session timeout.
const ASSIGN_LIMIT: Duration = Duration::from_secs(60);
const PROCESS_LIMIT: Duration = Duration::from_secs(120);
/// How long an exception may wait after a member was killed: the broker notices the dead member
/// after the session timeout (6 s here), answers the survivors' JoinGroup after half of it, and
/// they resume from the last committed offsets.
const RESUME_BOUND: Duration = Duration::from_secs(30);

/// The longest any exception produced since `since` waited from its commit to intake's.
async fn longest_wait_since(db: &DatabaseConnection, since: DateTime<Utc>) -> Duration {
    let sql = r#"SELECT e.created_at AS produced, p.processed_at AS processed FROM events e
                 JOIN processed_events p ON p.event_id = e.event_id AND p.role = 'intake'
                 WHERE e.event_type = 'ExceptionIngested' AND e.created_at >= $1"#;
    let rows = db
        .query_all_raw(statement(db, sql, vec![since.into()]))
        .await
        .expect("Failed to read the waits");
    rows.iter()
        .filter_map(|row| {
            let produced: DateTime<Utc> = row.try_get("", "produced").ok()?;
            let processed: DateTime<Utc> = row.try_get("", "processed").ok()?;
            (processed - produced).to_std().ok()
        })
        .max()
        .unwrap_or_default()
}
const BATCH: usize = 100;

fn spawn_intake(name: &str, cluster: &Cluster) -> Worker {
    Worker::spawn(name, cluster, &[("WORKER_TYPE", "intake")], &[])
}

/// Waits until every worker owns partitions and together they own all of them; returns
/// what each owns.
async fn wait_for_balance(workers: &[&Worker]) -> Vec<u64> {
    let mut assigned = Vec::new();
    let what = format!(
        "{} workers share the {PARTITIONS} partitions",
        workers.len()
    );
    wait_for(&what, ASSIGN_LIMIT, async || {
        assigned.clear();
        for worker in workers {
            assigned.push(worker.assigned("intake").await);
        }
        assigned.iter().all(|owned| *owned > 0.0) && assigned.iter().sum::<f64>() == PARTITIONS
    })
    .await;
    assigned.iter().map(|owned| *owned as u64).collect()
}

/// Events each worker handled, by outcome.
async fn outcomes(workers: &[&Worker], outcome: &str) -> Vec<u64> {
    let mut counts = Vec::new();
    for worker in workers {
        counts.push(worker.events("intake", outcome).await as u64);
    }
    counts
}

#[actix_rt::test]
async fn three_processes_share_a_six_partition_topic() {
    let Some(cluster) = Cluster::start("share").await else {
        return;
    };
    // Arrange
    const N: usize = 600;
    let mut producer = Producer::open(&cluster).await;
    let workers: Vec<Worker> = (1..=3)
        .map(|n| spawn_intake(&format!("intake-{n}"), &cluster))
        .collect();
    let workers: Vec<&Worker> = workers.iter().collect();
    let assigned = wait_for_balance(&workers).await;

    // Act
    producer.produce(N, BATCH).await;

    // Assert
    assert_exactly_once(&cluster, &producer.db, N, PROCESS_LIMIT).await;
    let processed = outcomes(&workers, "processed").await;
    let duplicates = outcomes(&workers, "duplicate").await;
    eprintln!("assigned {assigned:?}, processed {processed:?}, duplicates {duplicates:?}");
    assert!(
        processed.iter().all(|count| *count > 0),
        "a worker processed nothing: {processed:?}"
    );
    assert_eq!(processed.iter().sum::<u64>(), N as u64, "{processed:?}");

    producer.close().await;
}

#[actix_rt::test]
async fn a_killed_process_loses_and_duplicates_nothing() {
    let Some(cluster) = Cluster::start("kill").await else {
        return;
    };
    // Arrange
    const N: usize = 3000;
    let mut producer = Producer::open(&cluster).await;
    let mut victim = spawn_intake("intake-victim", &cluster);
    let survivors = [
        spawn_intake("intake-survivor-1", &cluster),
        spawn_intake("intake-survivor-2", &cluster),
    ];
    wait_for_balance(&[&victim, &survivors[0], &survivors[1]]).await;

    // Act: a third of the stream, SIGKILL the victim while it works on it, then the rest.
    producer.produce(N / 3, BATCH).await;
    wait_for("the victim processes its share", ASSIGN_LIMIT, async || {
        victim.events("intake", "processed").await > 0.0
    })
    .await;
    let processed_at_kill = effects(&producer.db).await.processed_by_intake;
    let killed_at = chrono::Utc::now();
    victim.kill();
    producer.produce(N - N / 3, BATCH).await;

    // Assert
    assert_exactly_once(&cluster, &producer.db, N, PROCESS_LIMIT).await;
    let survivors: Vec<&Worker> = survivors.iter().collect();
    wait_for_balance(&survivors).await;
    let duplicates = outcomes(&survivors, "duplicate").await;
    let resumed = longest_wait_since(&producer.db, killed_at).await;
    eprintln!(
        "killed {} after {processed_at_kill} of {N} were processed; survivors saw {duplicates:?} \
         duplicate deliveries (redeliveries of uncommitted records; expected, and harmless); \
         time to resume: an exception produced after the kill waited at most {resumed:?} \
         (session timeout {SESSION_TIMEOUT_MS} ms)",
        victim.name
    );
    assert!(
        resumed < RESUME_BOUND,
        "the group took {resumed:?} to resume after the kill"
    );

    producer.close().await;
}

#[actix_rt::test]
async fn a_fourth_process_joining_mid_stream_loses_and_duplicates_nothing() {
    let Some(cluster) = Cluster::start("join").await else {
        return;
    };
    // Arrange
    const N: usize = 3000;
    let mut producer = Producer::open(&cluster).await;
    let first = [
        spawn_intake("intake-1", &cluster),
        spawn_intake("intake-2", &cluster),
        spawn_intake("intake-3", &cluster),
    ];
    wait_for_balance(&first.iter().collect::<Vec<_>>()).await;

    // Act: a fourth member starts after a third of the stream; the stream goes on while it
    // joins, and its last third comes once the fourth owns partitions.
    producer.produce(N / 3, BATCH).await;
    let fourth = spawn_intake("intake-4", &cluster);
    producer.produce(N / 3, BATCH).await;
    wait_for(
        "the fourth member owns partitions",
        ASSIGN_LIMIT,
        async || fourth.assigned("intake").await > 0.0,
    )
    .await;
    producer.produce(N - producer.produced(), BATCH).await;

    // Assert
    let all: Vec<&Worker> = first.iter().chain([&fourth]).collect();
    let assigned = wait_for_balance(&all).await;
    assert_exactly_once(&cluster, &producer.db, N, PROCESS_LIMIT).await;
    let processed = outcomes(&all, "processed").await;
    let duplicates = outcomes(&all, "duplicate").await;
    eprintln!("assigned {assigned:?}, processed {processed:?}, duplicates {duplicates:?}");
    assert!(processed[3] > 0, "the fourth member processed nothing");

    producer.close().await;
}
