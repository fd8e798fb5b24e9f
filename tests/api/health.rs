//! Probes: ready and live once started; during a graceful drain readiness says "draining" while
//! liveness stays green; the drain commits offsets covering every processed event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use serde_json::{json, Value};
use test_support::readers::{count, processed_by};
use test_support::{on_both_backends, wait_until, Backend, Setup, TestDb, ACME};

on_both_backends!(probes_follow_start_and_drain_and_the_drain_commits);

/// The longest the slow handler waits for the test to release it.
const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// Holds intake on payloads marked `"slow": true` until released (at most 5 s), so the drain
/// is observed while the event is certainly in flight.
#[derive(Default)]
struct SlowOnMark {
    entered: AtomicBool,
    released: AtomicBool,
    finished: AtomicBool,
}

impl FaultHook for SlowOnMark {
    fn before_effect(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault> {
        if role == RoleName::Intake && envelope.payload.get("slow") == Some(&Value::Bool(true)) {
            self.entered.store(true, Ordering::SeqCst);
            let started = Instant::now();
            while !self.released.load(Ordering::SeqCst) && started.elapsed() < HOLD_LIMIT {
                std::thread::sleep(Duration::from_millis(10));
            }
            self.finished.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    fn after_commit(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }
}

/// Processed events whose offset the role's group has not committed past.
const UNCOVERED: &str = r#"SELECT COUNT(*) AS n FROM processed_events pe
    JOIN events e ON e.event_id = pe.event_id
    LEFT JOIN consumer_offsets co
      ON co.group_id = pe.role AND co.topic = e.topic AND co."partition" = e."partition"
    WHERE co.next_offset IS NULL OR co.next_offset <= e.log_offset"#;

async fn probe(client: &reqwest::Client, address: &str, path: &str) -> (u16, String) {
    let response = client
        .get(format!("{address}{path}"))
        .send()
        .await
        .expect("a probe response");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a probe body"))
}

async fn probes_follow_start_and_drain_and_the_drain_commits(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: only the drain can commit (the periodic commit is an hour away).
    let hook = Arc::new(SlowOnMark::default());
    let app = Setup::new(&test_db)
        .env("COMMIT_INTERVAL_MS", "3600000")
        .faults(hook.clone())
        .spawn()
        .await;
    let (client, address) = (app.client.clone(), app.address.clone());
    wait_until("/readyz answers 200", async || {
        probe(&client, &address, "/readyz").await.0 == 200
    })
    .await;
    assert_eq!(probe(&client, &address, "/healthz").await.0, 200);
    let quick: Vec<_> = (0..3)
        .map(|n| json!({"exceptionId": format!("QUICK-{n}"), "exceptionType": "TRADE_BREAK"}))
        .collect();
    app.ingest(ACME, &quick).await;
    app.wait_for_processed("policy", 3).await;
    let db = app.db.clone();
    let offsets = "SELECT COUNT(*) AS n FROM consumer_offsets";
    assert_eq!(
        count(&db, offsets, vec![]).await,
        0,
        "committed before the drain"
    );
    let slow = [json!({"exceptionId": "SLOW-1", "exceptionType": "TRADE_BREAK", "slow": true})];
    app.ingest(ACME, &slow).await;
    wait_until("the slow handler is running", async || {
        hook.entered.load(Ordering::SeqCst)
    })
    .await;

    // Act
    let draining = actix_rt::spawn(app.app.shutdown());
    let mut seen = (0, String::new());
    wait_until("/readyz reports draining", async || {
        seen = probe(&client, &address, "/readyz").await;
        seen.0 == 503
    })
    .await;
    let liveness = probe(&client, &address, "/healthz").await;
    let still_in_flight = !hook.finished.load(Ordering::SeqCst);
    hook.released.store(true, Ordering::SeqCst);
    let report = draining.await.expect("the shutdown task");

    // Assert
    assert!(seen.1.contains("draining"), "{}", seen.1);
    assert_eq!(liveness.0, 200, "liveness during the drain: {}", liveness.1);
    assert!(
        still_in_flight,
        "the slow handler finished before the probes"
    );
    assert_eq!(report.abandoned_in_flight, 0);
    let slow_done = "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id = 'SLOW-1'";
    assert_eq!(
        count(&db, slow_done, vec![]).await,
        1,
        "the drain dropped work"
    );
    assert_eq!(processed_by(&db, "intake").await, 4);
    assert!(
        count(&db, offsets, vec![]).await > 0,
        "the drain committed nothing"
    );
    assert_eq!(count(&db, UNCOVERED, vec![]).await, 0);
}
