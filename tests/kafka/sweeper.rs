//! The outbox sweeper across crashes: rows committed but never published (a crash between the
//! commit and the publish) are published by the sweeper of a running process; rows published
//! but never marked (a crash before the mark) are published again, and consumers dedupe them.

use std::time::Duration;

use exception_worker::app::AppOptions;
use sea_orm::ConnectionTrait;
use test_support::produce::{assert_exactly_once, ingested_on_broker};
use test_support::readers::count;
use test_support::{wait_for, Cluster, Producer};

const LIMIT: Duration = Duration::from_secs(60);
const UNPUBLISHED: &str = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";

#[actix_rt::test]
async fn the_sweeper_delivers_what_was_committed_before_a_crash() {
    let Some(cluster) = Cluster::start("sweep_commit").await else {
        return;
    };
    // Arrange: rows committed to the outbox, then a crash before any publish.
    const N: usize = 50;
    let mut producer = Producer::open(&cluster).await;
    producer.append(N).await;
    let on_broker = ingested_on_broker(&cluster, 0).await;
    assert_eq!(
        on_broker, 0,
        "nothing may be published before a sweeper runs"
    );
    assert_eq!(count(&producer.db, UNPUBLISHED, vec![]).await, N as i64);

    // Act
    let app = cluster.spawn_app("intake", AppOptions::default()).await;

    // Assert
    assert_exactly_once(&cluster, &app.db, N, LIMIT).await;
    wait_for("the outbox is empty", LIMIT, async || {
        count(&app.db, UNPUBLISHED, vec![]).await == 0
    })
    .await;
    assert_eq!(ingested_on_broker(&cluster, N).await, N);

    app.app.shutdown().await;
    producer.close().await;
}

#[actix_rt::test]
async fn rows_published_but_never_marked_are_published_again_and_consumers_dedupe() {
    let Some(cluster) = Cluster::start("sweep_mark").await else {
        return;
    };
    // Arrange: N rows published, then their marks lost, as a crash before the mark loses them.
    const N: usize = 50;
    let mut producer = Producer::open(&cluster).await;
    producer.append(N).await;
    producer.publish().await;
    wait_for("the rows are marked published", LIMIT, async || {
        count(&producer.db, UNPUBLISHED, vec![]).await == 0
    })
    .await;
    producer
        .db
        .execute_unprepared("UPDATE events SET published_at = NULL")
        .await
        .expect("Failed to forget the marks");

    // Act
    let app = cluster.spawn_app("intake", AppOptions::default()).await;

    // Assert: processed once, every row published twice, the second copies seen as duplicates.
    assert_exactly_once(&cluster, &app.db, N, LIMIT).await;
    wait_for(
        "intake saw every republished row as a duplicate",
        LIMIT,
        async || app.duplicates("intake") == N as f64,
    )
    .await;
    assert_exactly_once(&cluster, &app.db, N, LIMIT).await;
    let on_broker = ingested_on_broker(&cluster, 2 * N).await;
    assert_eq!(on_broker, 2 * N, "each row was published twice");

    app.app.shutdown().await;
    producer.close().await;
}
