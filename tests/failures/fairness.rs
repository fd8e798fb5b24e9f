//! Per-tenant fairness on Kafka + Postgres: tenant A (acme) floods 5,000 exceptions at once while
//! tenant B (globex) sends 50 spread over the flood. Latency is ingest to intake-processed: the
//! ExceptionIngested row's created_at (the outbox append) to the exception row's created_at.
//!
//! The bound. A partition worker fetches in offset order into a buffer of
//! MAX_BUFFERED_PER_PARTITION records and dispatches from it with at most TENANT_MAX_IN_FLIGHT
//! (16) records per tenant in the handlers; the buffer is the fairness window. Here it holds a
//! partition's share of the flood (5,000 / 6 ~ 833, plus hash imbalance, < 1,024), so a B record
//! is fetched as soon as it is published and then waits only for (a) the publishing of the A
//! rows committed before it, and (b) the A records already in its handler's mailbox: at most
//! 16 x 6 partitions = 96 over CONCURRENCY 2 handlers, i.e. ~96 of the 2,500 handler turns of the
//! drain, ~4% of it. A FIFO would make it wait for every A record ahead of it on its partition,
//! up to the whole drain. Asserted: B's p99 under a quarter of A's drain time (6x the in-flight
//! wait, slack for publishing and 2 shared cores; a FIFO fails it), and B's median under a quarter
//! of A's. With the default buffer (512) a flood larger than the buffer delays B by the excess:
//! B waits until (share - 512) A records of its partition completed, ~0.4 of the drain.

use std::time::{Duration, Instant};

use exception_worker::ingest;
use sea_orm::ConnectionTrait;
use test_support::readers::{processed_by, statement};
use test_support::{ingested, wait_for, Cluster, Producer, ACME, GLOBEX};

use crate::support::Proc;

const FLOOD: usize = 5000;
/// MAX_BUFFERED_PER_PARTITION: room for a partition's share of the flood.
const BUFFER: &str = "1024";
const TRICKLE: usize = 50;
const TRICKLE_EVERY: Duration = Duration::from_millis(150);
const LIMIT: Duration = Duration::from_secs(240);

/// One tenant's latencies, in seconds, sorted; with the first ingest and last processing.
struct Latencies {
    sorted: Vec<f64>,
    first_ingested: f64,
    last_processed: f64,
}

impl Latencies {
    fn percentile(&self, p: f64) -> f64 {
        let rank = ((p * self.sorted.len() as f64).ceil() as usize).clamp(1, self.sorted.len());
        self.sorted[rank - 1]
    }

    fn drain(&self) -> f64 {
        self.last_processed - self.first_ingested
    }
}

async fn latencies(db: &sea_orm::DatabaseConnection, tenant: &str) -> Latencies {
    let sql = r#"SELECT EXTRACT(EPOCH FROM e.created_at)::float8 AS ingested,
                        EXTRACT(EPOCH FROM x.created_at)::float8 AS processed
                 FROM exceptions x JOIN events e
                   ON e.tenant_id = x.tenant_id AND e.exception_id = x.exception_id
                 WHERE x.tenant_id = $1 AND e.event_type = 'ExceptionIngested'"#;
    let rows = db
        .query_all_raw(statement(db, sql, vec![tenant.into()]))
        .await
        .expect("Failed to read latencies");
    let pairs: Vec<(f64, f64)> = rows
        .iter()
        .map(|row| {
            let ingested: f64 = row.try_get("", "ingested").expect("ingested");
            (ingested, row.try_get("", "processed").expect("processed"))
        })
        .collect();
    let mut sorted: Vec<f64> = pairs.iter().map(|(i, p)| p - i).collect();
    sorted.sort_by(f64::total_cmp);
    Latencies {
        sorted,
        first_ingested: pairs.iter().map(|(i, _)| *i).fold(f64::MAX, f64::min),
        last_processed: pairs.iter().map(|(_, p)| *p).fold(f64::MIN, f64::max),
    }
}

#[actix_rt::test]
async fn a_tenant_flood_does_not_starve_another_tenant() {
    let Some(cluster) = Cluster::start("fairness").await else {
        return;
    };
    // Arrange: the worker owns every partition before the flood starts.
    let producer = Producer::open(&cluster).await;
    let worker = Proc::spawn(
        "intake",
        &cluster,
        &[("MAX_BUFFERED_PER_PARTITION", BUFFER)],
        "intake",
    );
    wait_for("intake owns the 6 partitions", LIMIT, async || {
        worker
            .metric("assigned_partitions", &[("role", "intake")])
            .await
            == 6.0
    })
    .await;
    let append = async |envelopes| {
        ingest::append(&producer.db, producer.bus.as_ref(), envelopes)
            .await
            .expect("Failed to append exceptions");
    };

    // Act: A's flood in one transaction, then B's trickle while it drains.
    let started = Instant::now();
    append(
        (0..FLOOD)
            .map(|n| ingested(ACME, &format!("FLOOD-{n:04}")))
            .collect(),
    )
    .await;
    let flood_appended = started.elapsed();
    for n in 0..TRICKLE {
        append(vec![ingested(GLOBEX, &format!("TRICKLE-{n:02}"))]).await;
        actix_rt::time::sleep(TRICKLE_EVERY).await;
    }
    wait_for("both tenants are processed", LIMIT, async || {
        processed_by(&producer.db, "intake").await == (FLOOD + TRICKLE) as i64
    })
    .await;

    // Assert
    let a = latencies(&producer.db, ACME).await;
    let b = latencies(&producer.db, GLOBEX).await;
    assert_eq!((a.sorted.len(), b.sorted.len()), (FLOOD, TRICKLE));
    let drain = a.drain();
    eprintln!(
        "fairness: A's {FLOOD} appended in {:.2}s, drained in {drain:.2}s (A p50 {:.2}s, p99 {:.2}); \
         B's {TRICKLE} over {:.1}s: p50 {:.3}s, p99 {:.3}s, max {:.3}s",
        flood_appended.as_secs_f64(),
        a.percentile(0.5),
        a.percentile(0.99),
        b.drain(),
        b.percentile(0.5),
        b.percentile(0.99),
        b.percentile(1.0),
    );
    assert!(
        b.percentile(0.99) < drain / 4.0,
        "B's p99 {:.3}s is not under a quarter of A's drain time {drain:.2}s",
        b.percentile(0.99)
    );
    assert!(
        b.percentile(0.5) < a.percentile(0.5) / 4.0,
        "B's median {:.3}s is not well below A's {:.3}s",
        b.percentile(0.5),
        a.percentile(0.5)
    );
    producer.close().await;
}
