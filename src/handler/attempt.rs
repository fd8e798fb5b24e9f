//! One attempt at one event: the idempotency claim, the tenant ownership check, the role's
//! writes and the emitted events appended to the log or outbox, in one (group-committed)
//! transaction.

use sea_orm::DatabaseTransaction;

use super::failure::AttemptFailure;
use super::group_commit::{Claiming, Effects};
use super::HandlerDeps;
use crate::bus::{Appended, LogRow};
use crate::envelope::Envelope;
use crate::packs::{DomainPack, TenantPack};
use crate::roles::{PrepareContext, Role, RoleContext};
use crate::store::processed::{self, Claim, ClaimKey};

pub enum AttemptOutcome {
    /// The effects committed; what the role emitted is to be delivered.
    Processed(Appended),
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
            .map_err(|fault| AttemptFailure::transient(fault.0))?;
    }
    let tenant = deps
        .runtime
        .packs
        .tenant(&envelope.tenant_id)
        .ok_or_else(|| {
            AttemptFailure::permanent(format!(
                "tenant violation: unknown tenant '{}'",
                envelope.tenant_id
            ))
        })?;
    if !deps.runtime.serves_tenant(&envelope.tenant_id) {
        return Err(AttemptFailure::permanent(format!(
            "tenant violation: tenant '{}' is not served by this deployment (TENANT_ALLOWLIST)",
            envelope.tenant_id
        )));
    }
    let domain = deps.runtime.packs.domain_of(tenant);
    let prepare = PrepareContext {
        event: envelope,
        db: &deps.runtime.db,
        tenant,
        domain,
        clock: deps.runtime.clock.as_ref(),
        tools: &deps.tools,
    };
    let prepared = role.prepare(&prepare).await?;
    let committed = deps
        .group_commit
        .run(&envelope.partition_key(), async |txn, claiming| {
            let packs = PacksOf { tenant, domain };
            effects(role, deps, envelope, packs, prepared.clone(), txn, claiming).await
        })
        .await?;
    let outcome = match committed.value {
        Claimed::New => AttemptOutcome::Processed(committed.appended),
        Claimed::Duplicate => AttemptOutcome::Duplicate,
    };
    if let (Some(faults), AttemptOutcome::Processed(_)) = (&deps.faults, &outcome) {
        faults
            .after_commit(role.name(), envelope)
            .map_err(|fault| AttemptFailure::transient(fault.0))?;
    }
    Ok(outcome)
}

/// Whether the attempt's event was new to the role.
enum Claimed {
    New,
    Duplicate,
}

/// The packs of the event's tenant: the tenant's own and its domain's.
#[derive(Clone, Copy)]
struct PacksOf<'a> {
    tenant: &'a TenantPack,
    domain: &'a DomainPack,
}

/// The claim, the role's writes and the emitted events, in the group's transaction. Under
/// `Claiming::AtCommit` the claim and the events are handed back for the batch to write.
async fn effects(
    role: &dyn Role,
    deps: &HandlerDeps,
    envelope: &Envelope,
    PacksOf { tenant, domain }: PacksOf<'_>,
    prepared: serde_json::Value,
    txn: &DatabaseTransaction,
    claiming: Claiming,
) -> Result<Effects<Claimed>, AttemptFailure> {
    let role_name = role.name();
    let claim = ClaimKey {
        event_id: envelope.event_id.to_string(),
        role: role_name.as_str(),
    };
    let deferred = match claiming {
        Claiming::AtCommit => Some(claim),
        Claiming::InWork => match processed::claim(txn, &claim.event_id, claim.role).await? {
            Claim::Claimed => None,
            Claim::Duplicate => return Ok(Effects::Unchanged(Claimed::Duplicate)),
        },
    };
    let mut ctx = RoleContext::new(
        envelope,
        txn,
        &deps.runtime.packs,
        tenant,
        domain,
        deps.runtime.clock.as_ref(),
        role_name,
    );
    ctx.prepared = prepared;
    role.handle(&mut ctx).await?;
    let rows = ctx.into_emitted().iter().map(LogRow::from).collect();
    Ok(Effects::Written {
        value: Claimed::New,
        claim: deferred,
        rows,
    })
}
