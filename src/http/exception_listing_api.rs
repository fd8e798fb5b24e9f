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

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{forbidden, Caller};
use super::cursor;
use super::error_body::ErrorBody;
use super::params::{ParamError, ParamRefusal, Params};
use super::HttpState;
use crate::model::{ExceptionStatus, Severity};
use crate::store::exception_listing::{
    self, ExceptionFilter, Order, Page, Position, Scope, SlaState,
};
use crate::store::exception_summary::ExceptionSummary;

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

// The parameters as the OpenAPI document describes them (each optional; an empty value is the
// same as none). The handler reads the query string with `Params`, which refuses any name not
// in `PARAMETERS`; a test keeps the two lists equal.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExceptionQuery {
    /// The operator's choice of tenant (all when not given); a tenant key may name only its own.
    tenant: Option<String>,
    status: Option<ExceptionStatus>,
    severity: Option<Severity>,
    /// Exact match.
    exception_type: Option<String>,
    /// breached: flagged breached; imminent: flagged imminent, not breached, not resolved.
    #[param(schema_with = sla_schema)]
    sla: Option<String>,
    /// Inclusive.
    created_after: Option<DateTime<Utc>>,
    /// Exclusive.
    created_before: Option<DateTime<Utc>>,
    /// Inclusive.
    updated_after: Option<DateTime<Utc>>,
    /// Exclusive.
    updated_before: Option<DateTime<Utc>>,
    /// A substring of the exception id, in any case (`%` and `_` match themselves).
    #[param(max_length = 128)]
    q: Option<String>,
    /// created: newest first (the default); sla_deadline: soonest first, none last.
    #[param(schema_with = sort_schema)]
    sort: Option<String>,
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the previous page (same `sort`, same tenant).
    #[param(max_length = 2048)]
    cursor: Option<String>,
}

fn sla_schema() -> utoipa::openapi::schema::Object {
    crate::api_schema::one_of(&SLA_STATES)
}

fn sort_schema() -> utoipa::openapi::schema::Object {
    crate::api_schema::one_of(&SORTS)
}

/// A page of exceptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionPage {
    pub items: Vec<ExceptionSummary>,
    /// Pass it as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

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

impl Listing {
    /// The page this request asks for.
    pub(crate) async fn page(&self, db: &DatabaseConnection) -> Result<Page, DbErr> {
        exception_listing::list(db, &self.scope, &self.filter, &self.order, self.limit).await
    }
}

/// The caller's exceptions, filtered, one page at a time: a tenant key lists its own tenant, the
/// operator key one tenant (`tenant=`) or every tenant.
#[utoipa::path(
    operation_id = "list_exceptions",
    tag = "exceptions",
    params(ExceptionQuery),
    responses(
        (status = 200, description = "A page of exceptions", body = ExceptionPage),
        (status = 400, description = "An unknown, repeated or invalid parameter", body = ParamRefusal),
        (status = 403, description = "A tenant key naming another tenant", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[get("/exceptions")]
pub async fn list(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let listing = match listing_of(request.query_string(), &caller, &state) {
        Ok(listing) => listing,
        Err(refused) => return refused.response(),
    };
    match listing.page(&state.runtime.db).await {
        Ok(page) => HttpResponse::Ok().json(ExceptionPage {
            next_cursor: page.next.as_ref().map(cursor::encode),
            items: page.items,
        }),
        Err(error) => {
            tracing::warn!(%error, "Failed to list exceptions.");
            ErrorBody::answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the exceptions could not be read; retry",
            )
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
            Some(tenant) if state.runtime.packs.tenant(tenant).is_some() => {
                Ok(Scope::Tenant(tenant.to_owned()))
            }
            Some(tenant) => {
                let known: Vec<&str> = state.runtime.packs.tenant_ids().collect();
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

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;

    use super::*;

    #[test]
    fn the_document_names_exactly_the_parameters_read() {
        let documented: Vec<String> = ExceptionQuery::into_params(|| None)
            .into_iter()
            .map(|parameter| parameter.name)
            .collect();
        assert_eq!(documented, PARAMETERS.map(str::to_owned));
    }

    #[test]
    fn the_documented_bounds_are_the_ones_enforced() {
        let schema = |name: &str| {
            let parameter = ExceptionQuery::into_params(|| None)
                .into_iter()
                .find(|parameter| parameter.name == name)
                .expect("a documented parameter");
            serde_json::to_value(parameter.schema).expect("a schema")
        };
        let limit = schema("limit");
        assert_eq!(limit["minimum"], 1);
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["default"], DEFAULT_LIMIT);
        assert_eq!(schema("q")["maxLength"], MAX_Q_BYTES);
        assert_eq!(schema("sort")["enum"], serde_json::json!(SORTS));
        assert_eq!(schema("sla")["enum"], serde_json::json!(SLA_STATES));
    }
}
