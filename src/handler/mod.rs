//! The mechanics around a role call: decode, event-type and tenant checks, the transactional
//! attempt, panic isolation, timeouts, retries with backoff, and the dead-letter path. The
//! handler actor (`actor`) runs them for the records routed to it, one at a time per key.

mod actor;
mod attempt;
pub mod failure;
pub mod group_commit;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use futures::FutureExt;
use tracing::Instrument;

pub use self::actor::{EventHandler, Stop};
use self::attempt::AttemptOutcome;
use self::failure::{backoff, AttemptFailure, ErrorClass};
use crate::bus::{write_and_emit, Delivery, Record};
use crate::envelope::Envelope;
use crate::model::RoleName;
use crate::roles::Role;
use crate::runtime::Runtime;
use crate::store::dead_letters::{self, DeadLetter};
use crate::tools::ToolRunner;

/// Points where tests inject failures: before the effect (a panic or an error inside the role
/// call) and after the commit (a crash between the effect and the acknowledgement).
pub trait FaultHook: Send + Sync {
    fn before_effect(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault>;
    fn after_commit(&self, role: RoleName, envelope: &Envelope) -> Result<(), InjectedFault>;
}

/// A failure a `FaultHook` injects; the attempt treats it as a transient error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InjectedFault(pub String);

impl From<String> for InjectedFault {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

impl From<&str> for InjectedFault {
    fn from(reason: &str) -> Self {
        Self(reason.to_owned())
    }
}

/// What every handler holds: the process's runtime context and what only handlers use.
pub struct HandlerDeps {
    pub runtime: Runtime,
    pub allow_future_schema: bool,
    pub faults: Option<Arc<dyn FaultHook>>,
    pub tools: ToolRunner,
    /// Where attempts share database transactions.
    pub group_commit: Arc<group_commit::GroupCommit>,
}

/// How one record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Duplicate,
    DeadLettered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// A record for a handler; answered with how it was handled, or None when the handler stopped
/// before it could answer (the record is then routed again).
#[derive(Message)]
#[rtype(result = "Option<Handled>")]
pub struct Process(pub Record);

/// How one record ended, and the delivery of the events its handling emitted: the record may
/// be acknowledged (its offset stored) only once that delivery resolved, so no later event of
/// its key can overtake them (see `bus::kafka::publisher`).
pub struct Handled {
    pub outcome: Outcome,
    pub delivery: Delivery,
}

impl Handled {
    fn new(outcome: Outcome, delivery: Delivery) -> Self {
        Self { outcome, delivery }
    }
}

async fn process(role: &dyn Role, deps: &HandlerDeps, record: &Record, name: &str) -> Handled {
    let role_name = role.name();
    let envelope = match Envelope::decode(&record.payload, deps.allow_future_schema) {
        Ok(envelope) => envelope,
        Err(error) => {
            return dead_letter(
                role_name,
                deps,
                record,
                None,
                AttemptFailure::permanent(error.to_string()),
                1,
            )
            .await
        }
    };
    let span = tracing::info_span!("event", role = %role_name, topic = %record.topic, partition = record.partition,
        offset = record.offset, tenant = %envelope.tenant_id, event_id = %envelope.event_id,
        exception_id = envelope.exception_id.as_deref().unwrap_or(""));
    process_decoded(role, deps, record, &envelope, name)
        .instrument(span)
        .await
}

async fn process_decoded(
    role: &dyn Role,
    deps: &HandlerDeps,
    record: &Record,
    envelope: &Envelope,
    name: &str,
) -> Handled {
    let role_name = role.name();
    if !role.accepts(&record.topic, &envelope.event_type) {
        let reason = format!(
            "unknown event type '{}' for topic {}",
            envelope.event_type, record.topic
        );
        return dead_letter(
            role_name,
            deps,
            record,
            Some(envelope),
            AttemptFailure::permanent(reason),
            1,
        )
        .await;
    }
    let started = Instant::now();
    let mut attempts: u32 = 0;
    // Only attempts that failed for a reason of their own count against MAX_ATTEMPTS, not
    // those an unreachable database failed.
    let mut counted: u32 = 0;
    loop {
        attempts += 1;
        // Liveness watches one attempt at a time: waiting out a backoff is not being stuck.
        deps.runtime.health.handler_busy(name);
        let failure = match attempt_isolated(role, deps, envelope).await {
            Ok(AttemptOutcome::Processed(appended)) => {
                let delivery = deps.runtime.bus.deliver(appended).await;
                let outcome = Outcome::Processed;
                finish(deps, role_name, envelope, outcome, started);
                return Handled::new(outcome, delivery);
            }
            Ok(AttemptOutcome::Duplicate) => {
                tracing::info!(
                    "Event already processed by this role; acknowledged without effect."
                );
                // A crash may have come between its commit and the publish of what it emitted.
                match deps
                    .runtime
                    .bus
                    .deliver_unpublished(&envelope.partition_key())
                    .await
                {
                    Ok(delivery) => {
                        let outcome = Outcome::Duplicate;
                        finish(deps, role_name, envelope, outcome, started);
                        return Handled::new(outcome, delivery);
                    }
                    Err(error) => AttemptFailure::from(error),
                }
            }
            Err(failure) => failure,
        };
        let give_up = match failure.class {
            ErrorClass::Permanent => true,
            ErrorClass::Infrastructure => false,
            ErrorClass::Transient => {
                counted += 1;
                counted >= deps.runtime.tuning.max_attempts
            }
        };
        if give_up {
            return dead_letter(role_name, deps, record, Some(envelope), failure, attempts).await;
        }
        deps.runtime
            .metrics
            .retries
            .with_label_values(&[role_name.as_str(), failure.class.as_str()])
            .inc();
        let delay = backoff(&deps.runtime.tuning, attempts);
        tracing::warn!(attempt = attempts, class = failure.class.as_str(), reason = %failure.reason,
            retry_in_ms = delay.as_millis() as u64, "Handler attempt failed; retrying.");
        deps.runtime.health.handler_idle(name);
        actix_rt::time::sleep(delay).await;
    }
}

/// Runs one attempt with a timeout, turning a panic into a transient failure.
async fn attempt_isolated(
    role: &dyn Role,
    deps: &HandlerDeps,
    envelope: &Envelope,
) -> Result<AttemptOutcome, AttemptFailure> {
    let started = Instant::now();
    let attempt = AssertUnwindSafe(attempt::run(role, deps, envelope)).catch_unwind();
    match actix_rt::time::timeout(deps.runtime.tuning.handler_timeout, attempt).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            deps.runtime
                .metrics
                .handler_panics
                .with_label_values(&[role.name().as_str()])
                .inc();
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::error!(panic = %message, "Role call panicked; treated as a handler error.");
            Err(AttemptFailure::transient(format!(
                "role panicked: {message}"
            )))
        }
        Err(_) => {
            // Waiting for an unreachable database (a connection that never comes) is an
            // outage, not a failure of this event, also when the database came back just as
            // the attempt ran out of time.
            let outage = deps.runtime.health.database_unreachable_since(started)
                || !crate::store::database::ping(&deps.runtime.db).await;
            let class = if outage {
                ErrorClass::Infrastructure
            } else {
                ErrorClass::Transient
            };
            let reason = format!(
                "attempt timed out after {}s",
                deps.runtime.tuning.handler_timeout.as_secs()
            );
            Err(AttemptFailure::new(class, reason))
        }
    }
}

fn finish(
    deps: &HandlerDeps,
    role: RoleName,
    envelope: &Envelope,
    outcome: Outcome,
    started: Instant,
) {
    let event_type = envelope.event_type.as_str();
    deps.runtime
        .metrics
        .events_processed
        .with_label_values(&[role.as_str(), event_type, outcome.as_str()])
        .inc();
    deps.runtime
        .metrics
        .tenant_event(role.as_str(), Some(&envelope.tenant_id), outcome.as_str());
    deps.runtime
        .metrics
        .processing_seconds
        .with_label_values(&[role.as_str()])
        .observe(started.elapsed().as_secs_f64());
}

/// Records the dead letter, retrying while the database is unreachable: a message is never
/// acknowledged before its dead letter is durable.
async fn dead_letter(
    role: RoleName,
    deps: &HandlerDeps,
    record: &Record,
    envelope: Option<&Envelope>,
    failure: AttemptFailure,
    attempts: u32,
) -> Handled {
    let letter = DeadLetter {
        role: role.as_str().to_owned(),
        topic: record.topic.to_string(),
        partition: record.partition,
        offset: record.offset,
        event_id: envelope.map(|envelope| envelope.event_id.to_string()),
        tenant_id: envelope.map(|envelope| envelope.tenant_id.clone()),
        exception_id: envelope.and_then(|envelope| envelope.exception_id.clone()),
        event_type: envelope.map(|envelope| envelope.event_type.clone()),
        envelope: String::from_utf8_lossy(&record.payload).into_owned(),
        reason: failure.reason.clone(),
        error_class: failure.class.as_str(),
        attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
        record_key: record.key.clone(),
    };
    let mut tries = 0;
    let delivery = loop {
        tries += 1;
        let recorded = write_and_emit(&deps.runtime.db, deps.runtime.bus.as_ref(), async |txn| {
            let rows = dead_letters::record(txn, &letter, deps.runtime.clock.now()).await?;
            Ok::<_, sea_orm::DbErr>(((), rows))
        })
        .await;
        match recorded {
            Ok(((), delivery)) => break delivery,
            Err(error) => {
                let delay = backoff(&deps.runtime.tuning, tries);
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "Failed to record a dead letter; retrying.");
                actix_rt::time::sleep(delay).await;
            }
        }
    };
    tracing::warn!(reason = %failure.reason, class = failure.class.as_str(), attempts, "Message dead-lettered.");
    deps.runtime
        .metrics
        .dead_letters
        .with_label_values(&[role.as_str(), failure.class.as_str()])
        .inc();
    // The event type of a rejected message is attacker-controlled: keep the label bounded.
    let event_type = envelope
        .filter(|_| failure.class != ErrorClass::Permanent)
        .map_or("rejected", |envelope| envelope.event_type.as_str());
    deps.runtime
        .metrics
        .events_processed
        .with_label_values(&[role.as_str(), event_type, Outcome::DeadLettered.as_str()])
        .inc();
    let tenant = envelope.map(|envelope| envelope.tenant_id.as_str());
    deps.runtime
        .metrics
        .tenant_event(role.as_str(), tenant, Outcome::DeadLettered.as_str());
    Handled::new(Outcome::DeadLettered, delivery)
}
