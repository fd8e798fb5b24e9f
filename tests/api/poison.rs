//! Poison messages do not block their partition: each is dead-lettered at once with the reason
//! it was refused, and the valid events behind it are processed.

use std::collections::BTreeMap;

use chrono::Utc;
use exception_worker::envelope::Envelope;
use exception_worker::store::dead_letters;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::{json, Value};
use test_support::readers::{processed_by, statement};
use test_support::{
    ids_on_partition, on_both_backends, wait_until, Backend, Setup, TestDb, ACME, PIPELINE_ROLES,
};

on_both_backends!(poison_messages_are_dead_lettered_and_the_partition_moves_on);

const TOPIC: &str = "exceptions.ingested";
const PARTITION: i32 = 2;

/// Each poison message with the words its dead letter's reason must contain.
fn poisons() -> Vec<(String, &'static str)> {
    let valid = Envelope::new(
        "ExceptionIngested",
        ACME,
        Some("POISONED-1".to_owned()),
        json!({"exceptionType": "TRADE_BREAK"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        Utc::now(),
    );
    let valid: Value = serde_json::to_value(&valid).expect("an envelope value");
    let with = |key: &str, value: Value| {
        let mut changed = valid.clone();
        changed[key] = value;
        changed.to_string()
    };
    vec![
        ("{this is not json".to_owned(), "undecodable envelope"),
        (with("surprise", json!(1)), "unknown field `surprise`"),
        (
            with("version", json!(2)),
            "version 2 is newer than supported",
        ),
        (with("tenant_id", json!("")), "tenant_id is invalid"),
        (
            with("tenant_id", json!("initech")),
            "unknown tenant 'initech'",
        ),
        (
            with("event_type", json!("TriageCompleted")),
            "unknown event type 'TriageCompleted' for topic exceptions.ingested",
        ),
    ]
}

/// Appends raw bytes to the embedded log, allocating the offset as the outbox does.
async fn append_raw(db: &DatabaseConnection, envelope: &str) -> i64 {
    let txn = db.begin().await.expect("a transaction");
    let allocate = r#"UPDATE bus_partitions SET next_offset = next_offset + 1
                      WHERE topic = $1 AND "partition" = $2 RETURNING next_offset"#;
    let row = txn
        .query_one_raw(statement(
            db,
            allocate,
            vec![TOPIC.into(), PARTITION.into()],
        ))
        .await
        .expect("an offset")
        .expect("the partition exists");
    let offset = row.try_get::<i64>("", "next_offset").expect("next_offset") - 1;
    let insert = r#"INSERT INTO events (event_id, topic, "partition", log_offset, key, event_type,
                                        tenant_id, correlation_id, envelope, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#;
    let values = vec![
        uuid::Uuid::new_v4().to_string().into(),
        TOPIC.into(),
        PARTITION.into(),
        offset.into(),
        format!("{ACME}:POISONED-1").into(),
        "Poison".into(),
        ACME.into(),
        "poison".into(),
        envelope.into(),
        Utc::now().into(),
    ];
    txn.execute_raw(statement(db, insert, values))
        .await
        .expect("a raw event");
    txn.commit().await.expect("a commit");
    offset
}

async fn poison_messages_are_dead_lettered_and_the_partition_moves_on(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = Setup::new(&test_db).env("CONCURRENCY", "1").spawn().await;
    let mut expected_reasons = BTreeMap::new();
    for (envelope, reason) in poisons() {
        expected_reasons.insert(append_raw(&app.db, &envelope).await, reason);
    }
    let valid_ids = ids_on_partition(ACME, "AFTER-POISON", PARTITION as usize, 3);
    let payloads: Vec<_> = valid_ids
        .iter()
        .map(|id| json!({"exceptionId": id, "exceptionType": "TRADE_BREAK"}))
        .collect();

    // Act
    app.ingest(ACME, &payloads).await;
    app.wait_for_processed("policy", valid_ids.len() as i64)
        .await;
    wait_until("every poison is dead-lettered", async || {
        let letters = dead_letters::list(&app.db, 100)
            .await
            .expect("dead letters");
        letters.len() == expected_reasons.len()
    })
    .await;

    // Assert
    let letters = dead_letters::list(&app.db, 100)
        .await
        .expect("dead letters");
    let reasons: BTreeMap<i64, String> = letters
        .iter()
        .map(|letter| {
            assert_eq!(
                (letter.role.as_str(), letter.topic.as_str()),
                ("intake", TOPIC)
            );
            assert_eq!(letter.partition, PARTITION);
            assert_eq!(letter.error_class, "permanent", "{letter:?}");
            assert_eq!(letter.attempts, 1, "{letter:?}");
            (letter.offset, letter.reason.clone())
        })
        .collect();
    assert_eq!(
        reasons.keys().collect::<Vec<_>>(),
        expected_reasons.keys().collect::<Vec<_>>()
    );
    for (offset, wanted) in &expected_reasons {
        let reason = &reasons[offset];
        assert!(
            reason.contains(wanted),
            "offset {offset}: '{reason}' should say '{wanted}'"
        );
    }
    for role in PIPELINE_ROLES {
        let processed = processed_by(&app.db, role).await;
        assert_eq!(processed, valid_ids.len() as i64, "{role}");
    }
    let dead_lettered = [("role", "intake"), ("outcome", "dead_lettered")];
    let counted = app.metric("events_processed_total", &dead_lettered);
    assert_eq!(counted, expected_reasons.len() as f64);

    app.app.shutdown().await;
}
