//! triage: classifies an exception (type, severity, confidence), sets its SLA deadline and
//! emits TriageCompleted. The rules live in the packs; this file only applies them.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Role, RoleContext, RoleError};
use crate::model::{event_types, topics, RoleName};
use crate::packs::triage_rules::{sla_deadline, triage, SeveritySource, TriageInput};
use crate::store::exceptions::{self, TriageUpdate};

pub struct Triage;

#[async_trait(?Send)]
impl Role for Triage {
    fn name(&self) -> RoleName {
        RoleName::Triage
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::NORMALIZED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        topic == topics::NORMALIZED && event_type == event_types::EXCEPTION_NORMALIZED
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let exception_id = ctx.required_exception_id()?;
        let exception = exceptions::find(ctx.txn, &ctx.event.tenant_id, exception_id)
            .await?
            .ok_or_else(|| RoleError::Failed(format!("exception {exception_id} not found")))?;
        let given_type = ctx
            .event
            .payload
            .get("exception_type")
            .and_then(Value::as_str);
        // The payload is stored once, with the exception; intake wrote it as a JSON object.
        let raw_payload = serde_json::from_str::<Value>(&exception.raw_payload)
            .unwrap_or_else(|_| Value::Object(Default::default()));
        let decision = triage(
            ctx.domain,
            ctx.tenant,
            &TriageInput {
                exception_type: given_type,
                payload: &raw_payload,
            },
        );
        let deadline = sla_deadline(ctx.tenant, decision.severity, exception.created_at);
        let severity_source = match &decision.severity_source {
            SeveritySource::TenantOverride => "tenant_override".to_owned(),
            SeveritySource::DomainRule { rule_id } => format!("domain_rule:{rule_id}"),
            SeveritySource::NameHint => "name_hint".to_owned(),
            SeveritySource::Default => "default".to_owned(),
        };
        let update = TriageUpdate {
            exception_type: decision.exception_type.clone(),
            severity: decision.severity,
            confidence: decision.confidence,
            sla_deadline: deadline,
        };
        exceptions::record_triage(ctx.txn, exception, update, ctx.clock.now()).await?;
        let payload = json!({
            "exception_type": decision.exception_type,
            "type_was_given": decision.type_was_given,
            "severity": decision.severity,
            "severity_source": severity_source,
            "confidence": decision.confidence,
            "evidence": decision.evidence,
            "sla_deadline": deadline,
        });
        ctx.emit(
            topics::TRIAGED,
            event_types::TRIAGE_COMPLETED,
            exception_id,
            payload,
        );
        Ok(())
    }
}
