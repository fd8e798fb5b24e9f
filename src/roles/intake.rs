//! intake: normalises a raw exception, stores it once (its payload in `raw_payload`, nowhere
//! else), and emits ExceptionNormalized with the normalised facts.

use async_trait::async_trait;
use serde_json::json;

use super::{Role, RoleContext, RoleError};
use crate::model::{event_types, topics, RoleName};
use crate::normalize::normalize;
use crate::store::exceptions::{self, NewException};

pub struct Intake;

#[async_trait(?Send)]
impl Role for Intake {
    fn name(&self) -> RoleName {
        RoleName::Intake
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::INGESTED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        topic == topics::INGESTED && event_type == event_types::EXCEPTION_INGESTED
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let event = ctx.event;
        let now = ctx.clock.now();
        let pii_keys = ctx.packs.pii_keys(ctx.tenant);
        let normalized = normalize(
            event.exception_id.as_deref(),
            &event.event_id,
            &event.payload,
            pii_keys,
            now,
        )
        .map_err(|invalid| RoleError::Invalid(invalid.0))?;
        let raw_payload = serde_json::to_string(&normalized.payload).unwrap_or_default();
        let normalized_json = serde_json::to_string(&normalized).unwrap_or_default();
        let new = NewException {
            tenant_id: event.tenant_id.clone(),
            exception_id: normalized.exception_id.clone(),
            domain: ctx.domain.name.clone(),
            exception_type: normalized
                .exception_type
                .clone()
                .unwrap_or_else(|| "UNKNOWN".to_owned()),
            source_system: normalized.source_system.clone(),
            raw_payload,
            normalized: normalized_json,
            occurred_at: normalized.occurred_at,
        };
        if !exceptions::insert_if_absent(ctx.txn, new, now).await? {
            tracing::info!(exception_id = %normalized.exception_id, "Exception already ingested; not emitted again.");
            return Ok(());
        }
        let payload = json!({
            "exception_id": normalized.exception_id,
            "exception_type": normalized.exception_type,
            "source_system": normalized.source_system,
            "occurred_at": normalized.occurred_at,
            "domain": ctx.domain.name,
            "redacted_fields": normalized.redacted_fields,
        });
        let exception_id = normalized.exception_id.clone();
        ctx.emit(
            topics::NORMALIZED,
            event_types::EXCEPTION_NORMALIZED,
            &exception_id,
            payload,
        );
        Ok(())
    }
}
