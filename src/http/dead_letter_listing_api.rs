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

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::cursor;
use super::dead_letters_api::{refuse_unless_operator, unavailable};
use super::params::{ParamError, Params};
use super::HttpState;
use crate::handler::failure::ErrorClass;
use crate::model::RoleName;
use crate::store::dead_letter_listing::{self, DeadLetterFilter};
use crate::store::dead_letters::{DISCARDED, PENDING, REPLAYED};

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

/// Where the next page starts: below this id.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Before {
    dead_letter_below: i64,
}

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
    match dead_letter_listing::list(&state.db, &filter, before, limit).await {
        Ok(page) => HttpResponse::Ok().json(json!({
            "dead_letters": page.letters,
            "next_cursor": page.next.map(cursor_below),
        })),
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
        .one_of("status", &[PENDING, REPLAYED, DISCARDED, ALL_STATUSES])?
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
