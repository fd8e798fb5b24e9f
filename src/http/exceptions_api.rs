//! POST /v1/exceptions (ingest one raw exception) and GET /v1/exceptions/{id} (its summary,
//! steps and timeline, to its own tenant only).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{forbidden, Caller};
use super::error_body::ErrorBody;
use super::HttpState;
use crate::ingest::{self, Accepted};
use crate::store::exception_summary::ExceptionSummary;
use crate::store::timeline::TimelineEntry;
use crate::store::{exceptions, steps, timeline};

/// Timeline entries returned at most.
const TIMELINE_LIMIT: u64 = 500;

const NEEDS_TENANT: &str = "this route needs a tenant API key";

/// The largest body POST /v1/exceptions reads: the raw exception's limit, plus room for
/// whitespace, so an oversized exception gets the precise reason from `ingest::prepare`.
const MAX_SUBMIT_BODY_BYTES: usize = ingest::MAX_RAW_EXCEPTION_BYTES + 1024;

// Only describes the body in the OpenAPI document: the handler reads the bytes
// (`ingest::prepare`).
/// A raw exception as its source system sends it: a JSON object of at most 256 KiB and 100
/// levels of nesting, whose fields intake's rules read. PII keys are redacted before anything is
/// stored.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RawException {
    /// The exception's id (or `exception_id`); derived from the event id when neither is given.
    /// Surrounding whitespace is trimmed.
    #[serde(rename = "exceptionId")]
    #[schema(max_length = 128, pattern = r"^\s*[^\s/\x00-\x1f\x7f-\x9f]+\s*$")]
    exception_id_camel: Option<String>,
    /// The same as `exceptionId` (which wins when both are given).
    #[schema(max_length = 128, pattern = r"^\s*[^\s/\x00-\x1f\x7f-\x9f]+\s*$")]
    exception_id: Option<String>,
    /// Any other fields of the source system.
    #[serde(flatten)]
    fields: BTreeMap<String, serde_json::Value>,
}

/// A step of the exception's playbook run.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub step_number: i32,
    pub action: String,
    /// pending, waiting_tool, waiting_person, completed or failed.
    pub status: String,
    pub actor: Option<String>,
    pub execution_id: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<&entity::playbook_steps::Model> for StepView {
    fn from(step: &entity::playbook_steps::Model) -> Self {
        Self {
            step_number: step.step_number,
            action: step.action.clone(),
            status: step.status.clone(),
            actor: step.actor.clone(),
            execution_id: step.execution_id.clone(),
            completed_at: step.completed_at,
        }
    }
}

/// An exception through intake: its summary, its playbook steps and its timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionDetail {
    #[serde(flatten)]
    pub summary: ExceptionSummary,
    pub steps: Vec<StepView>,
    /// The timeline, at most 500 events.
    pub events: Vec<TimelineEntry>,
}

/// The status of an exception accepted but not yet through intake.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceivedStatus {
    Received,
}

/// An exception accepted but not yet through intake: the timeline so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedException {
    pub exception_id: String,
    pub tenant_id: String,
    pub status: ReceivedStatus,
    pub events: Vec<TimelineEntry>,
}

/// What GET /v1/exceptions/{id} answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ExceptionView {
    Detail(Box<ExceptionDetail>),
    Received(ReceivedException),
}

/// The tenant pack of a tenant caller; None for the operator.
fn tenant_pack<'s>(caller: &Caller, state: &'s HttpState) -> Option<&'s crate::packs::TenantPack> {
    caller
        .tenant_id()
        .and_then(|tenant_id| state.runtime.packs.tenant(tenant_id))
}

/// Ingest one raw exception for the key's tenant: durable once answered 202.
#[utoipa::path(
    operation_id = "submit_exception",
    tag = "exceptions",
    request_body(content = RawException, content_type = "application/json"),
    responses(
        (status = 202, description = "Stored; it reaches the roles once its event is on the bus", body = Accepted),
        (status = 400, description = "Not valid JSON, not an object, nested too deep, or an invalid exception id", body = ErrorBody),
        (status = 403, description = "The operator key: this route needs a tenant key", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time; the connection is closed", body = ErrorBody),
        (status = 413, description = "The body is over 257 KiB; the connection is closed", body = ErrorBody),
        (status = 503, description = "Too many bodies being read, or the database did not take the write; retry",
            body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
#[post("/exceptions")]
pub async fn submit(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant) = tenant_pack(&caller, &state) else {
        return forbidden(NEEDS_TENANT);
    };
    let body = match state
        .bodies
        .read(&request, payload, MAX_SUBMIT_BODY_BYTES)
        .await
    {
        Ok(body) => body,
        Err(refused) => return refused.error_response(),
    };
    let envelope = match ingest::prepare(
        &tenant.tenant_id,
        state.runtime.packs.pii_keys(tenant),
        &body,
        state.runtime.clock.now(),
    ) {
        Ok(envelope) => envelope,
        Err(reason) => return ErrorBody::answer(StatusCode::BAD_REQUEST, reason.to_string()),
    };
    match ingest::append(
        &state.runtime.db,
        state.runtime.bus.as_ref(),
        vec![envelope],
    )
    .await
    {
        // Durable once appended; the delivery completes on its own.
        Ok((mut accepted, _delivery)) => {
            state
                .runtime
                .metrics
                .ingested
                .with_label_values(&["api"])
                .inc();
            HttpResponse::Accepted().json(accepted.pop())
        }
        Err(error) => {
            tracing::warn!(%error, "Failed to append an ingested exception.");
            let reason = if crate::store::database::is_storage_failure(&error) {
                state
                    .runtime
                    .health
                    .set_storage_problem(Some(error.to_string()));
                "the exception could not be stored: the database takes no writes (storage full); retry"
            } else {
                "the exception could not be stored; retry"
            };
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "5"))
                .json(ErrorBody::new(reason))
        }
    }
}

/// One exception of the key's tenant: its state, playbook steps and timeline.
#[utoipa::path(
    operation_id = "show_exception",
    tag = "exceptions",
    params(("exception_id" = String, Path, description = "The exception's id")),
    responses(
        (status = 200, description = "The exception (`status` is `received` until intake has run)", body = ExceptionView),
        (status = 403, description = "The operator key: this route needs a tenant key", body = ErrorBody),
        (status = 404, description = "No such exception for this tenant", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[get("/exceptions/{exception_id}")]
pub async fn show(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant) = tenant_pack(&caller, &state) else {
        return forbidden(NEEDS_TENANT);
    };
    let exception_id = path.into_inner();
    let found = exceptions::find(&state.runtime.db, &tenant.tenant_id, &exception_id).await;
    let events = timeline::of_exception(
        &state.runtime.db,
        &tenant.tenant_id,
        &exception_id,
        TIMELINE_LIMIT,
    )
    .await;
    let run = steps::of_exception(&state.runtime.db, &tenant.tenant_id, &exception_id)
        .await
        .unwrap_or_default();
    match (found, events) {
        (Ok(Some(row)), Ok(events)) => {
            HttpResponse::Ok().json(ExceptionView::Detail(Box::new(ExceptionDetail {
                summary: ExceptionSummary::from(row),
                steps: run.iter().map(StepView::from).collect(),
                events,
            })))
        }
        // Accepted but not yet through intake: the timeline proves it exists for this tenant.
        (Ok(None), Ok(events)) if !events.is_empty() => {
            HttpResponse::Ok().json(ExceptionView::Received(ReceivedException {
                exception_id,
                tenant_id: tenant.tenant_id.clone(),
                status: ReceivedStatus::Received,
                events,
            }))
        }
        (Ok(None), Ok(_)) => ErrorBody::answer(StatusCode::NOT_FOUND, "exception not found"),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "Failed to read an exception.");
            ErrorBody::answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the exception could not be read; retry",
            )
        }
    }
}
