//! One attempt at one event: the idempotency claim, the tenant ownership check, the role's
//! writes and the outbox rows, in one (group-committed) transaction (DESIGN section 3).

use sea_orm::DatabaseTransaction;

use super::failure::AttemptFailure;
use super::group_commit::Effects;
use super::HandlerDeps;
use crate::bus::PlacedEvent;
use crate::envelope::Envelope;
use crate::packs::{DomainPack, TenantPack};
use crate::roles::{PrepareContext, Role, RoleContext};
use crate::store::outbox;
use crate::store::processed::{self, Claim};

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
    let outcome = deps
        .group_commit
        .run(&envelope.partition_key(), async |txn| {
            effects(role, deps, envelope, tenant, domain, prepared.clone(), txn).await
        })
        .await?;
    if let (Some(faults), AttemptOutcome::Processed(_)) = (&deps.faults, &outcome) {
        faults
            .after_commit(role.name(), envelope)
            .map_err(AttemptFailure::transient)?;
    }
    Ok(outcome)
}

/// The claim (with the ownership check), the role's writes and the outbox rows, in the group's
/// transaction.
async fn effects(
    role: &dyn Role,
    deps: &HandlerDeps,
    envelope: &Envelope,
    tenant: &TenantPack,
    domain: &DomainPack,
    prepared: serde_json::Value,
    txn: &DatabaseTransaction,
) -> Result<Effects<AttemptOutcome>, AttemptFailure> {
    let role_name = role.name();
    let event_id = envelope.event_id.to_string();
    match processed::claim(txn, &event_id, role_name.as_str()).await? {
        Claim::Claimed => {}
        Claim::Duplicate => return Ok(Effects::Unchanged(AttemptOutcome::Duplicate)),
    }
    let mut ctx = RoleContext::new(
        envelope,
        txn,
        &deps.packs,
        tenant,
        domain,
        deps.clock.as_ref(),
        role_name,
    );
    ctx.prepared = prepared;
    role.handle(&mut ctx).await?;
    let emitted = ctx.into_emitted();
    let placed = outbox::append(txn, deps.bus.as_ref(), &emitted).await?;
    Ok(Effects::Written(AttemptOutcome::Processed(placed)))
}
