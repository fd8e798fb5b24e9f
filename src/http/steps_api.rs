//! POST /v1/exceptions/{id}/steps/{n}/complete: a person completes (or approves) the step a
//! playbook run waits on. Only the current step, waiting for a person, can be completed (409
//! otherwise); the request becomes a PlaybookStepCompletionRequested event carrying the actor.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::{forbidden, Caller};
use super::HttpState;
use crate::bus::{write_and_emit, LogRow, OutgoingEvent};
use crate::envelope::Envelope;
use crate::model::{event_types, topics};
use crate::store::{exceptions, steps};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    /// Who completes the step (recorded on the step); defaults to the API key's tenant.
    pub actor: Option<String>,
    pub comment: Option<String>,
}

/// The largest completion body read: an actor and a comment.
const MAX_COMPLETION_BODY_BYTES: usize = 16 * 1024;

pub async fn complete(
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(String, i32)>,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant_id) = caller.tenant_id() else {
        return forbidden("this route needs a tenant API key");
    };
    let body = match state
        .bodies
        .read(&request, payload, MAX_COMPLETION_BODY_BYTES)
        .await
    {
        Ok(body) => body,
        Err(refused) => return refused.error_response(),
    };
    let (exception_id, step_number) = path.into_inner();
    let completion: CompletionBody = if body.is_empty() {
        CompletionBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(completion) => completion,
            Err(error) => {
                return HttpResponse::BadRequest()
                    .json(json!({ "error": format!("bad body: {error}") }))
            }
        }
    };
    let actor = completion
        .actor
        .map(|actor| actor.trim().to_owned())
        .filter(|actor| !actor.is_empty() && actor.len() <= 200)
        .unwrap_or_else(|| format!("api-key:{tenant_id}"));
    match submit(
        &state,
        tenant_id,
        &exception_id,
        step_number,
        &actor,
        completion.comment,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%error, "Failed to record a step completion.");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the completion could not be stored; retry" }))
        }
    }
}

async fn submit(
    state: &HttpState,
    tenant_id: &str,
    exception_id: &str,
    step_number: i32,
    actor: &str,
    comment: Option<String>,
) -> Result<HttpResponse, sea_orm::DbErr> {
    if exceptions::find(&state.db, tenant_id, exception_id)
        .await?
        .is_none()
    {
        return Ok(HttpResponse::NotFound().json(json!({ "error": "exception not found" })));
    }
    let run = steps::of_exception(&state.db, tenant_id, exception_id).await?;
    let current = steps::current(&run);
    let waiting = current
        .filter(|step| step.step_number == step_number && step.status == steps::WAITING_PERSON);
    if waiting.is_none() {
        return Ok(HttpResponse::Conflict().json(json!({
            "error": format!("step {step_number} is not the step waiting for a person"),
            "current_step": current.map(|step| step.step_number),
            "current_status": current.map(|step| step.status.clone()),
        })));
    }
    let payload: Map<String, Value> = json!({
        "step_number": step_number,
        "actor": actor,
        "actor_type": "user",
        "comment": comment,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let envelope = Envelope::new(
        event_types::PLAYBOOK_STEP_COMPLETION_REQUESTED,
        tenant_id,
        Some(exception_id.to_owned()),
        payload,
        state.clock.now(),
    );
    let event_id = envelope.event_id.to_string();
    let row = LogRow::from(&OutgoingEvent {
        topic: topics::STEPS,
        envelope,
    });
    // Durable once committed; the delivery completes on its own.
    let ((), _delivery) = write_and_emit(&state.db, state.bus.as_ref(), async |_txn| {
        Ok::<_, sea_orm::DbErr>(((), vec![row]))
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .json(json!({ "event_id": event_id, "step_number": step_number, "actor": actor })))
}
