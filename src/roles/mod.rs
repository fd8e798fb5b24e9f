//! The role seam: what a role consumes and the business rules it applies to one event inside
//! the handler's transaction. Roles hold no transport code; they read and write through
//! `store` and emit through `RoleContext::emit`.

pub mod feedback;
pub mod intake;
pub mod playbook;
pub mod policy;
pub mod tool;
pub mod triage;

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::bus::OutgoingEvent;
use crate::clock::Clock;
use crate::envelope::Envelope;
use crate::model::RoleName;
use crate::packs::{DomainPack, Packs, TenantPack};
use crate::tools::ToolRunner;

pub use crate::model::DERIVED_ID_NAMESPACE;

/// Why a role could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// The event names another tenant's exception, or a tenant this deployment does not serve.
    #[error("tenant violation: {0}")]
    TenantViolation(String),
    /// The event can never be applied (a payload the role cannot read).
    #[error("{0}")]
    Invalid(String),
    /// The event could not be applied now (a missing row that may still appear).
    #[error("{0}")]
    Failed(String),
}

/// Everything a role may use while handling one event.
pub struct RoleContext<'a> {
    pub event: &'a Envelope,
    pub txn: &'a DatabaseTransaction,
    pub packs: &'a Packs,
    pub tenant: &'a TenantPack,
    pub domain: &'a DomainPack,
    pub clock: &'a dyn Clock,
    pub role: RoleName,
    /// What `Role::prepare` returned for this event (Null when the role prepares nothing).
    pub prepared: Value,
    emitted: Vec<OutgoingEvent>,
}

/// What a role may use in `prepare`, before its transaction opens: for work that leaves the
/// database (a tool's HTTP call) and must not hold a transaction while it waits.
pub struct PrepareContext<'a> {
    pub event: &'a Envelope,
    pub db: &'a DatabaseConnection,
    pub tenant: &'a TenantPack,
    pub domain: &'a DomainPack,
    pub clock: &'a dyn Clock,
    pub tools: &'a ToolRunner,
}

impl<'a> RoleContext<'a> {
    pub fn new(
        event: &'a Envelope,
        txn: &'a DatabaseTransaction,
        packs: &'a Packs,
        tenant: &'a TenantPack,
        domain: &'a DomainPack,
        clock: &'a dyn Clock,
        role: RoleName,
    ) -> Self {
        Self {
            event,
            txn,
            packs,
            tenant,
            domain,
            clock,
            role,
            prepared: Value::Null,
            emitted: Vec::new(),
        }
    }

    /// Emits an event about `exception_id` in the handler's transaction. Its id is derived from
    /// the consumed event, so the same input can never emit two different events.
    pub fn emit(
        &mut self,
        topic: &'static str,
        event_type: &str,
        exception_id: &str,
        payload: Value,
    ) {
        let seed = format!(
            "{}:{}:{}",
            self.event.event_id,
            self.role,
            self.emitted.len()
        );
        let event_id = Uuid::new_v5(&DERIVED_ID_NAMESPACE, seed.as_bytes());
        let payload = match payload {
            Value::Object(map) => map,
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        let mut envelope = Envelope::with_id(
            event_id,
            event_type,
            &self.event.tenant_id,
            Some(exception_id.to_owned()),
            payload,
            self.clock.now(),
        );
        envelope.correlation_id = self.event.correlation_id.clone();
        envelope.metadata.insert(
            "causation_id".to_owned(),
            Value::String(self.event.event_id.to_string()),
        );
        envelope.metadata.insert(
            "producer_role".to_owned(),
            Value::String(self.role.as_str().to_owned()),
        );
        self.emitted.push(OutgoingEvent { topic, envelope });
    }

    pub fn into_emitted(self) -> Vec<OutgoingEvent> {
        self.emitted
    }

    /// The exception this event is about; every role after intake needs one.
    pub fn required_exception_id(&self) -> Result<&'a str, RoleError> {
        self.event.exception_id.as_deref().ok_or_else(|| {
            RoleError::Invalid(format!(
                "{} event has no exception_id",
                self.event.event_type
            ))
        })
    }
}

#[async_trait(?Send)]
pub trait Role: Send + Sync {
    fn name(&self) -> RoleName;
    /// Topics this role consumes.
    fn input_topics(&self) -> &'static [&'static str];
    /// Whether `event_type` on `topic` is this role's to handle; anything else is dead-lettered.
    fn accepts(&self, topic: &str, event_type: &str) -> bool;
    /// Work outside the transaction, before it; its result reaches `handle` as
    /// `RoleContext::prepared`. It runs again on every attempt and every redelivery, so it must
    /// be idempotent (record before and after, carry an idempotency key).
    async fn prepare(&self, _ctx: &PrepareContext<'_>) -> Result<Value, RoleError> {
        Ok(Value::Null)
    }
    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError>;
}

/// The role implementation for `name`, if this build has one.
pub fn for_name(name: RoleName) -> Option<Arc<dyn Role>> {
    match name {
        RoleName::Intake => Some(Arc::new(intake::Intake)),
        RoleName::Triage => Some(Arc::new(triage::Triage)),
        RoleName::Policy => Some(Arc::new(policy::Policy)),
        RoleName::Playbook => Some(Arc::new(playbook::Playbook)),
        RoleName::Feedback => Some(Arc::new(feedback::Feedback)),
        RoleName::Tool => Some(Arc::new(tool::Tool)),
        _ => None,
    }
}
