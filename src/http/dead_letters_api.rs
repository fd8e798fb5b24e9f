//! The operator API for one dead letter, behind the operator key (OPERATOR_API_KEY_SHA256):
//! GET /v1/dead-letters/{id} and POST /v1/dead-letters/{id}/replay; and the operator check
//! every dead-letter route makes. The listing and the bulk actions have modules of their own.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error_body::ErrorBody;
use super::HttpState;
use crate::replay::replay_dead_letter;
use crate::store::dead_letters::DeadLetterRecord;
use crate::store::replay::{self as replay_store, ReplayError};

/// None for the operator; the refusal for anyone else.
pub(super) fn refuse_unless_operator(caller: &Caller, state: &HttpState) -> Option<HttpResponse> {
    if *caller == Caller::Operator {
        return None;
    }
    let reason = if state.operator_key_sha256.is_some() {
        "the operator API key is required"
    } else {
        "the operator API is disabled (set OPERATOR_API_KEY_SHA256)"
    };
    Some(super::auth::forbidden(reason))
}

pub(super) fn unavailable(error: impl std::fmt::Display) -> HttpResponse {
    tracing::warn!(%error, "Dead-letter request failed.");
    ErrorBody::answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "the dead letters could not be read; retry",
    )
}

fn not_found() -> HttpResponse {
    ErrorBody::answer(StatusCode::NOT_FOUND, "dead letter not found")
}

/// The answer to a replay: the dead letter whose original event was re-published.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: i64,
}

/// One dead letter with its original message (the operator key).
#[utoipa::path(
    operation_id = "show_dead_letter",
    tag = "dead-letters",
    params(("id" = i64, Path, description = "The dead letter's id")),
    responses(
        (status = 200, description = "The dead letter", body = DeadLetterRecord),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 404, description = "No such dead letter (or the id is not an integer)", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[get("/dead-letters/{id}")]
pub async fn show(
    caller: Caller,
    path: web::Path<i64>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    match replay_store::show(&state.runtime.db, path.into_inner()).await {
        Ok(Some(letter)) => HttpResponse::Ok().json(DeadLetterRecord::from(letter)),
        Ok(None) => not_found(),
        Err(error) => unavailable(error),
    }
}

/// Re-publish a pending dead letter's original event (the operator key).
#[utoipa::path(
    operation_id = "replay_dead_letter",
    tag = "dead-letters",
    params(("id" = i64, Path, description = "The dead letter's id")),
    responses(
        (status = 202, description = "Re-published", body = Replayed),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 404, description = "No such dead letter (or the id is not an integer)", body = ErrorBody),
        (status = 409, description = "The dead letter was already replayed or discarded", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[post("/dead-letters/{id}/replay")]
pub async fn replay(
    caller: Caller,
    path: web::Path<i64>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    let id = path.into_inner();
    match replay_dead_letter(
        &state.runtime.db,
        state.runtime.bus.as_ref(),
        id,
        state.runtime.clock.now(),
    )
    .await
    {
        Ok(_) => HttpResponse::Accepted().json(Replayed { replayed: id }),
        Err(ReplayError::NotFound(_)) => not_found(),
        Err(error @ ReplayError::NotPending { .. }) => {
            ErrorBody::answer(StatusCode::CONFLICT, error.to_string())
        }
        Err(ReplayError::Database(error)) => unavailable(error),
    }
}
