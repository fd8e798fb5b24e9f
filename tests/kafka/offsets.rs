//! rdkafka's offset convention, pinned through the Bus API: the committed offset is the next
//! one to read, so a new member of the group starts exactly there.

use std::sync::Arc;
use std::time::{Duration, Instant};

use exception_worker::app::open_bus;
use exception_worker::bus::{AssignmentEvent, Bus, PartitionSource, Record};
use exception_worker::health::Health;
use exception_worker::metrics::Metrics;
use exception_worker::model::topics;
use sea_orm::DatabaseConnection;
use test_support::{Cluster, Producer};
use tokio::sync::mpsc::UnboundedReceiver;

const LIMIT: Duration = Duration::from_secs(60);
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

async fn open(cluster: &Cluster, db: &DatabaseConnection) -> Arc<dyn Bus> {
    let metrics = Metrics::new().expect("Failed to create metrics");
    let health = Health::new(Duration::from_secs(60), Duration::from_secs(60));
    open_bus(
        &cluster.settings(None),
        db,
        &metrics,
        &health,
        "offsets-test",
    )
    .await
    .expect("Failed to open the Kafka bus")
}

/// The first non-empty assignment on `events` (revokes before it are acknowledged).
async fn assigned(events: &mut UnboundedReceiver<AssignmentEvent>) -> Arc<dyn PartitionSource> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(AssignmentEvent::Assigned(mut sources))) if !sources.is_empty() => {
                return sources.remove(0)
            }
            Ok(Some(AssignmentEvent::Assigned(_))) => {}
            Ok(Some(AssignmentEvent::Revoked { done, .. })) => {
                let _bus_gone = done.try_send(());
            }
            Ok(None) => panic!("the bus closed the assignment channel"),
            Err(_) => panic!("no partition was assigned within {LIMIT:?}"),
        }
    }
}

/// Fetches until at least `wanted` records arrived.
async fn fetch_at_least(source: &dyn PartitionSource, from: i64, wanted: usize) -> Vec<Record> {
    let deadline = Instant::now() + LIMIT;
    let mut records: Vec<Record> = Vec::new();
    while records.len() < wanted {
        assert!(
            Instant::now() < deadline,
            "only {} of {wanted} records arrived within {LIMIT:?}",
            records.len()
        );
        let next = records.last().map_or(from, |record| record.offset + 1);
        let fetched = source
            .fetch(next, wanted, Duration::from_millis(500))
            .await
            .expect("Failed to fetch");
        records.extend(fetched);
    }
    records
}

#[actix_rt::test]
async fn offsets_follow_the_kafka_convention() {
    let Some(mut cluster) = Cluster::start("offsets").await else {
        return;
    };
    // Arrange: ten records on a one-partition topic; a member reads them and has processed
    // the first four (offsets 0..=3).
    cluster.set("KAFKA_TOPIC_PARTITIONS", "1");
    let mut producer = Producer::open(&cluster).await;
    producer.produce(10, 10).await;
    let first_bus = open(&cluster, &producer.db).await;
    let mut events = first_bus
        .subscribe("intake", &cluster.group, &[topics::INGESTED])
        .await
        .expect("Failed to subscribe");
    let source = assigned(&mut events).await;
    let start = source.committed_position().await.expect("a position");
    let records = fetch_at_least(source.as_ref(), start, 4).await;
    let offsets: Vec<i64> = records.iter().map(|record| record.offset).collect();
    assert_eq!(start, 0, "nothing was committed yet");
    assert_eq!(&offsets[..4], &[0, 1, 2, 3], "{offsets:?}");
    let last_processed = records[3].offset;

    // Act: commit the next offset to read, leave, and join again with the same group.
    source
        .commit(last_processed + 1)
        .await
        .expect("Failed to commit");
    drop((records, source, events));
    first_bus.close(DRAIN_DEADLINE).await;
    let second_bus = open(&cluster, &producer.db).await;
    let mut events = second_bus
        .subscribe("intake", &cluster.group, &[topics::INGESTED])
        .await
        .expect("Failed to subscribe again");
    let source = assigned(&mut events).await;
    let position = source.committed_position().await.expect("a position");
    let records = fetch_at_least(source.as_ref(), position, 1).await;

    // Assert
    assert_eq!(position, last_processed + 1);
    assert_eq!(records[0].offset, last_processed + 1);

    drop((records, source, events));
    second_bus.close(DRAIN_DEADLINE).await;
    producer.close().await;
}
