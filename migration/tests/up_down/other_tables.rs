//! Round trips through the entities of the tables beyond `events` and `exceptions`, proving
//! each entity matches its migrated table on both backends.

use entity::prelude::{
    ConsumerOffsets, DeadLetters, Feedback, Leases, PlaybookSteps, ProcessedEvents, ToolExecutions,
    Workers,
};
use entity::{
    consumer_offsets, dead_letters, feedback, leases, playbook_steps, processed_events,
    tool_executions, workers,
};
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, DatabaseConnection, EntityTrait,
};

use crate::{at, ensure, ensure_eq, TestResult};

pub(crate) async fn other_tables_round_trip(db: &DatabaseConnection) -> TestResult {
    let processed = processed_events::ActiveModel {
        event_id: Set("evt-1".to_owned()),
        role: Set("triage".to_owned()),
        processed_at: Set(at(5)?),
    }
    .insert(db)
    .await?;
    ensure_eq(
        ProcessedEvents::find_by_id(("evt-1".to_owned(), "triage".to_owned()))
            .one(db)
            .await?,
        Some(processed),
        "processed_events",
    )?;

    let offsets = consumer_offsets::ActiveModel {
        group_id: Set("triage".to_owned()),
        topic: Set("exceptions.lifecycle".to_owned()),
        partition: Set(3),
        next_offset: Set(42),
        updated_at: Set(at(6)?),
    }
    .insert(db)
    .await?;
    ensure_eq(
        ConsumerOffsets::find().all(db).await?,
        vec![offsets],
        "consumer_offsets",
    )?;

    let dead_letter = |log_offset: i64| -> TestResult<dead_letters::ActiveModel> {
        Ok(dead_letters::ActiveModel {
            id: NotSet,
            role: Set("triage".to_owned()),
            topic: Set("exceptions.lifecycle".to_owned()),
            partition: Set(3),
            log_offset: Set(log_offset),
            event_id: Set(None),
            tenant_id: Set(Some("tenant-a".to_owned())),
            exception_id: Set(None),
            event_type: Set(None),
            envelope: Set("not json".to_owned()),
            reason: Set("undecodable".to_owned()),
            error_class: Set("permanent".to_owned()),
            attempts: Set(1),
            status: Set("pending".to_owned()),
            created_at: Set(at(7)?),
            resolved_at: Set(None),
            record_key: Set(None),
        })
    };
    let first_dl = dead_letter(40)?.insert(db).await?;
    let second_dl = dead_letter(41)?.insert(db).await?;
    ensure(second_dl.id > first_dl.id, "dead_letters.id must increase")?;
    ensure(
        dead_letter(40)?.insert(db).await.is_err(),
        "duplicate (role, topic, partition, log_offset) must be rejected",
    )?;
    let by_position = DeadLetters::find_by_position((
        "triage".to_owned(),
        "exceptions.lifecycle".to_owned(),
        3,
        41,
    ))
    .one(db)
    .await?;
    ensure_eq(
        by_position,
        Some(second_dl),
        "dead letter found by position",
    )?;

    let step = new_step("tenant-a", "EX-1", 1).insert(db).await?;
    ensure_eq(
        PlaybookSteps::find_by_id(("tenant-a".to_owned(), "EX-1".to_owned(), 1))
            .one(db)
            .await?,
        Some(step),
        "playbook_steps",
    )?;
    // Another tenant's EX-1 has steps of its own.
    new_step("tenant-b", "EX-1", 1).insert(db).await?;

    let execution = tool_executions::ActiveModel {
        execution_id: Set("exec-1".to_owned()),
        tenant_id: Set("tenant-a".to_owned()),
        exception_id: Set("EX-1".to_owned()),
        step_number: Set(1),
        tool_name: Set("notify".to_owned()),
        status: Set("succeeded".to_owned()),
        attempts: Set(2),
        input: Set("{\"to\":\"ops\"}".to_owned()),
        output: Set(Some("{\"ok\":true}".to_owned())),
        error: Set(None),
        requested_at: Set(at(8)?),
        started_at: Set(Some(at(9)?)),
        completed_at: Set(Some(at(10)?)),
    }
    .insert(db)
    .await?;
    ensure_eq(
        ToolExecutions::find_by_id("exec-1").one(db).await?,
        Some(execution),
        "tool_executions",
    )?;

    let summary = feedback::ActiveModel {
        tenant_id: Set("tenant-a".to_owned()),
        exception_id: Set("EX-1".to_owned()),
        outcome: Set("resolved".to_owned()),
        classification: Set("auto".to_owned()),
        total_seconds: Set(12.5),
        steps_completed: Set(1),
        tool_seconds: Set(0.25),
        details: Set("{}".to_owned()),
        created_at: Set(at(11)?),
    }
    .insert(db)
    .await?;
    ensure_eq(
        Feedback::find_by_id(("tenant-a".to_owned(), "EX-1".to_owned()))
            .one(db)
            .await?,
        Some(summary),
        "feedback",
    )?;

    let lease = leases::ActiveModel {
        name: Set("relay".to_owned()),
        holder: Set("worker-1".to_owned()),
        expires_at: Set(at(12)?),
        updated_at: Set(at(11)?),
    }
    .insert(db)
    .await?;
    ensure_eq(
        Leases::find_by_id("relay").one(db).await?,
        Some(lease),
        "leases",
    )?;

    let worker = workers::ActiveModel {
        instance_id: Set("host-1-42-abcdef01".to_owned()),
        host: Set("host-1".to_owned()),
        version: Set("0.1.0".to_owned()),
        git_commit: Set("unknown".to_owned()),
        roles: Set("[\"intake\",\"triage\"]".to_owned()),
        concurrency: Set(4),
        backend: Set("embedded".to_owned()),
        heartbeat_secs: Set(10),
        started_at: Set(at(13)?),
        heartbeat_at: Set(at(14)?),
        state: Set("{\"partitions\":[]}".to_owned()),
    }
    .insert(db)
    .await?;
    ensure_eq(
        Workers::find_by_id("host-1-42-abcdef01").one(db).await?,
        Some(worker),
        "workers",
    )?;
    Ok(())
}

/// A pending step `step_number` of `exception_id`.
pub(crate) fn new_step(
    tenant_id: &str,
    exception_id: &str,
    step_number: i32,
) -> playbook_steps::ActiveModel {
    playbook_steps::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        exception_id: Set(exception_id.to_owned()),
        step_number: Set(step_number),
        playbook_id: Set("pb-1".to_owned()),
        action: Set("notify".to_owned()),
        params: Set("{}".to_owned()),
        status: Set("pending".to_owned()),
        execution_id: Set(None),
        actor: Set(None),
        started_at: Set(None),
        completed_at: Set(None),
    }
}
