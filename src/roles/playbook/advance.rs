//! Moving a playbook run forward: from the current step, run safe steps inline until a step
//! must wait for a tool or a person, or the run is complete. The run and the exception are read
//! once per event and kept up to date in memory as steps change, not read again after each.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::model::{event_types, topics, ExceptionStatus};
use crate::packs::{PlaybookStep, StepKind};
use crate::roles::{RoleContext, RoleError, DERIVED_ID_NAMESPACE};
use crate::store::{exceptions, steps};

/// The actor recorded for steps the worker runs itself.
const SYSTEM_ACTOR: &str = "system";

/// The tool execution id of a step: derived, so a retried request is the same execution.
pub fn execution_id(tenant_id: &str, exception_id: &str, step_number: i32) -> String {
    let seed = format!("{tenant_id}:{exception_id}:{step_number}");
    format!(
        "exec-{}",
        Uuid::new_v5(&DERIVED_ID_NAMESPACE, seed.as_bytes())
    )
}

fn definition<'p>(
    ctx: &RoleContext<'p>,
    step: &entity::playbook_steps::Model,
) -> Result<&'p PlaybookStep, RoleError> {
    let playbook = ctx
        .packs
        .find_playbook(ctx.tenant, &step.playbook_id)
        .ok_or_else(|| {
            RoleError::Invalid(format!(
                "playbook '{}' is no longer in the packs",
                step.playbook_id
            ))
        })?;
    usize::try_from(step.step_number)
        .ok()
        .and_then(|number| playbook.step(number))
        .ok_or_else(|| {
            RoleError::Invalid(format!(
                "playbook '{}' has no step {}",
                step.playbook_id, step.step_number
            ))
        })
}

/// The exception the event is about, as stored.
pub async fn exception_of(
    ctx: &RoleContext<'_>,
    exception_id: &str,
) -> Result<entity::exceptions::Model, RoleError> {
    exceptions::find(ctx.txn, &ctx.event.tenant_id, exception_id)
        .await?
        .ok_or_else(|| RoleError::Failed(format!("exception {exception_id} not found")))
}

/// Runs steps from the current one until something must wait or the run is complete. `run` is
/// the run as stored; `exception` the exception when the caller read it already.
pub async fn run_from_current(
    ctx: &mut RoleContext<'_>,
    exception_id: &str,
    mut run: Vec<entity::playbook_steps::Model>,
    exception: Option<entity::exceptions::Model>,
) -> Result<(), RoleError> {
    let exception = match exception {
        Some(exception) => exception,
        None => exception_of(ctx, exception_id).await?,
    };
    let needs_approval = exception.approval_required.unwrap_or(false);
    loop {
        let Some(step) = steps::current(&run).cloned() else {
            return complete_run(ctx, exception_id, &run, exception).await;
        };
        if step.status != steps::PENDING {
            return Ok(()); // waiting for a tool or a person, or failed
        }
        let now = ctx.clock.now();
        match &definition(ctx, &step)?.kind {
            StepKind::Safe => {
                let done = steps::set_status(
                    ctx.txn,
                    &step,
                    steps::COMPLETED,
                    Some(SYSTEM_ACTOR),
                    None,
                    now,
                )
                .await?;
                steps::replace(&mut run, done);
            }
            StepKind::CallTool { .. } if needs_approval => {
                steps::set_status(ctx.txn, &step, steps::WAITING_PERSON, None, None, now).await?;
                return Ok(());
            }
            StepKind::CallTool { tool } => {
                let tool = tool.clone();
                return request_tool(ctx, exception_id, &step, &tool).await;
            }
            StepKind::Risky => {
                steps::set_status(ctx.txn, &step, steps::WAITING_PERSON, None, None, now).await?;
                return Ok(());
            }
        }
    }
}

async fn request_tool(
    ctx: &mut RoleContext<'_>,
    exception_id: &str,
    step: &entity::playbook_steps::Model,
    tool: &str,
) -> Result<(), RoleError> {
    let execution_id = execution_id(&ctx.event.tenant_id, exception_id, step.step_number);
    steps::set_status(
        ctx.txn,
        step,
        steps::WAITING_TOOL,
        None,
        Some(&execution_id),
        ctx.clock.now(),
    )
    .await?;
    let params: Value = serde_json::from_str(&step.params).unwrap_or_else(|_| json!({}));
    let mut input = json!({ "exception_id": exception_id });
    if let (Value::Object(input), Value::Object(params)) = (&mut input, params) {
        input.extend(params);
    }
    let payload = json!({
        "execution_id": execution_id,
        "tool_name": tool,
        "step_number": step.step_number,
        "playbook_id": step.playbook_id,
        "input": input,
    });
    ctx.emit(
        topics::TOOLS_REQUESTED,
        event_types::TOOL_EXECUTION_REQUESTED,
        exception_id,
        payload,
    );
    Ok(())
}

async fn complete_run(
    ctx: &mut RoleContext<'_>,
    exception_id: &str,
    run: &[entity::playbook_steps::Model],
    exception: entity::exceptions::Model,
) -> Result<(), RoleError> {
    if exception.status == ExceptionStatus::Resolved.as_str() {
        return Ok(());
    }
    let playbook_id = run
        .first()
        .map(|step| step.playbook_id.clone())
        .unwrap_or_default();
    exceptions::set_status(
        ctx.txn,
        exception,
        ExceptionStatus::Resolved,
        ctx.clock.now(),
    )
    .await?;
    let completed = json!({ "playbook_id": playbook_id, "steps_completed": run.len() });
    ctx.emit(
        topics::OUTCOMES,
        event_types::PLAYBOOK_COMPLETED,
        exception_id,
        completed,
    );
    let resolved = json!({ "playbook_id": playbook_id, "resolved_by": "playbook" });
    ctx.emit(
        topics::OUTCOMES,
        event_types::EXCEPTION_RESOLVED,
        exception_id,
        resolved,
    );
    Ok(())
}

/// A person asked to complete step n: only the current step, and only when it waits for a
/// person; anything else is recorded and changes nothing.
pub async fn person_completed(ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
    let exception_id = ctx.required_exception_id()?;
    let payload = &ctx.event.payload;
    let requested = payload.get("step_number").and_then(Value::as_i64);
    let actor = payload
        .get("actor")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let run = steps::of_exception(ctx.txn, &ctx.event.tenant_id, exception_id).await?;
    let current = steps::current(&run).cloned();
    let Some(step) = current.filter(|step| {
        Some(i64::from(step.step_number)) == requested && step.status == steps::WAITING_PERSON
    }) else {
        tracing::warn!(exception_id, ?requested, %actor, "Completion of a step that is not the current waiting one; ignored.");
        return Ok(());
    };
    match &definition(ctx, &step)?.kind {
        StepKind::CallTool { tool } => {
            // The person approved the tool call: run it now.
            let tool = tool.clone();
            let approved = steps::set_status(
                ctx.txn,
                &step,
                steps::PENDING,
                Some(&actor),
                None,
                ctx.clock.now(),
            )
            .await?;
            request_tool(ctx, exception_id, &approved, &tool).await
        }
        _ => {
            let done = steps::set_status(
                ctx.txn,
                &step,
                steps::COMPLETED,
                Some(&actor),
                None,
                ctx.clock.now(),
            )
            .await?;
            let mut run = run;
            steps::replace(&mut run, done);
            run_from_current(ctx, exception_id, run, None).await
        }
    }
}

/// A tool finished: its step completes (and the run goes on) or fails (and escalates).
pub async fn tool_completed(ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
    let exception_id = ctx.required_exception_id()?;
    let payload = &ctx.event.payload;
    let execution = payload
        .get("execution_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let succeeded = payload.get("status").and_then(Value::as_str) == Some("succeeded");
    let error = payload
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("tool failed")
        .to_owned();
    let run = steps::of_exception(ctx.txn, &ctx.event.tenant_id, exception_id).await?;
    let Some(step) = run
        .iter()
        .find(|step| step.status == steps::WAITING_TOOL && step.execution_id == execution)
        .cloned()
    else {
        tracing::info!(
            exception_id,
            ?execution,
            "Tool completion for no waiting step; ignored."
        );
        return Ok(());
    };
    let now = ctx.clock.now();
    if succeeded {
        let done = steps::set_status(
            ctx.txn,
            &step,
            steps::COMPLETED,
            Some(SYSTEM_ACTOR),
            None,
            now,
        )
        .await?;
        let mut run = run;
        steps::replace(&mut run, done);
        return run_from_current(ctx, exception_id, run, None).await;
    }
    steps::set_status(ctx.txn, &step, steps::FAILED, Some(SYSTEM_ACTOR), None, now).await?;
    let exception = exception_of(ctx, exception_id).await?;
    exceptions::set_status(ctx.txn, exception, ExceptionStatus::Escalated, now).await?;
    let escalated = json!({
        "reason": format!("tool step {} failed: {error}", step.step_number),
        "escalated_by": "playbook",
        "step_number": step.step_number,
    });
    ctx.emit(
        topics::OUTCOMES,
        event_types::EXCEPTION_ESCALATED,
        exception_id,
        escalated,
    );
    Ok(())
}
