//! Infrastructure outages while events keep coming: a private Postgres stopped for 30 s, a
//! private broker frozen (SIGSTOP) for 30 s. Neither may dead-letter anything: the worker pauses,
//! readiness goes false naming the dependency, liveness stays green, the process keeps running,
//! and once the dependency is back every event is processed exactly once (counted in rows).

use std::time::{Duration, Instant};

use exception_worker::model::{event_types, topics};
use sea_orm::{Database, DatabaseConnection};
use test_support::readers::{count, processed_by};
use test_support::{ingested, wait_for, Cluster, Producer, RawProducer, ACME, GLOBEX};

use crate::private_broker::PrivateBroker;
use crate::private_postgres::PrivatePostgres;
use crate::support::{dead_letter_count, events_of_type, Proc, PIPELINE};

const OUTAGE: Duration = Duration::from_secs(30);
const TICK: Duration = Duration::from_millis(500);
/// Events produced per tick (20 a second) before, during and after the outage.
const PER_TICK: usize = 10;
const START_LIMIT: Duration = Duration::from_secs(60);
const PROCESS_LIMIT: Duration = Duration::from_secs(120);
/// The readiness probe runs every 2 s and gives each dependency 2 s to answer.
const UNREADY_WITHIN: Duration = Duration::from_secs(10);

/// What the probes said while a dependency was down.
#[derive(Debug)]
struct Observed {
    /// When /readyz first answered 503 naming the dependency.
    unready_after: Option<Duration>,
    /// /readyz answers of 200 after it had gone unready (it must stay unready).
    ready_again: usize,
    checks: usize,
}

/// Keeps producing for `duration` and checks every tick that the process runs, /healthz is
/// 200, and whether /readyz is 503 naming `dependency`.
async fn through_outage(
    worker: &Proc,
    dependency: &str,
    duration: Duration,
    mut produce: impl AsyncFnMut(),
) -> Observed {
    let started = Instant::now();
    let mut observed = Observed {
        unready_after: None,
        ready_again: 0,
        checks: 0,
    };
    while started.elapsed() < duration {
        produce().await;
        assert!(worker.alive(), "the worker exited during the outage");
        let health = worker.get("/healthz").await;
        assert!(
            matches!(health, Some((200, _))),
            "/healthz must stay 200 during the outage, got {health:?}"
        );
        match worker.get("/readyz").await {
            Some((503, body)) if body.contains(dependency) => {
                observed.unready_after.get_or_insert(started.elapsed());
            }
            Some((200, _)) if observed.unready_after.is_some() => observed.ready_again += 1,
            _ => {}
        }
        observed.checks += 1;
        actix_rt::time::sleep(TICK).await;
    }
    observed
}

fn assert_unready_throughout(observed: &Observed, dependency: &str) {
    eprintln!("probes during the {dependency} outage: {observed:?}");
    let after = observed
        .unready_after
        .unwrap_or_else(|| panic!("/readyz never answered 503 with '{dependency}'"));
    assert!(after <= UNREADY_WITHIN, "{observed:?}");
    assert_eq!(
        observed.ready_again, 0,
        "ready during the outage: {observed:?}"
    );
}

/// Waits until every pipeline role processed `n` events, then checks each effect happened
/// exactly once and nothing was dead-lettered.
async fn assert_all_processed_once(db: &DatabaseConnection, n: usize) {
    let n = n as i64;
    wait_for(
        "the pipeline processed every event",
        PROCESS_LIMIT,
        async || processed_by(db, "policy").await >= n,
    )
    .await;
    for role in ["intake", "triage", "policy"] {
        assert_eq!(processed_by(db, role).await, n, "{role}");
    }
    let exceptions = count(db, "SELECT COUNT(*) AS n FROM exceptions", vec![]).await;
    assert_eq!(exceptions, n);
    for event_type in [
        event_types::EXCEPTION_NORMALIZED,
        event_types::TRIAGE_COMPLETED,
        event_types::POLICY_EVALUATION_COMPLETED,
    ] {
        assert_eq!(events_of_type(db, event_type).await, n, "{event_type}");
    }
    assert_eq!(
        dead_letter_count(db).await,
        0,
        "an outage dead-lettered events"
    );
}

async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .expect("Failed to connect to the test database")
}

#[actix_rt::test]
async fn postgres_down_for_30s_loses_nothing() {
    let Some(mut cluster) = Cluster::start("pg_outage").await else {
        return;
    };
    let Some(postgres) = PrivatePostgres::start() else {
        return;
    };
    // Arrange: the worker's database is the private server; events reach Kafka directly.
    let url = postgres.create_database("outage").await;
    cluster.set("DATABASE_URL", &url);
    Producer::open(&cluster).await.close().await;
    let raw = RawProducer::new(&cluster);
    let worker = Proc::spawn("pipeline", &cluster, &[], PIPELINE);
    worker.wait_ready(START_LIMIT).await;
    let pid = worker.worker.pid();
    let mut sent = 0;
    let mut produce = async || {
        for _ in 0..PER_TICK {
            let tenant = [ACME, GLOBEX][sent % 2];
            let envelope = ingested(tenant, &format!("PG-OUTAGE-{sent:05}"));
            raw.send_envelope(topics::INGESTED, &envelope).await;
            sent += 1;
        }
    };
    let db = connect(&url).await;
    wait_for("the pipeline is processing", START_LIMIT, async || {
        produce().await;
        processed_by(&db, "policy").await > 0
    })
    .await;
    let _closed = db.close().await;

    // Act
    postgres.stop_server();
    let observed = through_outage(&worker, "database unreachable", OUTAGE, &mut produce).await;
    postgres.start_server();
    let back = Instant::now();
    wait_for("/readyz is 200 again", START_LIMIT, async || {
        produce().await;
        matches!(worker.get("/readyz").await, Some((200, _)))
    })
    .await;
    eprintln!("ready again {:?} after Postgres restarted", back.elapsed());

    // Assert
    assert_unready_throughout(&observed, "database unreachable");
    let db = connect(&url).await;
    assert_all_processed_once(&db, sent).await;
    let infrastructure = [("class", "infrastructure")];
    let retries = worker
        .metric("handler_retries_total", &infrastructure)
        .await as u64;
    let transient = [("class", "transient")];
    let transient = worker.metric("handler_retries_total", &transient).await as u64;
    eprintln!("{sent} events; handler retries: {retries} infrastructure, {transient} transient");
    assert!(retries > 0, "the outage was never felt by a handler");
    assert_eq!(
        transient, 0,
        "an outage must not count against any event's attempts"
    );
    assert_eq!(worker.worker.pid(), pid);
    assert!(worker.alive());
    assert!(matches!(worker.get("/healthz").await, Some((200, _))));
}

#[actix_rt::test]
async fn broker_frozen_for_30s_loses_nothing() {
    let Some(mut cluster) = Cluster::start("broker_freeze").await else {
        return;
    };
    let Some(mut broker) = PrivateBroker::start() else {
        return;
    };
    // Arrange: a broker of this test's own; events enter through the outbox and the sweeper.
    cluster.servers = broker.address.clone();
    let mut producer = Producer::open(&cluster).await;
    let worker = Proc::spawn("pipeline", &cluster, &[], PIPELINE);
    worker.wait_ready(START_LIMIT).await;
    let pid = worker.worker.pid();
    wait_for("the pipeline is processing", START_LIMIT, async || {
        producer.append(PER_TICK).await;
        processed_by(&producer.db, "policy").await > 0
    })
    .await;

    // Act
    broker.freeze();
    let observed = through_outage(&worker, "broker unreachable", OUTAGE, async || {
        producer.append(PER_TICK).await
    })
    .await;
    broker.thaw();
    let back = Instant::now();
    wait_for("/readyz is 200 again", START_LIMIT, async || {
        producer.append(PER_TICK).await;
        matches!(worker.get("/readyz").await, Some((200, _)))
    })
    .await;
    eprintln!("ready again {:?} after the broker thawed", back.elapsed());

    // Assert
    assert_unready_throughout(&observed, "broker unreachable");
    assert_all_processed_once(&producer.db, producer.produced()).await;
    let unpublished = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";
    wait_for("the outbox is empty", PROCESS_LIMIT, async || {
        count(&producer.db, unpublished, vec![]).await == 0
    })
    .await;
    eprintln!(
        "{} events through a 30 s broker freeze",
        producer.produced()
    );
    assert_eq!(worker.worker.pid(), pid);
    assert!(worker.alive());
    assert!(matches!(worker.get("/healthz").await, Some((200, _))));
    producer.close().await;
}
