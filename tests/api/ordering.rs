//! Per-exception order under CONCURRENCY=4: one exception's events meet their handler in offset
//! order while different exceptions are handled at the same time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use serde_json::json;
use test_support::{ids_on_partition, on_both_backends, Backend, Setup, TestDb, ACME, PARTITIONS};

on_both_backends!(one_exceptions_events_stay_in_order_while_exceptions_run_in_parallel);

const EVENTS_PER_EXCEPTION: i64 = 5;

/// Records what intake sees: per exception the `seq` values in arrival order, and how many
/// intake calls overlapped at most.
#[derive(Default)]
struct OrderProbe {
    seen: Mutex<BTreeMap<String, Vec<i64>>>,
    inside: AtomicUsize,
    max_inside: AtomicUsize,
}

impl FaultHook for OrderProbe {
    fn before_effect(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault> {
        if role != RoleName::Intake {
            return Ok(());
        }
        let now_inside = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_inside.fetch_max(now_inside, Ordering::SeqCst);
        let seq = envelope.payload.get("seq").and_then(|seq| seq.as_i64());
        let exception = envelope.exception_id.clone().unwrap_or_default();
        self.seen
            .lock()
            .expect("the probe lock")
            .entry(exception)
            .or_default()
            .push(seq.unwrap_or(-1));
        // Handlers run on their own threads: a blocking sleep makes any overlap observable.
        std::thread::sleep(Duration::from_millis(30));
        self.inside.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }

    fn after_commit(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }
}

async fn one_exceptions_events_stay_in_order_while_exceptions_run_in_parallel(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: 8 exceptions, two on each partition (and so on each of the 4 handlers).
    let probe = Arc::new(OrderProbe::default());
    let app = Setup::new(&test_db)
        .env("CONCURRENCY", "4")
        .faults(probe.clone())
        .spawn()
        .await;
    let exception_ids: Vec<String> = (0..PARTITIONS)
        .flat_map(|partition| ids_on_partition(ACME, "ORD", partition, 2))
        .collect();

    // Act: interleave the exceptions, one round of `seq` at a time.
    for seq in 0..EVENTS_PER_EXCEPTION {
        let round: Vec<_> = exception_ids
            .iter()
            .map(|id| json!({"exceptionId": id, "exceptionType": "TRADE_BREAK", "seq": seq}))
            .collect();
        app.ingest(ACME, &round).await;
    }
    let total = EVENTS_PER_EXCEPTION * exception_ids.len() as i64;
    app.wait_for_processed("intake", total).await;

    // Assert
    let seen = probe.seen.lock().expect("the probe lock").clone();
    assert_eq!(seen.len(), exception_ids.len(), "{seen:?}");
    for (exception, seqs) in &seen {
        let expected: Vec<i64> = (0..EVENTS_PER_EXCEPTION).collect();
        assert_eq!(seqs, &expected, "intake saw {exception} out of order");
    }
    let max_inside = probe.max_inside.load(Ordering::SeqCst);
    assert!(
        max_inside > 1,
        "different exceptions never ran in parallel (max {max_inside})"
    );
    assert!(max_inside <= 4, "more than CONCURRENCY calls at once");
    app.wait_for_processed("policy", exception_ids.len() as i64)
        .await;

    app.app.shutdown().await;
}
