//! Horizontal scale: intake processes sharing one group on a 6-partition topic, a member
//! killed mid-stream, a member joining mid-stream. Every exception's effects happen exactly
//! once, counted in rows.

use std::time::Duration;

use test_support::produce::{assert_exactly_once, effects};
use test_support::{wait_for, Cluster, Producer, Worker};

const PARTITIONS: f64 = 6.0;
/// Joins and rebalances take a few seconds each on tansu (JoinGroup is answered after half
/// the 6 s session timeout); a killed member is noticed after the session timeout.
const ASSIGN_LIMIT: Duration = Duration::from_secs(60);
const PROCESS_LIMIT: Duration = Duration::from_secs(120);
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
    victim.kill();
    producer.produce(N - N / 3, BATCH).await;

    // Assert
    assert_exactly_once(&cluster, &producer.db, N, PROCESS_LIMIT).await;
    let survivors: Vec<&Worker> = survivors.iter().collect();
    wait_for_balance(&survivors).await;
    let duplicates = outcomes(&survivors, "duplicate").await;
    eprintln!(
        "killed {} after {processed_at_kill} of {N} were processed; survivors saw {duplicates:?} \
         duplicate deliveries (redeliveries of uncommitted records; expected, and harmless)",
        victim.name
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
