//! The operator API for dead letters, behind the operator key (OPERATOR_API_KEY_SHA256):
//! GET /v1/dead-letters, GET /v1/dead-letters/{id}, POST /v1/dead-letters/{id}/replay.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::HttpState;
use crate::replay::replay_dead_letter;
use crate::store::dead_letters;
use crate::store::replay::{self, ReplayError};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// pending (default), replayed, discarded or all.
    pub status: Option<String>,
    pub limit: Option<u64>,
}

/// None for the operator; the refusal for anyone else.
fn refuse_unless_operator(caller: &Caller, state: &HttpState) -> Option<HttpResponse> {
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

fn unavailable(error: impl std::fmt::Display) -> HttpResponse {
    tracing::warn!(%error, "Dead-letter request failed.");
    HttpResponse::ServiceUnavailable()
        .json(json!({ "error": "the dead letters could not be read; retry" }))
}

pub async fn list(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    let status = query
        .status
        .clone()
        .unwrap_or_else(|| dead_letters::PENDING.to_owned());
    let status = (status != "all").then_some(status);
    let limit = query.limit.unwrap_or(100).min(1000);
    match dead_letters::list_with_status(&state.db, status.as_deref(), limit).await {
        Ok(letters) => HttpResponse::Ok().json(json!({ "dead_letters": letters })),
        Err(error) => unavailable(error),
    }
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
