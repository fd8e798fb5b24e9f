//! POST /v1/dead-letters/replay and /discard: a dry run counts exactly what the real run then
//! does; each replayed letter's event is processed once; the filter (and only the filter) picks
//! the letters; a bad body is a 400 naming the field.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exception_worker::envelope::Envelope;
use exception_worker::handler::{FaultHook, InjectedFault};
use exception_worker::model::RoleName;
use serde_json::{json, Value};
use test_support::readers::count;
use test_support::{on_both_backends, wait_until, Backend, Setup, TestApp, TestDb, ACME, GLOBEX};

on_both_backends!(
    a_bulk_replay_does_what_its_dry_run_counted_once_each,
    bad_bulk_bodies_get_400_naming_the_field
);

const OPERATOR_KEY: &str = "dead-letter-bulk-operator-key";

/// Fails intake for exceptions marked `"break": true` until mended.
struct BreakMarked {
    broken: AtomicBool,
}

impl FaultHook for BreakMarked {
    fn before_effect(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault> {
        let marked = envelope.payload.get("break") == Some(&Value::Bool(true));
        if role == RoleName::Intake && marked && self.broken.load(Ordering::SeqCst) {
            return Err("intake is broken for marked exceptions".into());
        }
        Ok(())
    }

    fn after_commit(&self, _role: RoleName, _envelope: &Envelope) -> Result<(), InjectedFault> {
        Ok(())
    }
}

async fn spawn(test_db: &TestDb, faults: Arc<BreakMarked>) -> TestApp {
    Setup::new(test_db)
        .operator_key(OPERATOR_KEY)
        .env("MAX_ATTEMPTS", "2")
        .faults(faults)
        .spawn()
        .await
}

async fn bulk(app: &TestApp, action: &str, body: Value) -> (u16, Value) {
    let path = format!("/v1/dead-letters/{action}");
    app.post_json(Some(OPERATOR_KEY), &path, &body).await
}

async fn letters_with_status(app: &TestApp, status: &str) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM dead_letters WHERE status = $1";
    count(&app.db, sql, vec![status.into()]).await
}

async fn a_bulk_replay_does_what_its_dry_run_counted_once_each(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: three marked acme exceptions and one marked globex exception are dead letters
    // of intake; two unmarked acme exceptions went through. Then intake is mended.
    let faults = Arc::new(BreakMarked {
        broken: AtomicBool::new(true),
    });
    let app = spawn(&test_db, faults.clone()).await;
    let marked =
        |id: &str| json!({"exceptionId": id, "exceptionType": "TRADE_BREAK", "break": true});
    let plain = |id: &str| json!({"exceptionId": id, "exceptionType": "TRADE_BREAK"});
    app.ingest(
        ACME,
        &[marked("BULK-1"), marked("BULK-2"), marked("BULK-3")],
    )
    .await;
    app.ingest(GLOBEX, &[marked("BULK-G")]).await;
    app.ingest(ACME, &[plain("PLAIN-1"), plain("PLAIN-2")])
        .await;
    app.wait_for_processed("policy", 2).await;
    wait_until("the four marked exceptions are dead letters", async || {
        letters_with_status(&app, "pending").await == 4
    })
    .await;
    faults.broken.store(false, Ordering::SeqCst);
    let acme_intake = json!({"tenant": ACME, "role": "intake", "error_class": "transient"});

    // Act: a dry run, then the real run, of the same filter.
    let mut dry = acme_intake.clone();
    dry["dry_run"] = json!(true);
    let (dry_status, dry_answer) = bulk(&app, "replay", dry).await;
    let pending_after_dry_run = letters_with_status(&app, "pending").await;
    let mut real = acme_intake.clone();
    real["dry_run"] = json!(false);
    let (status, answer) = bulk(&app, "replay", real.clone()).await;

    // Assert: the count of the dry run is what was replayed, and the dry run changed nothing.
    assert_eq!(dry_status, 200, "{dry_answer}");
    assert_eq!(
        dry_answer,
        json!({"action": "replay", "dry_run": true, "count": 3})
    );
    assert_eq!(pending_after_dry_run, 4, "the dry run changed a letter");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"action": "replay", "dry_run": false, "count": 3})
    );
    // Each replayed exception goes through once: intake, triage and policy each process its
    // event once, and nothing fails again.
    app.wait_for_processed("policy", 5).await;
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    for id in ["BULK-1", "BULK-2", "BULK-3"] {
        let sql = "SELECT COUNT(*) AS n FROM events WHERE tenant_id = $1 AND exception_id = $2
                   AND event_type = 'ExceptionNormalized'";
        let normalized = count(&app.db, sql, vec![ACME.into(), id.into()]).await;
        assert_eq!(normalized, 1, "{id} was normalized {normalized} times");
    }
    let processed = count(
        &app.db,
        "SELECT COUNT(*) AS n FROM processed_events WHERE role = 'policy'",
        vec![],
    )
    .await;
    assert_eq!(processed, 5);
    assert_eq!(letters_with_status(&app, "replayed").await, 3);
    assert_eq!(
        letters_with_status(&app, "pending").await,
        1,
        "globex's letter"
    );
    // Nothing pending matches any more.
    let (_, again) = bulk(&app, "replay", real).await;
    assert_eq!(again["count"], 0, "{again}");

    // Act + Assert: discard what is left, counted first.
    let (_, dry) = bulk(&app, "discard", json!({"dry_run": true})).await;
    assert_eq!(dry["count"], 1, "{dry}");
    let (_, done) = bulk(&app, "discard", json!({"dry_run": false})).await;
    assert_eq!(
        done,
        json!({"action": "discard", "dry_run": false, "count": 1})
    );
    assert_eq!(letters_with_status(&app, "discarded").await, 1);
    assert_eq!(letters_with_status(&app, "pending").await, 0);

    app.app.shutdown().await;
}

async fn bad_bulk_bodies_get_400_naming_the_field(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let faults = Arc::new(BreakMarked {
        broken: AtomicBool::new(false),
    });
    let app = spawn(&test_db, faults).await;
    let cases = [
        (json!({}), "dry_run", "true, false"),
        (json!({"dry_run": "maybe"}), "dry_run", "true, false"),
        // A misspelt filter must not widen the action to every letter.
        (
            json!({"dry_run": false, "tennant": ACME}),
            "tennant",
            "tenant",
        ),
        (
            json!({"dry_run": true, "status": "replayed"}),
            "status",
            "pending",
        ),
        (json!({"dry_run": true, "role": "boss"}), "role", "intake"),
        (
            json!({"dry_run": true, "tenant": [ACME]}),
            "tenant",
            "a string",
        ),
        // Each field has its JSON type: a filter is never a boolean read as its text.
        (
            json!({"dry_run": false, "reason": false}),
            "reason",
            "a string",
        ),
        (json!({"dry_run": "true"}), "dry_run", "true, false"),
    ];

    for action in ["replay", "discard"] {
        for (body, parameter, allowed) in &cases {
            // Act
            let (status, answer) = bulk(&app, action, body.clone()).await;

            // Assert
            assert_eq!(status, 400, "{action} {body}: {answer}");
            assert_eq!(answer["parameter"], *parameter, "{action} {body}");
            let error = answer["error"].as_str().expect("an error message");
            assert!(
                error.contains(allowed),
                "{body}: '{error}' should say '{allowed}'"
            );
        }
        let response = app
            .client
            .post(format!("{}/v1/dead-letters/{action}", app.address))
            .bearer_auth(OPERATOR_KEY)
            .body("{not json")
            .send()
            .await
            .expect("Failed to POST");
        assert_eq!(response.status().as_u16(), 400, "{action}: not JSON");
    }

    app.app.shutdown().await;
}
