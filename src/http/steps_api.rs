//! POST /v1/exceptions/{id}/steps/{n}/complete: a person completes (or approves) the step a
//! playbook run waits on. Only the current step, waiting for a person, can be completed (409
//! otherwise); `step_completion` holds the rules, shared with the web console.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::json;

use super::auth::{forbidden, Caller};
use super::HttpState;
use crate::step_completion::{request_completion, CompletionOutcome, StepCompletion};

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
    let completion = StepCompletion {
        tenant_id: tenant_id.to_owned(),
        exception_id,
        step_number,
        actor,
        comment: completion.comment,
    };
    match request_completion(
        &state.db,
        state.bus.as_ref(),
        state.clock.now(),
        &completion,
    )
    .await
    {
        Ok(CompletionOutcome::Requested { event_id }) => HttpResponse::Accepted().json(json!({
            "event_id": event_id,
            "step_number": completion.step_number,
            "actor": completion.actor,
        })),
        Ok(CompletionOutcome::NotFound) => {
            HttpResponse::NotFound().json(json!({ "error": "exception not found" }))
        }
        Ok(CompletionOutcome::NotWaiting {
            current_step,
            current_status,
        }) => HttpResponse::Conflict().json(json!({
            "error": format!("step {step_number} is not the step waiting for a person"),
            "current_step": current_step,
            "current_status": current_status,
        })),
        Err(error) => {
            tracing::warn!(%error, "Failed to record a step completion.");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the completion could not be stored; retry" }))
        }
    }
}
