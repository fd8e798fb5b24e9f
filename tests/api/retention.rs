//! Retention: after 10,000 exceptions (SQLite) through intake, triage and policy, a pass removes the
//! finished exceptions and the events nobody needs any more, keeps open exceptions with their
//! events and keeps every claim, so a redelivered event inside the claims' window is still
//! acknowledged as a duplicate without effect.

use chrono::Utc;
use exception_worker::bus::{write_and_emit, LogRow, OutgoingEvent};
use exception_worker::envelope::Envelope;
use exception_worker::model::topics;
use exception_worker::store::dead_letters::{self, DeadLetter};
use exception_worker::store::replay;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, TransactionTrait};
use serde_json::json;
use test_support::readers::{count, processed_by};
use test_support::{on_both_backends, wait_for, wait_until, Backend, Setup, TestDb, ACME};

on_both_backends!(retention_removes_finished_work_and_keeps_claims);

/// 10,000 on SQLite; fewer on Postgres, where the same queries run and the suite's time counts.
fn exceptions(backend: Backend) -> usize {
    if backend == Backend::Sqlite {
        10_000
    } else {
        2_000
    }
}
const PIPELINE_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

async fn rows(db: &DatabaseConnection, sql: &str) -> i64 {
    count(db, sql, vec![]).await
}

/// The stored ExceptionIngested envelope of `exception_id`.
async fn ingested_envelope(db: &DatabaseConnection, exception_id: &str) -> Envelope {
    let sql =
        "SELECT envelope FROM events WHERE event_type = 'ExceptionIngested' AND exception_id = $1";
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            vec![exception_id.into()],
        ))
        .await
        .expect("a query")
        .expect("the ingested event");
    let text: String = row.try_get("", "envelope").expect("an envelope");
    Envelope::decode(text.as_bytes(), true).expect("a valid envelope")
}

/// A dead letter, closed (discarded), for retention to remove.
async fn closed_dead_letter(db: &DatabaseConnection) {
    let letter = DeadLetter {
        role: "intake".to_owned(),
        topic: topics::INGESTED.to_owned(),
        partition: 0,
        offset: 1_000_000,
        event_id: None,
        tenant_id: Some(ACME.to_owned()),
        exception_id: None,
        event_type: None,
        envelope: "{".to_owned(),
        reason: "undecodable envelope".to_owned(),
        error_class: "permanent",
        attempts: 1,
        record_key: None,
    };
    let txn = db.begin().await.expect("a transaction");
    dead_letters::record(&txn, &letter, Utc::now())
        .await
        .expect("a letter");
    txn.commit().await.expect("a commit");
    let id = dead_letters::list(db, 10).await.expect("letters")[0].id;
    replay::discard(db, id, Utc::now())
        .await
        .expect("a discard");
}

async fn retention_removes_finished_work_and_keeps_claims(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: every other exception is unclassifiable and ends escalated after policy; the
    // rest wait for a playbook (not run here), so they stay open.
    let total = exceptions(backend);
    let app = Setup::new(&test_db).env("CONCURRENCY", "4").spawn().await;
    let payloads: Vec<_> = (0..total)
        .map(|index| {
            let id = format!("KEEP-{index}");
            if index % 2 == 0 {
                json!({"exceptionId": id, "error": "unrecognised feed error"})
            } else {
                json!({"exceptionId": id, "exceptionType": "SETTLEMENT_FAIL", "amount": 500_000, "currency": "USD"})
            }
        })
        .collect();
    for chunk in payloads.chunks(500) {
        app.ingest(ACME, chunk).await;
    }
    let started = std::time::Instant::now();
    wait_for(
        "policy processed every exception",
        PIPELINE_LIMIT,
        async || processed_by(&app.db, "policy").await == total as i64,
    )
    .await;
    eprintln!(
        "{total} exceptions through policy in {:?}",
        started.elapsed()
    );
    let finished = rows(
        &app.db,
        "SELECT COUNT(*) AS n FROM exceptions WHERE status IN ('resolved', 'escalated')",
    )
    .await;
    assert!(finished >= (total / 2) as i64, "{finished} finished");
    let open_events = "SELECT COUNT(*) AS n FROM events e WHERE EXISTS (SELECT 1 FROM exceptions x
                       WHERE x.tenant_id = e.tenant_id AND x.exception_id = e.exception_id
                         AND x.status NOT IN ('resolved', 'escalated'))";
    let open_events_before = rows(&app.db, open_events).await;
    let claims_before = rows(&app.db, "SELECT COUNT(*) AS n FROM processed_events").await;
    let redelivery = ingested_envelope(&app.db, "KEEP-0").await;
    closed_dead_letter(&app.db).await;
    app.app.shutdown().await;

    // Act: the same database with retention removing finished work at once.
    let app = Setup::new(&test_db)
        .env("RETENTION_INTERVAL_SECS", "1")
        .env("RETENTION_BATCH_SIZE", "700")
        .env("RETENTION_PUBLISHED_EVENTS_DAYS", "0")
        .env("RETENTION_FINISHED_EXCEPTIONS_DAYS", "0")
        .env("RETENTION_CLOSED_DEAD_LETTERS_DAYS", "0")
        .spawn()
        .await;
    wait_until("finished exceptions are removed", async || {
        rows(&app.db, "SELECT COUNT(*) AS n FROM exceptions").await == total as i64 - finished
    })
    .await;
    // Events no consumer group reads here (policy's decisions: no playbook role runs) are kept:
    // nobody has read them yet.
    wait_until(
        "read events of finished exceptions are removed",
        async || {
            let orphans =
                "SELECT COUNT(*) AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM exceptions x
                       WHERE x.tenant_id = e.tenant_id AND x.exception_id = e.exception_id)
                       AND e.topic IN (SELECT topic FROM consumer_offsets)";
            rows(&app.db, orphans).await == 0
        },
    )
    .await;
    let unread =
        "SELECT COUNT(*) AS n FROM events WHERE topic NOT IN (SELECT topic FROM consumer_offsets)";
    assert!(
        rows(&app.db, unread).await > 0,
        "unread events were removed"
    );

    // Assert: open work and every claim are kept; the closed dead letter is gone.
    assert_eq!(rows(&app.db, open_events).await, open_events_before);
    assert_eq!(
        rows(&app.db, "SELECT COUNT(*) AS n FROM processed_events").await,
        claims_before
    );
    assert_eq!(
        rows(&app.db, "SELECT COUNT(*) AS n FROM dead_letters").await,
        0
    );
    let removed = app.metric(
        "retention_removed_rows_total",
        &[("kind", "finished_exceptions")],
    );
    assert_eq!(removed, finished as f64);

    // Act: the ingestion of KEEP-0 (finished and removed) is delivered again.
    let duplicates_before = app.duplicates("intake");
    let row = LogRow::from(&OutgoingEvent {
        topic: topics::INGESTED,
        envelope: redelivery,
    });
    write_and_emit(&app.db, app.app.runtime.bus.as_ref(), async |_txn| {
        Ok::<_, DbErr>(((), vec![row]))
    })
    .await
    .expect("a redelivery")
    .1
    .wait()
    .await;

    // Assert: a duplicate, acknowledged without effect: KEEP-0 does not come back.
    wait_until("intake counts the redelivery as a duplicate", async || {
        app.duplicates("intake") >= duplicates_before + 1.0
    })
    .await;
    let revived = "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id = 'KEEP-0'";
    assert_eq!(rows(&app.db, revived).await, 0);
    assert_eq!(processed_by(&app.db, "intake").await, total as i64);
    app.app.shutdown().await;
}
