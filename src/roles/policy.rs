//! policy: picks the playbook for a triaged exception, decides whether a person must approve,
//! and escalates when confidence is too low or nothing matches.

use async_trait::async_trait;
use serde_json::json;

use super::{Role, RoleContext, RoleError};
use crate::model::{event_types, topics, RoleName, Severity};
use crate::packs::policy_rules::{evaluate_policy, PolicyInput, PolicyOutcome};
use crate::store::exceptions::{self, PolicyUpdate};

pub struct Policy;

#[async_trait(?Send)]
impl Role for Policy {
    fn name(&self) -> RoleName {
        RoleName::Policy
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::TRIAGED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        topic == topics::TRIAGED && event_type == event_types::TRIAGE_COMPLETED
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let exception_id = ctx.required_exception_id()?;
        let exception = exceptions::find(ctx.txn, &ctx.event.tenant_id, exception_id)
            .await?
            .ok_or_else(|| RoleError::Failed(format!("exception {exception_id} not found")))?;
        let severity: Severity = exception
            .severity
            .as_deref()
            .ok_or_else(|| {
                RoleError::Failed(format!("exception {exception_id} has not been triaged"))
            })?
            .parse()
            .map_err(RoleError::Invalid)?;
        let confidence = exception.confidence.unwrap_or(0.0);
        let input = PolicyInput {
            exception_type: &exception.exception_type,
            severity,
            confidence,
            sla_deadline: exception.sla_deadline,
            now: ctx.clock.now(),
        };
        let decision = evaluate_policy(ctx.domain, ctx.tenant, &input);
        let label = decision.decision_label();
        let (playbook_id, approval_required, escalated) = match &decision.outcome {
            PolicyOutcome::Matched {
                playbook_id,
                approval_required,
            } => (Some(playbook_id.clone()), *approval_required, false),
            PolicyOutcome::Escalate => (None, true, true),
        };
        let update = PolicyUpdate {
            decision: label.to_owned(),
            playbook_id: playbook_id.clone(),
            approval_required,
            escalated,
        };
        exceptions::record_policy(ctx.txn, exception, update, ctx.clock.now()).await?;
        let evaluated = json!({
            "decision": label,
            "playbook_id": playbook_id,
            "approval_required": approval_required,
            "severity": severity,
            "confidence": confidence,
            "reasons": decision.reasons,
            "candidates": decision.candidates,
        });
        ctx.emit(
            topics::POLICY,
            event_types::POLICY_EVALUATION_COMPLETED,
            exception_id,
            evaluated,
        );
        match playbook_id {
            Some(playbook_id) => {
                let matched =
                    json!({ "playbook_id": playbook_id, "approval_required": approval_required });
                ctx.emit(
                    topics::POLICY,
                    event_types::PLAYBOOK_MATCHED,
                    exception_id,
                    matched,
                );
            }
            None => {
                let escalated =
                    json!({ "reason": decision.reasons.join("; "), "escalated_by": "policy" });
                ctx.emit(
                    topics::OUTCOMES,
                    event_types::EXCEPTION_ESCALATED,
                    exception_id,
                    escalated,
                );
            }
        }
        Ok(())
    }
}
