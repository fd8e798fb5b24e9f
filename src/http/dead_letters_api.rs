//! The operator API for one dead letter, behind the operator key (OPERATOR_API_KEY_SHA256):
//! GET /v1/dead-letters/{id} and POST /v1/dead-letters/{id}/replay; and the operator check
//! every dead-letter route makes. The listing and the bulk actions have modules of their own.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::Caller;
use super::HttpState;
use crate::replay::replay_dead_letter;
use crate::store::replay::{self, ReplayError};

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
    HttpResponse::ServiceUnavailable()
        .json(json!({ "error": "the dead letters could not be read; retry" }))
}

pub async fn show(
    caller: Caller,
    path: web::Path<i64>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    match replay::show(&state.db, path.into_inner()).await {
        Ok(Some(letter)) => HttpResponse::Ok().json(letter),
        Ok(None) => HttpResponse::NotFound().json(json!({ "error": "dead letter not found" })),
        Err(error) => unavailable(error),
    }
}

pub async fn replay(
    caller: Caller,
    path: web::Path<i64>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    let id = path.into_inner();
    match replay_dead_letter(&state.db, state.bus.as_ref(), id, state.clock.now()).await {
        Ok(_) => HttpResponse::Accepted().json(json!({ "replayed": id })),
        Err(ReplayError::NotFound(_)) => {
            HttpResponse::NotFound().json(json!({ "error": "dead letter not found" }))
        }
        Err(error @ ReplayError::NotPending { .. }) => {
            HttpResponse::Conflict().json(json!({ "error": error.to_string() }))
        }
        Err(ReplayError::Database(error)) => unavailable(error),
    }
}
