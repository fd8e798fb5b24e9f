//! POST /v1/dead-letters/replay and POST /v1/dead-letters/discard (operator): act on every
//! pending dead letter a filter chooses. The JSON body holds the filters of GET /v1/dead-letters
//! (`role`, `error_class`, `tenant`, `reason`; `status`, if given, must be `pending`) and
//! `dry_run` (true | false, required): a dry run answers how many letters the action would
//! take, a real run acts and answers how many it took: `{"action", "dry_run", "count"}`.
//! Each letter is acted on in its own transaction, so a run cut short (the client gone, the
//! database failing: a 503 with the count done) leaves the rest pending for the next run.

use actix_web::{post, web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::dead_letter_listing_api::{filter_of, FILTERS};
use super::dead_letters_api::{refuse_unless_operator, unavailable};
use super::error_body::ErrorBody;
use super::params::{JsonKind, ParamError, ParamRefusal, Params};
use super::HttpState;
use crate::dead_letter_bulk::{self, BulkError};
use crate::handler::failure::ErrorClass;
use crate::model::RoleName;
use crate::store::dead_letter_listing::DeadLetterFilter;
use crate::store::dead_letters::PENDING;

/// The largest body read: a handful of short filters.
const MAX_BODY_BYTES: usize = 16 * 1024;

// The body as the OpenAPI document describes it. The handler reads it with `Params`, which
// refuses any other field; a test keeps the two lists equal.
/// The filters of GET /v1/dead-letters (unknown fields are refused, so a misspelt filter never
/// widens the action) and `dry_run`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BulkRequest {
    /// Only pending letters are acted on: `pending` if given.
    #[schema(schema_with = pending_schema)]
    status: Option<String>,
    /// The role that gave up.
    role: Option<RoleName>,
    error_class: Option<ErrorClass>,
    /// Exact tenant id.
    tenant: Option<String>,
    /// A substring of the reason, in any case.
    reason: Option<String>,
    /// true: count the letters the action would take; false: act.
    dry_run: bool,
}

fn pending_schema() -> utoipa::openapi::schema::Object {
    crate::api_schema::optional_one_of(&[PENDING])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Replay,
    Discard,
}

/// What a bulk action did (or, as a dry run, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOutcome {
    pub action: Action,
    pub dry_run: bool,
    /// Letters counted (dry run) or acted on.
    pub count: u64,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Replay => "replay",
            Action::Discard => "discard",
        }
    }
}

/// The 503 of a real run the database stopped part way: the error body, plus how far it got.
#[derive(Debug, Serialize)]
struct BulkStopped {
    error: String,
    action: Action,
    dry_run: bool,
    /// Letters acted on before the failure; the rest are still pending.
    count: u64,
}

/// Replay every pending dead letter the filters choose (the operator key).
#[utoipa::path(
    operation_id = "replay_dead_letters",
    tag = "dead-letters",
    request_body(content = BulkRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Counted (dry run) or replayed", body = BulkOutcome),
        (status = 400, description = "An unknown field, an invalid value, or no `dry_run`", body = ParamRefusal),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time; the connection is closed", body = ErrorBody),
        (status = 413, description = "The body is over 16 KiB; the connection is closed", body = ErrorBody),
        (status = 503, description = "Too many bodies being read (Retry-After), or the database failed; a real run \
            the database stopped part way also answers `action`, `dry_run` and `count` (how many were done); retry",
            body = ErrorBody),
    )
)]
#[post("/dead-letters/replay")]
pub async fn replay(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    act(Action::Replay, request, caller, payload, state).await
}

/// Discard every pending dead letter the filters choose (the operator key).
#[utoipa::path(
    operation_id = "discard_dead_letters",
    tag = "dead-letters",
    request_body(content = BulkRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Counted (dry run) or discarded", body = BulkOutcome),
        (status = 400, description = "An unknown field, an invalid value, or no `dry_run`", body = ParamRefusal),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time; the connection is closed", body = ErrorBody),
        (status = 413, description = "The body is over 16 KiB; the connection is closed", body = ErrorBody),
        (status = 503, description = "Too many bodies being read (Retry-After), or the database failed; a real run \
            the database stopped part way also answers `action`, `dry_run` and `count` (how many were done); retry",
            body = ErrorBody),
    )
)]
#[post("/dead-letters/discard")]
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
        return match dead_letter_bulk::count(&state.runtime.db, &filter).await {
            Ok(count) => answer(action, true, count),
            Err(error) => unavailable(error),
        };
    }
    let now = state.runtime.clock.now();
    let done = match action {
        Action::Replay => {
            dead_letter_bulk::replay(&state.runtime.db, state.runtime.bus.as_ref(), &filter, now)
                .await
        }
        Action::Discard => dead_letter_bulk::discard(&state.runtime.db, &filter, now).await,
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
            HttpResponse::ServiceUnavailable().json(BulkStopped {
                error: "the database failed part way; the count says how many were done; retry"
                    .to_owned(),
                action,
                dry_run: false,
                count: done,
            })
        }
    }
}

fn answer(action: Action, dry_run: bool, count: u64) -> HttpResponse {
    HttpResponse::Ok().json(BulkOutcome {
        action,
        dry_run,
        count,
    })
}

/// The filter and the dry-run flag of a body.
fn request_of(body: &[u8]) -> Result<(DeadLetterFilter, bool), ParamError> {
    let mut fields: Vec<(&str, JsonKind)> = FILTERS
        .iter()
        .map(|filter| (*filter, JsonKind::String))
        .collect();
    fields.push(("dry_run", JsonKind::Bool));
    let params = Params::from_json(body, &fields)?;
    params.one_of("status", &[PENDING])?;
    Ok((filter_of(&params)?, params.required_flag("dry_run")?))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_document_names_exactly_the_fields_read() {
        let schema = serde_json::to_value(BulkRequest::schema()).expect("a schema");
        let documented: BTreeSet<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut read: BTreeSet<&str> = FILTERS.into_iter().collect();
        read.insert("dry_run");
        assert_eq!(documented, read);
        assert_eq!(schema["required"], serde_json::json!(["dry_run"]));
        assert_eq!(schema["additionalProperties"], false);
    }
}
