//! feedback: when an exception is resolved or escalated, classifies the outcome (resolved ->
//! positive, escalated or failed -> negative, else neutral), computes its timings (total time,
//! steps completed, tool time), stores one feedback row per exception and emits
//! FeedbackCaptured.

use async_trait::async_trait;
use serde_json::json;

use super::{Role, RoleContext, RoleError};
use crate::model::{event_types, topics, RoleName};
use crate::store::{exceptions, feedback};

pub struct Feedback;

/// The classification of an outcome event.
pub fn classify(outcome: &str) -> &'static str {
    match outcome {
        "resolved" => "positive",
        "escalated" | "failed" => "negative",
        _ => "neutral",
    }
}

#[async_trait(?Send)]
impl Role for Feedback {
    fn name(&self) -> RoleName {
        RoleName::Feedback
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::OUTCOMES, topics::TOOLS_COMPLETED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        matches!(
            (topic, event_type),
            (topics::OUTCOMES, event_types::PLAYBOOK_COMPLETED)
                | (topics::OUTCOMES, event_types::EXCEPTION_RESOLVED)
                | (topics::OUTCOMES, event_types::EXCEPTION_ESCALATED)
                | (
                    topics::TOOLS_COMPLETED,
                    event_types::TOOL_EXECUTION_COMPLETED
                )
        )
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let outcome = match ctx.event.event_type.as_str() {
            event_types::EXCEPTION_RESOLVED => "resolved",
            event_types::EXCEPTION_ESCALATED => "escalated",
            // Tool durations and step counts are read from the run when the outcome arrives.
            _ => return Ok(()),
        };
        let exception_id = ctx.required_exception_id()?;
        let exception = exceptions::find(ctx.txn, &ctx.event.tenant_id, exception_id)
            .await?
            .ok_or_else(|| RoleError::Failed(format!("exception {exception_id} not found")))?;
        let now = ctx.clock.now();
        let timings = feedback::timings(ctx.txn, &ctx.event.tenant_id, exception_id).await?;
        let total_seconds = (now - exception.created_at).num_milliseconds().max(0) as f64 / 1000.0;
        let classification = classify(outcome);
        let details = json!({
            "exception_type": exception.exception_type,
            "severity": exception.severity,
            "playbook_id": exception.playbook_id,
            "policy_decision": exception.policy_decision,
            "reason": ctx.event.payload.get("reason"),
            "tool_executions": timings.tool_executions,
        });
        let row = feedback::Feedback {
            tenant_id: ctx.event.tenant_id.clone(),
            exception_id: exception_id.to_owned(),
            outcome: outcome.to_owned(),
            classification: classification.to_owned(),
            total_seconds,
            steps_completed: timings.steps_completed,
            tool_seconds: timings.tool_seconds,
            details: details.to_string(),
        };
        feedback::upsert(ctx.txn, row, now).await?;
        let payload = json!({
            "outcome": outcome,
            "classification": classification,
            "total_seconds": total_seconds,
            "steps_completed": timings.steps_completed,
            "tool_seconds": timings.tool_seconds,
            "tool_executions": timings.tool_executions,
        });
        ctx.emit(
            topics::FEEDBACK,
            event_types::FEEDBACK_CAPTURED,
            exception_id,
            payload,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn outcomes_classify_as_the_design_says() {
        assert_eq!(classify("resolved"), "positive");
        assert_eq!(classify("escalated"), "negative");
        assert_eq!(classify("failed"), "negative");
        assert_eq!(classify("something else"), "neutral");
    }
}
