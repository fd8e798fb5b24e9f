//! One attempt at one event: the transaction that holds the idempotency claim, the tenant
//! ownership check, the role's writes and the outbox rows (DESIGN section 3).

use sea_orm::TransactionTrait;

use super::failure::AttemptFailure;
use super::HandlerDeps;
use crate::bus::PlacedEvent;
use crate::envelope::Envelope;
use crate::roles::{PrepareContext, Role, RoleContext};
use crate::store::{exceptions, outbox, processed};

pub enum AttemptOutcome {
    Processed(Vec<PlacedEvent>),
    Duplicate,
}

pub async fn run(
    role: &dyn Role,
    deps: &HandlerDeps,
    envelope: &Envelope,
) -> Result<AttemptOutcome, AttemptFailure> {
    if let Some(faults) = &deps.faults {
        faults
            .before_effect(role.name(), envelope)
            .map_err(AttemptFailure::transient)?;
    }
    let tenant = deps.packs.tenant(&envelope.tenant_id).ok_or_else(|| {
        AttemptFailure::permanent(format!(
            "tenant violation: unknown tenant '{}'",
            envelope.tenant_id
        ))
    })?;
    if !deps.tenant_allowlist.is_empty() && !deps.tenant_allowlist.contains(&envelope.tenant_id) {
        return Err(AttemptFailure::permanent(format!(
            "tenant violation: tenant '{}' is not served by this deployment (TENANT_ALLOWLIST)",
            envelope.tenant_id
        )));
    }
    let domain = deps.packs.domain_of(tenant);
    let prepare = PrepareContext {
        event: envelope,
        db: &deps.db,
        tenant,
        domain,
        clock: deps.clock.as_ref(),
        tools: &deps.tools,
    };
    let prepared = role.prepare(&prepare).await?;
    let txn = deps.db.begin().await?;
    if let Some(exception_id) = &envelope.exception_id {
        if let Some(owner) = exceptions::owner_of(&txn, exception_id).await? {
            if owner != envelope.tenant_id {
                return Err(AttemptFailure::permanent(format!(
                    "tenant violation: exception {exception_id} belongs to another tenant"
                )));
            }
        }
    }
    let role_name = role.name();
    if !processed::claim(&txn, &envelope.event_id.to_string(), role_name.as_str()).await? {
        txn.rollback().await?;
        return Ok(AttemptOutcome::Duplicate);
    }
    let mut ctx = RoleContext::new(
        envelope,
        &txn,
        &deps.packs,
        tenant,
        domain,
        deps.clock.as_ref(),
        role_name,
    );
    ctx.prepared = prepared;
    role.handle(&mut ctx).await?;
    let emitted = ctx.into_emitted();
    let placed = outbox::append(&txn, deps.bus.as_ref(), &emitted).await?;
    txn.commit().await?;
    if let Some(faults) = &deps.faults {
        faults
            .after_commit(role_name, envelope)
            .map_err(AttemptFailure::transient)?;
    }
    Ok(AttemptOutcome::Processed(placed))
}
