//! A person completes (or approves) the playbook step an exception waits on: only the current
//! step, waiting for a person, can be completed. The request becomes a
//! PlaybookStepCompletionRequested event; the playbook role applies it. The API and the web
//! console both come through here, so they keep the same rules.

use sea_orm::DbErr;
use serde_json::{json, Map, Value};

use crate::bus::{write_and_emit, LogRow, OutgoingEvent};
use crate::envelope::Envelope;
use crate::model::{event_types, topics};
use crate::runtime::Runtime;
use crate::store::{exceptions, steps};

/// What a person asks for.
#[derive(Debug, Clone)]
pub struct StepCompletion {
    pub tenant_id: String,
    pub exception_id: String,
    pub step_number: i32,
    /// Who completes the step (recorded on it).
    pub actor: String,
    pub comment: Option<String>,
}

/// How the request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionOutcome {
    /// Recorded: the event that carries it.
    Requested { event_id: String },
    /// No such exception for this tenant.
    NotFound,
    /// The step is not the one waiting for a person; where the run is instead.
    NotWaiting {
        current_step: Option<i32>,
        current_status: Option<String>,
    },
}

/// Checks the step and, when it waits for a person, records the completion request durably.
pub async fn request_completion(
    runtime: &Runtime,
    completion: &StepCompletion,
) -> Result<CompletionOutcome, DbErr> {
    let (db, bus) = (&runtime.db, runtime.bus.as_ref());
    let (tenant_id, exception_id) = (&completion.tenant_id, &completion.exception_id);
    if exceptions::find(db, tenant_id, exception_id)
        .await?
        .is_none()
    {
        return Ok(CompletionOutcome::NotFound);
    }
    let run = steps::of_exception(db, tenant_id, exception_id).await?;
    let current = steps::current(&run);
    let waiting = current.filter(|step| {
        step.step_number == completion.step_number && step.status == steps::WAITING_PERSON
    });
    if waiting.is_none() {
        return Ok(CompletionOutcome::NotWaiting {
            current_step: current.map(|step| step.step_number),
            current_status: current.map(|step| step.status.clone()),
        });
    }
    let payload: Map<String, Value> = json!({
        "step_number": completion.step_number,
        "actor": completion.actor,
        "actor_type": "user",
        "comment": completion.comment,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let envelope = Envelope::new(
        event_types::PLAYBOOK_STEP_COMPLETION_REQUESTED,
        tenant_id,
        Some(exception_id.clone()),
        payload,
        runtime.clock.now(),
    );
    let event_id = envelope.event_id.to_string();
    let row = LogRow::from(&OutgoingEvent {
        topic: topics::STEPS,
        envelope,
    });
    // Durable once committed; the delivery completes on its own.
    let ((), _delivery) =
        write_and_emit(db, bus, async |_txn| Ok::<_, DbErr>(((), vec![row]))).await?;
    Ok(CompletionOutcome::Requested { event_id })
}
