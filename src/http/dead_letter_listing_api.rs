//! GET /v1/dead-letters (operator): dead letters newest first, filtered, one page at a time.
//!
//! Parameters (each optional; any other is a 400):
//! - `status`: pending (default) | replayed | discarded | all
//! - `role`: the role that gave up (intake, triage, ...)
//! - `error_class`: permanent | infrastructure | transient
//! - `tenant`: exact tenant id
//! - `reason`: a substring of the reason, in any case
//! - `limit`: 1 to 200 (default 100)
//! - `cursor`: the `next_cursor` of the previous page
//!
//! Answers `{"dead_letters": [...], "next_cursor": "..." | null}`.

use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::cursor;
use super::dead_letters_api::{refuse_unless_operator, unavailable};
use super::error_body::ErrorBody;
use super::params::{ParamError, ParamRefusal, Params};
use super::HttpState;
use crate::handler::failure::ErrorClass;
use crate::model::RoleName;
use crate::store::dead_letter_listing::{self, DeadLetterFilter};
use crate::store::dead_letters::{DeadLetterView, DISCARDED, PENDING, REPLAYED};

const PARAMETERS: [&str; 7] = [
    "status",
    "role",
    "error_class",
    "tenant",
    "reason",
    "limit",
    "cursor",
];

/// The filters shared with the bulk actions.
pub(crate) const FILTERS: [&str; 5] = ["status", "role", "error_class", "tenant", "reason"];

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 200;
const ALL_STATUSES: &str = "all";
/// The values of `status` in a listing.
const LISTED_STATUSES: [&str; 4] = [PENDING, REPLAYED, DISCARDED, ALL_STATUSES];

// The parameters as the OpenAPI document describes them (each optional; an empty value is the
// same as none). The handler reads the query string with `Params`, which refuses any name not
// in `PARAMETERS`; a test keeps the two lists equal.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeadLetterQuery {
    /// pending (the default), replayed, discarded or all.
    #[param(schema_with = status_schema)]
    status: Option<String>,
    /// The role that gave up.
    role: Option<RoleName>,
    error_class: Option<ErrorClass>,
    /// Exact tenant id.
    tenant: Option<String>,
    /// A substring of the reason, in any case.
    reason: Option<String>,
    #[param(minimum = 1, maximum = 200, default = 100)]
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 2048)]
    cursor: Option<String>,
}

fn status_schema() -> utoipa::openapi::schema::Object {
    crate::api_schema::one_of(&LISTED_STATUSES)
}

/// A page of dead letters, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetterView>,
    /// Pass it as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Where the next page starts: below this id.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Before {
    dead_letter_below: i64,
}

/// Dead letters newest first, filtered, one page at a time (the operator key).
#[utoipa::path(
    operation_id = "list_dead_letters",
    tag = "dead-letters",
    params(DeadLetterQuery),
    responses(
        (status = 200, description = "A page of dead letters", body = DeadLetterPage),
        (status = 400, description = "An unknown, repeated or invalid parameter", body = ParamRefusal),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[get("/dead-letters")]
pub async fn list(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    let (filter, before, limit) = match listing_of(request.query_string()) {
        Ok(listing) => listing,
        Err(refused) => return refused.error_response(),
    };
    match dead_letter_listing::list(&state.runtime.db, &filter, before, limit).await {
        Ok(page) => HttpResponse::Ok().json(DeadLetterPage {
            dead_letters: page.letters,
            next_cursor: page.next.map(cursor_below),
        }),
        Err(error) => unavailable(error),
    }
}

/// The cursor of the page below dead letter `id`.
pub(crate) fn cursor_below(id: i64) -> String {
    cursor::encode(&Before {
        dead_letter_below: id,
    })
}

pub(crate) fn listing_of(query: &str) -> Result<(DeadLetterFilter, Option<i64>, u64), ParamError> {
    let params = Params::from_query(query, &PARAMETERS)?;
    let status = params
        .one_of("status", &LISTED_STATUSES)?
        .unwrap_or(PENDING);
    let filter = DeadLetterFilter {
        status: (status != ALL_STATUSES).then(|| status.to_owned()),
        ..filter_of(&params)?
    };
    let before = params
        .text(cursor::PARAMETER)
        .map(cursor::decode::<Before>)
        .transpose()?
        .map(|before| before.dead_letter_below);
    let limit = params.limit("limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok((filter, before, limit))
}

/// The filters but `status` (which the listing and the bulk actions read differently).
pub(crate) fn filter_of(params: &Params) -> Result<DeadLetterFilter, ParamError> {
    let roles = RoleName::ALL.map(RoleName::as_str);
    let classes = ErrorClass::ALL.map(ErrorClass::as_str);
    Ok(DeadLetterFilter {
        status: None,
        role: params.one_of("role", &roles)?.map(str::to_owned),
        error_class: params.one_of("error_class", &classes)?.map(str::to_owned),
        tenant_id: params.text("tenant").map(str::to_owned),
        reason_contains: params.text("reason").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;

    use super::*;

    #[test]
    fn the_document_names_exactly_the_parameters_read() {
        let parameters = DeadLetterQuery::into_params(|| None);
        let documented: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(documented, PARAMETERS);
        let limit = parameters
            .iter()
            .find(|parameter| parameter.name == "limit")
            .map(|parameter| serde_json::to_value(&parameter.schema).expect("a schema"))
            .expect("limit is documented");
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["default"], DEFAULT_LIMIT);
    }
}
