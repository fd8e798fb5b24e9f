//! The outbox relay across crashes: rows committed but never produced are delivered by the next
//! relay; rows produced but never marked are produced again, and consumers dedupe them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exception_worker::app::AppOptions;
use exception_worker::relay::RelayFaultHook;

use crate::cluster::{wait_for, Cluster};
use crate::produce::{assert_exactly_once, ingested_on_broker, Producer};
use crate::readers::count;

const LIMIT: Duration = Duration::from_secs(60);
const UNPUBLISHED: &str = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";

#[actix_rt::test]
async fn the_relay_delivers_what_was_committed_before_a_crash() {
    let Some(cluster) = Cluster::start("relay_commit").await else {
        return;
    };
    // Arrange: rows committed to the outbox, then a crash before any produce.
    const N: usize = 50;
    let mut producer = Producer::open(&cluster).await;
    producer.append(N).await;
    let on_broker = ingested_on_broker(&cluster, 0).await;
    assert_eq!(on_broker, 0, "nothing may be produced before a relay runs");
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

/// Fails the first relay pass that published something, after the publish and before the mark.
#[derive(Default)]
struct CrashAfterPublish {
    fired: AtomicBool,
    published_then: AtomicUsize,
}

impl RelayFaultHook for CrashAfterPublish {
    fn after_publish(&self, published: usize) -> Result<(), String> {
        if published > 0 && !self.fired.swap(true, Ordering::SeqCst) {
            self.published_then.store(published, Ordering::SeqCst);
            return Err("simulated crash between the produce and the mark".to_owned());
        }
        Ok(())
    }
}

#[actix_rt::test]
async fn a_crash_between_produce_and_mark_republishes_and_consumers_dedupe() {
    let Some(cluster) = Cluster::start("relay_mark").await else {
        return;
    };
    // Arrange
    const N: usize = 50;
    let mut producer = Producer::open(&cluster).await;
    let hook = Arc::new(CrashAfterPublish::default());
    let options = AppOptions {
        relay_faults: Some(hook.clone()),
        ..AppOptions::default()
    };
    let app = cluster.spawn_app("intake", options).await;

    // Act: one transaction, so the first relay pass publishes all N rows.
    producer.append(N).await;

    // Assert
    assert_exactly_once(&cluster, &app.db, N, LIMIT).await;
    assert!(hook.fired.load(Ordering::SeqCst), "the fault never fired");
    assert_eq!(hook.published_then.load(Ordering::SeqCst), N);
    wait_for(
        "intake saw every republished row as a duplicate",
        LIMIT,
        async || app.duplicates("intake") == N as f64,
    )
    .await;
    assert_exactly_once(&cluster, &app.db, N, LIMIT).await;
    let on_broker = ingested_on_broker(&cluster, 2 * N).await;
    assert_eq!(on_broker, 2 * N, "each row was produced twice");
    eprintln!("intake counted {} duplicates", app.duplicates("intake"));

    app.app.shutdown().await;
    producer.close().await;
}
