//! SIGTERM drains and commits: the next process of the group starts where the first stopped.

use std::time::Duration;

use test_support::produce::assert_exactly_once;
use test_support::{wait_for, Cluster, Producer, Worker};

const LIMIT: Duration = Duration::from_secs(60);

#[actix_rt::test]
async fn sigterm_drains_and_commits_so_a_restart_consumes_nothing_twice() {
    let Some(mut cluster) = Cluster::start("sigterm").await else {
        return;
    };
    // Arrange: no periodic commit in the test's time, so only the drain can commit.
    const N: usize = 400;
    const M: usize = 200;
    cluster.set("COMMIT_INTERVAL_MS", "3600000");
    let mut producer = Producer::open(&cluster).await;
    let intake = [("WORKER_TYPE", "intake")];
    let mut first = Worker::spawn("intake-first", &cluster, &intake, &[]);
    producer.produce(N, 100).await;
    assert_exactly_once(&cluster, &producer.db, N, LIMIT).await;

    // Act
    first.terminate();
    let status = first.wait_exit(LIMIT).await;
    let second = Worker::spawn("intake-second", &cluster, &intake, &[]);
    wait_for(
        "the second process owns every partition",
        LIMIT,
        async || second.assigned("intake").await == 6.0,
    )
    .await;
    producer.produce(M, 100).await;

    // Assert
    assert!(status.success(), "SIGTERM should exit 0, got {status}");
    assert_exactly_once(&cluster, &producer.db, N + M, LIMIT).await;
    wait_for("the second process counted its events", LIMIT, async || {
        second.events("intake", "processed").await == M as f64
    })
    .await;
    assert_eq!(second.events("intake", "duplicate").await, 0.0);

    producer.close().await;
}
