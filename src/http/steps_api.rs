//! POST /v1/exceptions/{id}/steps/{n}/complete: a person completes (or approves) the step a
//! playbook run waits on. Only the current step, waiting for a person, can be completed (409
//! otherwise); `step_completion` holds the rules, shared with the web console.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{forbidden, Caller};
use super::error_body::ErrorBody;
use super::HttpState;
use crate::step_completion::{request_completion, CompletionOutcome, StepCompletion};

/// The body of a completion: optional (none, or `null`, takes the defaults), as are its
/// fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    /// Who completes the step (recorded on the step, at most 200 characters; blank or longer
    /// is replaced by `api-key:<tenant>`).
    pub actor: Option<String>,
    pub comment: Option<String>,
}

/// A completion stored: the PlaybookStepCompletionRequested event the playbook role will take.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionAccepted {
    pub event_id: String,
    pub step_number: i32,
    pub actor: String,
}

/// Step `n` is not the step waiting for a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepConflict {
    pub error: String,
    /// The step the run is at; null when every step is completed or the run has none.
    pub current_step: Option<i32>,
    pub current_status: Option<String>,
}

/// The largest completion body read: an actor and a comment.
const MAX_COMPLETION_BODY_BYTES: usize = 16 * 1024;

/// A person completes (or approves) the step a playbook run waits on (a tenant key).
#[utoipa::path(
    operation_id = "complete_step",
    tag = "exceptions",
    params(
        ("exception_id" = String, Path, description = "The exception's id"),
        ("step_number" = i32, Path, description = "The step waiting for a person"),
    ),
    request_body(content = Option<CompletionBody>, content_type = "application/json",
        description = "Optional; at most 16 KiB"),
    responses(
        (status = 202, description = "Stored; the playbook role carries on from there", body = CompletionAccepted),
        (status = 400, description = "The body is not JSON or has other fields", body = ErrorBody),
        (status = 403, description = "The operator key: this route needs a tenant key", body = ErrorBody),
        (status = 404, description = "No such exception for this tenant (or the step number is not an integer)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time; the connection is closed", body = ErrorBody),
        (status = 409, description = "The step is not the one waiting for a person", body = StepConflict),
        (status = 413, description = "The body is over 16 KiB; the connection is closed", body = ErrorBody),
        (status = 503, description = "Too many bodies being read (Retry-After), or the database did not take the write; retry",
            body = ErrorBody),
    )
)]
#[post("/exceptions/{exception_id}/steps/{step_number}/complete")]
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
    // No body, or `null`, completes with the defaults.
    let completion: CompletionBody = if body.is_empty() {
        CompletionBody::default()
    } else {
        match serde_json::from_slice::<Option<CompletionBody>>(&body) {
            Ok(completion) => completion.unwrap_or_default(),
            Err(error) => {
                return ErrorBody::answer(StatusCode::BAD_REQUEST, format!("bad body: {error}"))
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
    match request_completion(&state.runtime, &completion).await {
        Ok(CompletionOutcome::Requested { event_id }) => {
            HttpResponse::Accepted().json(CompletionAccepted {
                event_id,
                step_number,
                actor: completion.actor,
            })
        }
        Ok(CompletionOutcome::NotFound) => {
            ErrorBody::answer(StatusCode::NOT_FOUND, "exception not found")
        }
        Ok(CompletionOutcome::NotWaiting {
            current_step,
            current_status,
        }) => HttpResponse::Conflict().json(StepConflict {
            error: format!("step {step_number} is not the step waiting for a person"),
            current_step,
            current_status,
        }),
        Err(error) => {
            tracing::warn!(%error, "Failed to record a step completion.");
            ErrorBody::answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the completion could not be stored; retry",
            )
        }
    }
}
