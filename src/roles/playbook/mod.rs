//! playbook: runs the matched playbook step by step. Safe actions run inline; `call_tool` asks
//! the tool role and waits for its completion; any other action waits for a person (and, when
//! policy required approval, so does `call_tool`). After the last step: PlaybookCompleted and
//! ExceptionResolved. A failed tool escalates. All run state is in `playbook_steps`.

mod advance;

use async_trait::async_trait;
use serde_json::Value;

use super::{Role, RoleContext, RoleError};
use crate::model::{event_types, topics, ExceptionStatus, RoleName};
use crate::store::exceptions;
use crate::store::steps::{self, NewStep};

pub struct Playbook;

#[async_trait(?Send)]
impl Role for Playbook {
    fn name(&self) -> RoleName {
        RoleName::Playbook
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::POLICY, topics::STEPS, topics::TOOLS_COMPLETED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        matches!(
            (topic, event_type),
            (topics::POLICY, event_types::POLICY_EVALUATION_COMPLETED)
                | (topics::POLICY, event_types::PLAYBOOK_MATCHED)
                | (
                    topics::STEPS,
                    event_types::PLAYBOOK_STEP_COMPLETION_REQUESTED
                )
                | (
                    topics::TOOLS_COMPLETED,
                    event_types::TOOL_EXECUTION_COMPLETED
                )
        )
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        match ctx.event.event_type.as_str() {
            event_types::PLAYBOOK_MATCHED => start(ctx).await,
            event_types::PLAYBOOK_STEP_COMPLETION_REQUESTED => advance::person_completed(ctx).await,
            event_types::TOOL_EXECUTION_COMPLETED => advance::tool_completed(ctx).await,
            // The evaluation itself needs nothing from the playbook role.
            _ => Ok(()),
        }
    }
}

async fn start(ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
    let exception_id = ctx.required_exception_id()?;
    let playbook_id = ctx
        .event
        .payload
        .get("playbook_id")
        .and_then(Value::as_str)
        .ok_or_else(|| RoleError::Invalid("PlaybookMatched has no playbook_id".to_owned()))?;
    let playbook = ctx
        .packs
        .find_playbook(ctx.tenant, playbook_id)
        .ok_or_else(|| RoleError::Invalid(format!("unknown playbook '{playbook_id}'")))?;
    let exception = advance::exception_of(ctx, exception_id).await?;
    let existing = steps::of_exception(ctx.txn, &ctx.event.tenant_id, exception_id).await?;
    if !existing.is_empty() {
        tracing::info!(exception_id, "Playbook run already started; nothing to do.");
        return Ok(());
    }
    let new_steps = playbook
        .steps
        .iter()
        .map(|step| NewStep {
            step_number: i32::try_from(step.number).unwrap_or(i32::MAX),
            action: step.action.clone(),
            params: step.params.to_string(),
        })
        .collect();
    let run = steps::create_run(
        ctx.txn,
        &ctx.event.tenant_id,
        exception_id,
        playbook_id,
        new_steps,
    )
    .await?;
    let terminal = exception
        .status
        .parse::<ExceptionStatus>()
        .is_ok_and(ExceptionStatus::is_terminal);
    let exception = if terminal {
        exception
    } else {
        exceptions::set_status(
            ctx.txn,
            exception,
            ExceptionStatus::InProgress,
            ctx.clock.now(),
        )
        .await?
    };
    advance::run_from_current(ctx, exception_id, run, Some(exception)).await
}
