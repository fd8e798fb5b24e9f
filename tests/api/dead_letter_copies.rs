//! A second copy of a poison event (the same event id at another offset, as a publish repeated
//! after a crash leaves) is not dead-lettered twice while its first letter is pending; once
//! that letter is replayed, the event can fail again and get a letter of its own. Another
//! message that merely reuses the event id is no copy and keeps its own letter.

use chrono::Utc;
use exception_worker::store::dead_letters::{self, DeadLetter};
use exception_worker::store::{database, replay};
use sea_orm::{DatabaseConnection, TransactionTrait};
use test_support::{on_both_backends, Backend, TestDb, ACME};

on_both_backends!(a_second_copy_of_a_pending_poison_event_adds_no_letter);

fn letter_at(offset: i64) -> DeadLetter {
    DeadLetter {
        role: "intake".to_owned(),
        topic: "exceptions.ingested".to_owned(),
        partition: 0,
        offset,
        event_id: Some("8a6f4a1e-8d52-4a53-9f0e-8f0b9a2a6c11".to_owned()),
        tenant_id: Some(ACME.to_owned()),
        exception_id: Some("COPIED-1".to_owned()),
        event_type: Some("ExceptionIngested".to_owned()),
        envelope: "{}".to_owned(),
        reason: "validation failed".to_owned(),
        error_class: "permanent",
        attempts: 1,
        record_key: Some(format!("{ACME}:COPIED-1")),
    }
}

/// Records the letter in its own transaction; returns how many DeadLettered events it emitted.
async fn record(db: &DatabaseConnection, letter: &DeadLetter) -> usize {
    let txn = db.begin().await.expect("a transaction");
    let emitted = dead_letters::record(&txn, letter, Utc::now())
        .await
        .expect("a recorded letter");
    txn.commit().await.expect("a commit");
    emitted.len()
}

async fn a_second_copy_of_a_pending_poison_event_adds_no_letter(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let db = database::connect(&test_db.url, 2)
        .await
        .expect("a database");
    database::prepare_schema(&db, true)
        .await
        .expect("migrations");

    // Act: the event at offset 3, its copy at offset 8, the same offset redelivered.
    let first = record(&db, &letter_at(3)).await;
    let copy = record(&db, &letter_at(8)).await;
    let redelivered = record(&db, &letter_at(3)).await;
    let mut different = letter_at(9);
    different.envelope = r#"{"other":true}"#.to_owned();
    let different_message = record(&db, &different).await;

    // Assert: another message that reuses the event id is no copy: it keeps its own letter.
    assert_eq!((first, copy, redelivered, different_message), (1, 0, 0, 1));
    let letters = dead_letters::list(&db, 10).await.expect("letters");
    assert_eq!(letters.len(), 2, "{letters:?}");

    // Act: replayed, the event fails again at a new offset.
    let txn = db.begin().await.expect("a transaction");
    let first_letter = letters.iter().find(|letter| letter.offset == 3);
    let first_letter = first_letter.expect("the first letter");
    replay::replay(&txn, first_letter.id, Utc::now())
        .await
        .expect("a replay");
    txn.commit().await.expect("a commit");
    let after_replay = record(&db, &letter_at(12)).await;

    // Assert
    assert_eq!(after_replay, 1);
    assert_eq!(dead_letters::list(&db, 10).await.expect("letters").len(), 3);
}
