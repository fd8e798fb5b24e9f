//! Round trips through `events` (exact envelope bytes, positions, autoincrement, unique keys,
//! replays) and the offset allocation of `bus_partitions`.

use entity::prelude::Events;
use entity::{bus_partitions, events};
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, DatabaseConnection,
    EntityTrait, ModelTrait, Statement,
};

use crate::{at, ensure, ensure_eq, TestResult};

pub(crate) fn new_event(
    event_id: &str,
    partition: Option<i32>,
    log_offset: Option<i64>,
) -> TestResult<events::ActiveModel> {
    Ok(events::ActiveModel {
        seq: NotSet,
        event_id: Set(event_id.to_owned()),
        topic: Set("exceptions.lifecycle".to_owned()),
        partition: Set(partition),
        log_offset: Set(log_offset),
        key: Set("tenant-a/EX-1".to_owned()),
        event_type: Set("ExceptionIngested".to_owned()),
        tenant_id: Set("tenant-a".to_owned()),
        exception_id: Set(Some("EX-1".to_owned())),
        correlation_id: Set("corr-1".to_owned()),
        // Odd spacing, key order and non-ASCII: the exact bytes must come back.
        envelope: Set("{\"b\":1,  \"a\" : \"caf\u{e9} \\u00e9\"}\n".to_owned()),
        headers: Set(Some("{\"traceparent\":\"00-abc-def-01\"}".to_owned())),
        created_at: Set(at(1)?),
        published_at: Set(None),
        replay_count: Set(0),
    })
}

pub(crate) async fn events_round_trip(db: &DatabaseConnection) -> TestResult {
    let first = new_event("evt-1", Some(3), Some(41))?.insert(db).await?;
    ensure_eq(first.partition, Some(3), "events.partition")?;
    ensure_eq(first.log_offset, Some(41), "events.log_offset")?;

    let read = Events::find_by_id(first.seq)
        .one(db)
        .await?
        .ok_or("inserted event not found by seq")?;
    ensure_eq(&read, &first, "event read back by seq")?;
    ensure_eq(
        read.envelope.as_str(),
        "{\"b\":1,  \"a\" : \"caf\u{e9} \\u00e9\"}\n",
        "events.envelope bytes",
    )?;
    ensure_eq(read.created_at, at(1)?, "events.created_at")?;

    let by_event_id = Events::find_by_event_replay(("evt-1".to_owned(), 0))
        .one(db)
        .await?
        .ok_or("inserted event not found by event_id")?;
    ensure_eq(by_event_id.seq, first.seq, "event found by event_id")?;

    // seq autoincrements; outbox rows without a position do not collide with each other.
    let second = new_event("evt-2", None, None)?.insert(db).await?;
    ensure(
        second.seq > first.seq,
        format!("seq must increase: {} then {}", first.seq, second.seq),
    )?;
    let third = new_event("evt-3", None, None)?.insert(db).await?;
    ensure(third.seq > second.seq, "seq must increase (third)")?;

    // AUTOINCREMENT semantics: deleting the highest row must not make its seq reusable.
    let deleted_seq = third.seq;
    third.delete(db).await?;
    let fourth = new_event("evt-4", None, None)?.insert(db).await?;
    ensure(
        fourth.seq > deleted_seq,
        format!(
            "seq {deleted_seq} was reused after delete (got {})",
            fourth.seq
        ),
    )?;

    // Publishing: set published_at and a position, read back.
    let mut publish: events::ActiveModel = second.into();
    publish.partition = Set(Some(3));
    publish.log_offset = Set(Some(42));
    publish.published_at = Set(Some(at(2)?));
    let published = publish.update(db).await?;
    ensure_eq(published.published_at, Some(at(2)?), "events.published_at")?;

    // Unique constraints.
    ensure(
        new_event("evt-1", None, None)?.insert(db).await.is_err(),
        "duplicate event_id must be rejected",
    )?;
    let mut replay = new_event("evt-1", None, None)?;
    replay.replay_count = Set(1);
    ensure(
        replay.insert(db).await.is_ok(),
        "a replay of an event (replay_count 1) must be accepted",
    )?;
    ensure(
        new_event("evt-5", Some(3), Some(41))?
            .insert(db)
            .await
            .is_err(),
        "duplicate (topic, partition, log_offset) must be rejected",
    )?;
    Ok(())
}

/// The embedded bus allocates offsets with raw SQL naming `partition` unquoted.
pub(crate) async fn bus_partition_allocation(db: &DatabaseConnection) -> TestResult {
    let row = bus_partitions::ActiveModel {
        topic: Set("exceptions.lifecycle".to_owned()),
        partition: Set(0),
        next_offset: NotSet,
    }
    .insert(db)
    .await?;
    ensure_eq(row.next_offset, 0, "bus_partitions.next_offset default")?;

    let backend = db.get_database_backend();
    for expected in 1..=2_i64 {
        let allocated = db
            .query_one_raw(Statement::from_string(
                backend,
                "UPDATE bus_partitions SET next_offset = next_offset + 1 \
                 WHERE topic = 'exceptions.lifecycle' AND partition = 0 \
                 RETURNING next_offset, partition",
            ))
            .await?
            .ok_or("UPDATE ... RETURNING returned no row")?;
        ensure_eq(
            allocated.try_get::<i64>("", "next_offset")?,
            expected,
            "allocated next_offset",
        )?;
        ensure_eq(
            allocated.try_get::<i32>("", "partition")?,
            0,
            "returned partition",
        )?;
    }

    let timeline = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT seq, partition, log_offset FROM events \
             WHERE tenant_id = 'tenant-a' AND partition = 3 ORDER BY partition, log_offset",
        ))
        .await?;
    ensure_eq(timeline.len(), 2, "events selected by unquoted partition")?;
    Ok(())
}
