//! POST /v1/dead-letters/replay and POST /v1/dead-letters/discard (operator): act on every
//! pending dead letter a filter chooses. The JSON body holds the filters of GET /v1/dead-letters
//! (`role`, `error_class`, `tenant`, `reason`; `status`, if given, must be `pending`) and
//! `dry_run` (true | false, required): a dry run answers how many letters the action would
//! take, a real run acts and answers how many it took: `{"action", "dry_run", "count"}`.
//! Each letter is acted on in its own transaction, so a run cut short (the client gone, the
//! database failing: a 503 with the count done) leaves the rest pending for the next run.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::auth::Caller;
use super::dead_letter_listing_api::{filter_of, FILTERS};
use super::dead_letters_api::{refuse_unless_operator, unavailable};
use super::params::{ParamError, Params};
use super::HttpState;
use crate::dead_letter_bulk::{self, BulkError};
use crate::store::dead_letter_listing::DeadLetterFilter;
use crate::store::dead_letters::PENDING;

/// The largest body read: a handful of short filters.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Replay,
    Discard,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Replay => "replay",
            Action::Discard => "discard",
        }
    }
}

pub async fn replay(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    act(Action::Replay, request, caller, payload, state).await
}

pub async fn discard(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    act(Action::Discard, request, caller, payload, state).await
}

async fn act(
    action: Action,
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    let body = match state.bodies.read(&request, payload, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(refused) => return refused.error_response(),
    };
    let (filter, dry_run) = match request_of(&body) {
        Ok(request) => request,
        Err(refused) => return refused.error_response(),
    };
    if dry_run {
        return match dead_letter_bulk::count(&state.db, &filter).await {
            Ok(count) => answer(action, true, count),
            Err(error) => unavailable(error),
        };
    }
    let now = state.clock.now();
    let done = match action {
        Action::Replay => {
            dead_letter_bulk::replay(&state.db, state.bus.as_ref(), &filter, now).await
        }
        Action::Discard => dead_letter_bulk::discard(&state.db, &filter, now).await,
    };
    match done {
        Ok(count) => {
            tracing::info!(
                action = action.as_str(),
                count,
                ?filter,
                "Bulk dead-letter action."
            );
            answer(action, false, count)
        }
        Err(BulkError { done, source }) => {
            tracing::warn!(action = action.as_str(), done, error = %source, "Bulk dead-letter action stopped.");
            HttpResponse::ServiceUnavailable().json(json!({
                "error": "the database failed part way; the count says how many were done; retry",
                "action": action.as_str(),
                "dry_run": false,
                "count": done,
            }))
        }
    }
}

fn answer(action: Action, dry_run: bool, count: u64) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "action": action.as_str(),
        "dry_run": dry_run,
        "count": count,
    }))
}

/// The filter and the dry-run flag of a body.
fn request_of(body: &[u8]) -> Result<(DeadLetterFilter, bool), ParamError> {
    let mut allowed = FILTERS.to_vec();
    allowed.push("dry_run");
    let params = Params::from_json(body, &allowed)?;
    params.one_of("status", &[PENDING])?;
    Ok((filter_of(&params)?, params.required_flag("dry_run")?))
}
