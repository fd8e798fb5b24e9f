//! tool: runs the tool a playbook step asked for, outside any transaction (the call leaves the
//! database), recording the execution before and after; then, in the handler's transaction,
//! makes the execution terminal and emits ToolExecutionCompleted. A terminal execution is never
//! run again: its stored result is emitted instead.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{PrepareContext, Role, RoleContext, RoleError};
use crate::model::{event_types, topics, RoleName};
use crate::store::tool_executions::{self, Finished, Started};
use crate::tools::{ToolOutcome, ToolRun};

pub struct Tool;

#[derive(Debug, Deserialize)]
struct Request {
    execution_id: String,
    tool_name: String,
    #[serde(default)]
    step_number: i32,
    #[serde(default)]
    input: Value,
}

/// What `prepare` hands to `handle`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Prepared {
    /// The execution was already terminal: report what is stored.
    Stored,
    Ran {
        succeeded: bool,
        output: Option<Value>,
        error: Option<String>,
        failure_kind: Option<String>,
        attempts: u32,
        duration_ms: u64,
    },
}

fn request_of(payload: &serde_json::Map<String, Value>) -> Result<Request, RoleError> {
    serde_json::from_value(Value::Object(payload.clone()))
        .map_err(|error| RoleError::Invalid(format!("ToolExecutionRequested payload: {error}")))
}

fn prepared_of(run: ToolRun) -> Prepared {
    let duration_ms = u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX);
    match run.outcome {
        ToolOutcome::Succeeded { output } => Prepared::Ran {
            succeeded: true,
            output: Some(output),
            error: None,
            failure_kind: None,
            attempts: run.attempts,
            duration_ms,
        },
        ToolOutcome::Failed { failure } => Prepared::Ran {
            succeeded: false,
            output: None,
            error: Some(failure.to_string()),
            failure_kind: Some(failure.kind.as_str().to_owned()),
            attempts: run.attempts,
            duration_ms,
        },
    }
}

#[async_trait(?Send)]
impl Role for Tool {
    fn name(&self) -> RoleName {
        RoleName::Tool
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::TOOLS_REQUESTED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        topic == topics::TOOLS_REQUESTED && event_type == event_types::TOOL_EXECUTION_REQUESTED
    }

    async fn prepare(&self, ctx: &PrepareContext<'_>) -> Result<Value, RoleError> {
        let request = request_of(&ctx.event.payload)?;
        let exception_id = ctx.event.exception_id.as_deref().ok_or_else(|| {
            RoleError::Invalid("ToolExecutionRequested has no exception_id".to_owned())
        })?;
        if let Some(existing) = tool_executions::find(ctx.db, &request.execution_id).await? {
            if existing.tenant_id != ctx.event.tenant_id {
                return Err(RoleError::TenantViolation(format!(
                    "execution {} belongs to another tenant",
                    request.execution_id
                )));
            }
            if tool_executions::is_terminal(&existing) {
                return Ok(serde_json::to_value(Prepared::Stored).unwrap_or(Value::Null));
            }
        }
        let started = Started {
            execution_id: &request.execution_id,
            tenant_id: &ctx.event.tenant_id,
            exception_id,
            step_number: request.step_number,
            tool_name: &request.tool_name,
            input: request.input.to_string(),
        };
        tool_executions::record_start(ctx.db, started, ctx.clock.now()).await?;
        let definition = ctx.domain.tool(&request.tool_name);
        let run = match ctx
            .tools
            .check(definition, &request.tool_name, ctx.tenant, &request.input)
        {
            Err(failure) => ToolRun::not_started(failure),
            Ok(()) => match definition {
                Some(tool) => {
                    ctx.tools
                        .run(tool, &request.execution_id, &request.input)
                        .await
                }
                None => {
                    return Err(RoleError::Invalid(format!(
                        "unknown tool '{}'",
                        request.tool_name
                    )))
                }
            },
        };
        Ok(serde_json::to_value(prepared_of(run)).unwrap_or(Value::Null))
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let request = request_of(&ctx.event.payload)?;
        let exception_id = ctx.required_exception_id()?;
        let prepared: Prepared = serde_json::from_value(ctx.prepared.clone())
            .map_err(|error| RoleError::Failed(format!("tool result missing: {error}")))?;
        let now = ctx.clock.now();
        if let Prepared::Ran {
            succeeded,
            output,
            error,
            attempts,
            ..
        } = &prepared
        {
            let finished = Finished {
                status: if *succeeded {
                    tool_executions::SUCCEEDED
                } else {
                    tool_executions::FAILED
                },
                attempts: i32::try_from(*attempts).unwrap_or(i32::MAX),
                output: output.as_ref().map(Value::to_string),
                error: error.clone(),
            };
            tool_executions::record_finish(ctx.txn, &request.execution_id, finished, now).await?;
        }
        // Report what is stored: the first terminal result wins over a concurrent rerun.
        let stored = tool_executions::find(ctx.txn, &request.execution_id)
            .await?
            .ok_or_else(|| {
                RoleError::Failed(format!("execution {} not recorded", request.execution_id))
            })?;
        let duration_ms = match (stored.started_at, stored.completed_at) {
            (Some(started), Some(completed)) => (completed - started).num_milliseconds().max(0),
            _ => 0,
        };
        let output = stored.output.as_deref().map(|text| {
            serde_json::from_str::<Value>(text).unwrap_or(Value::String(text.to_owned()))
        });
        let failure_kind = match &prepared {
            Prepared::Ran { failure_kind, .. } => failure_kind.clone(),
            Prepared::Stored => None,
        };
        let payload = json!({
            "execution_id": stored.execution_id,
            "tool_name": stored.tool_name,
            "step_number": stored.step_number,
            "status": stored.status,
            "output": output,
            "error": stored.error,
            "failure_kind": failure_kind,
            "attempts": stored.attempts,
            "duration_ms": duration_ms,
            "replayed": matches!(prepared, Prepared::Stored),
        });
        ctx.emit(
            topics::TOOLS_COMPLETED,
            event_types::TOOL_EXECUTION_COMPLETED,
            exception_id,
            payload,
        );
        Ok(())
    }
}
