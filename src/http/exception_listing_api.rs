//! GET /v1/exceptions: the caller's exceptions, filtered, one page at a time. A tenant key lists
//! its own tenant; the operator key lists one tenant (`tenant=`) or every tenant.
//!
//! Parameters (each optional; any other is a 400):
//! - `status`: open | analyzing | in_progress | resolved | escalated
//! - `severity`: LOW | MEDIUM | HIGH | CRITICAL
//! - `exception_type`: exact match
//! - `sla`: breached (flagged breached) | imminent (flagged imminent, not breached, not resolved)
//! - `created_after`, `updated_after` (inclusive), `created_before`, `updated_before`
//!   (exclusive): RFC 3339
//! - `q`: a substring of the exception id, in any case (`%` and `_` match themselves)
//! - `sort`: created (default: newest first) | sla_deadline (soonest first, none last)
//! - `limit`: 1 to 200 (default 50)
//! - `cursor`: the `next_cursor` of the previous page (same `sort`, same tenant)
//! - `tenant`: the operator's choice of tenant; a tenant key may name only its own
//!
//! Answers `{"items": [...], "next_cursor": "..." | null}`, items in the summary shape of
//! GET /v1/exceptions/{id}.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::auth::{forbidden, Caller};
use super::cursor;
use super::params::{ParamError, Params};
use super::HttpState;
use crate::model::{ExceptionStatus, Severity};
use crate::store::exception_listing::{self, ExceptionFilter, Order, Position, Scope, SlaState};

const PARAMETERS: [&str; 13] = [
    "tenant",
    "status",
    "severity",
    "exception_type",
    "sla",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "q",
    "sort",
    "limit",
    "cursor",
];

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;
/// Exception ids are at most 128 bytes, so a longer `q` could match nothing.
const MAX_Q_BYTES: usize = 128;

const SORTS: [&str; 2] = ["created", "sla_deadline"];
const SLA_STATES: [&str; 2] = ["breached", "imminent"];

/// Why a listing request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("a tenant key lists its own tenant's exceptions only")]
    OtherTenant,
}

impl Refusal {
    pub(crate) fn response(&self) -> HttpResponse {
        match self {
            Refusal::Param(refused) => refused.error_response(),
            Refusal::OtherTenant => forbidden(&self.to_string()),
        }
    }
}

/// What one request asks for.
pub(crate) struct Listing {
    pub(crate) scope: Scope,
    pub(crate) filter: ExceptionFilter,
    pub(crate) order: Order,
    pub(crate) limit: u64,
}

pub async fn list(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let listing = match listing_of(request.query_string(), &caller, &state) {
        Ok(listing) => listing,
        Err(refused) => return refused.response(),
    };
    let page = exception_listing::list(
        &state.db,
        &listing.scope,
        &listing.filter,
        &listing.order,
        listing.limit,
    )
    .await;
    match page {
        Ok(page) => HttpResponse::Ok().json(json!({
            "items": page.items,
            "next_cursor": page.next.as_ref().map(cursor::encode),
        })),
        Err(error) => {
            tracing::warn!(%error, "Failed to list exceptions.");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the exceptions could not be read; retry" }))
        }
    }
}

pub(crate) fn listing_of(
    query: &str,
    caller: &Caller,
    state: &HttpState,
) -> Result<Listing, Refusal> {
    let params = Params::from_query(query, &PARAMETERS)?;
    let scope = scope_of(caller, &params, state)?;
    Ok(Listing {
        filter: filter_of(&params)?,
        order: order_of(&params, &scope)?,
        limit: params.limit("limit", DEFAULT_LIMIT, MAX_LIMIT)?,
        scope,
    })
}

/// Whose exceptions the caller lists.
fn scope_of(caller: &Caller, params: &Params, state: &HttpState) -> Result<Scope, Refusal> {
    let named = params.text("tenant");
    match caller {
        Caller::Tenant(own) => match named {
            Some(other) if other != own => Err(Refusal::OtherTenant),
            _ => Ok(Scope::Tenant(own.clone())),
        },
        Caller::Operator => match named {
            None => Ok(Scope::AllTenants),
            Some(tenant) if state.packs.tenant(tenant).is_some() => {
                Ok(Scope::Tenant(tenant.to_owned()))
            }
            Some(tenant) => {
                let known: Vec<&str> = state.packs.tenant_ids().collect();
                Err(ParamError::invalid("tenant", tenant, known.join(", ")).into())
            }
        },
    }
}

fn filter_of(params: &Params) -> Result<ExceptionFilter, ParamError> {
    let statuses = ExceptionStatus::ALL.map(ExceptionStatus::as_str);
    let severities = Severity::ALL.map(Severity::as_str);
    let sla = match params.one_of("sla", &SLA_STATES)? {
        Some("breached") => Some(SlaState::Breached),
        Some(_) => Some(SlaState::Imminent),
        None => None,
    };
    let id_contains = params.text("q").map(str::to_owned);
    if let Some(q) = id_contains.as_deref().filter(|q| q.len() > MAX_Q_BYTES) {
        return Err(ParamError::invalid(
            "q",
            q,
            format!("up to {MAX_Q_BYTES} bytes of an exception id"),
        ));
    }
    Ok(ExceptionFilter {
        status: params.parsed("status", &statuses)?,
        severity: params.parsed("severity", &severities)?,
        exception_type: params.text("exception_type").map(str::to_owned),
        sla,
        created_after: params.time("created_after")?,
        created_before: params.time("created_before")?,
        updated_after: params.time("updated_after")?,
        updated_before: params.time("updated_before")?,
        id_contains,
    })
}

/// The order `sort` names, from the position of `cursor` (which must be of that order and,
/// within a tenant, of that tenant).
fn order_of(params: &Params, scope: &Scope) -> Result<Order, ParamError> {
    let sort = params.one_of("sort", &SORTS)?.unwrap_or("created");
    let Some(text) = params.text(cursor::PARAMETER) else {
        return Ok(match sort {
            "created" => Order::Created(None),
            _ => Order::SlaDeadline(None),
        });
    };
    let position: Position = cursor::decode(text)?;
    if let Scope::Tenant(tenant_id) = scope {
        if position.tenant_id() != tenant_id {
            return Err(cursor::refused(text));
        }
    }
    match (sort, position) {
        ("created", Position::Created(key)) => Ok(Order::Created(Some(key))),
        ("sla_deadline", Position::SlaDeadline(key)) => Ok(Order::SlaDeadline(Some(key))),
        _ => Err(cursor::refused(text)),
    }
}
