//! The fleet listing on Kafka: a process lists the partitions the broker's group assigned it;
//! while its handlers hold records back, the listing shows them in flight and the partitions'
//! lag, and once released, the committed offsets account for every record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exception_worker::app::AppOptions;
use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use serde_json::Value;
use sha2::Digest;
use test_support::{wait_for, Cluster, Producer, TestApp};

const OPERATOR_KEY: &str = "kafka-fleet-operator-key";
const TOPIC_PARTITIONS: usize = 6;
const RECORDS: i64 = 12;
/// Joining the group takes a few seconds on tansu (see scaling.rs).
const ASSIGN_LIMIT: Duration = Duration::from_secs(60);

/// Fails every intake attempt (a transient error, retried) while `hold` is set.
struct HoldIntake {
    hold: AtomicBool,
}

impl FaultHook for HoldIntake {
    fn before_effect(&self, role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        if role == RoleName::Intake && self.hold.load(Ordering::SeqCst) {
            return Err("held back by the test".into());
        }
        Ok(())
    }

    fn after_commit(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }
}

/// The app's own (only) row of the listing.
async fn own_row(app: &TestApp) -> Option<Value> {
    let (status, body) = app.get_json(Some(OPERATOR_KEY), "/v1/workers").await;
    assert_eq!(status, 200, "{body}");
    body["workers"].as_array()?.first().cloned()
}

/// Each listed partition's `field`, None where it is null.
fn numbers(row: &Value, field: &str) -> Vec<Option<i64>> {
    row["partitions"]
        .as_array()
        .map(|partitions| partitions.iter().map(|p| p[field].as_i64()).collect())
        .unwrap_or_default()
}

#[actix_rt::test]
async fn the_fleet_shows_kafka_partitions_with_their_lag() {
    let Some(mut cluster) = Cluster::start("fleet").await else {
        return;
    };
    // Arrange
    let operator_sha = hex::encode(sha2::Sha256::digest(OPERATOR_KEY.as_bytes()));
    cluster.set("OPERATOR_API_KEY_SHA256", &operator_sha);
    cluster.set("WORKER_HEARTBEAT_SECS", "1");
    cluster.set("MAX_ATTEMPTS", "1000");
    let mut producer = Producer::open(&cluster).await;
    let hook = Arc::new(HoldIntake {
        hold: AtomicBool::new(true),
    });
    let options = AppOptions {
        faults: Some(hook.clone()),
        ..AppOptions::default()
    };
    let app = cluster.spawn_app("intake", options).await;
    let topic = format!("{}exceptions.ingested", cluster.prefix);
    let mut row = Value::Null;
    wait_for(
        "the app lists its six partitions",
        ASSIGN_LIMIT,
        async || {
            row = own_row(&app).await.unwrap_or_default();
            let partitions = numbers(&row, "partition");
            partitions.len() == TOPIC_PARTITIONS
        },
    )
    .await;
    assert_eq!(row["backend"], "kafka");
    for partition in row["partitions"].as_array().expect("partitions") {
        assert_eq!(partition["role"], "intake");
        assert_eq!(partition["topic"], topic.as_str());
    }

    // Act: records arrive while intake holds them back.
    producer.produce(RECORDS as usize, RECORDS as usize).await;

    // Assert: they are in flight, and the partitions lag behind the broker's end.
    wait_for("the held records show as lag", ASSIGN_LIMIT, async || {
        row = own_row(&app).await.unwrap_or_default();
        let lag: i64 = numbers(&row, "lag").into_iter().flatten().sum();
        lag > 0 && row["in_flight"]["intake"].as_i64().is_some_and(|n| n > 0)
    })
    .await;
    let committed: i64 = numbers(&row, "committed_offset")
        .into_iter()
        .flatten()
        .sum();
    assert_eq!(committed, 0, "nothing is committed past a held record");

    // Act
    hook.hold.store(false, Ordering::SeqCst);

    // Assert: every record committed, nothing in flight, no lag left.
    wait_for("every record is committed", ASSIGN_LIMIT, async || {
        row = own_row(&app).await.unwrap_or_default();
        let committed: i64 = numbers(&row, "committed_offset")
            .into_iter()
            .flatten()
            .sum();
        committed == RECORDS
            && numbers(&row, "lag").iter().all(|lag| *lag == Some(0))
            && row["in_flight"]["intake"] == 0
    })
    .await;

    app.app.shutdown().await;
    producer.close().await;
}
