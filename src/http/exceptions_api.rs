//! POST /v1/exceptions (ingest one raw exception) and GET /v1/exceptions/{id} (its summary,
//! steps and timeline, to its own tenant only).

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::auth::{forbidden, Caller};
use super::HttpState;
use crate::ingest;
use crate::store::exception_summary::ExceptionSummary;
use crate::store::{exceptions, steps, timeline};

/// Timeline entries returned at most.
const TIMELINE_LIMIT: u64 = 500;

const NEEDS_TENANT: &str = "this route needs a tenant API key";

/// The largest body POST /v1/exceptions reads: the raw exception's limit, plus room for
/// whitespace, so an oversized exception gets the precise reason from `ingest::prepare`.
const MAX_SUBMIT_BODY_BYTES: usize = ingest::MAX_RAW_EXCEPTION_BYTES + 1024;

/// The tenant pack of a tenant caller; None for the operator.
fn tenant_pack<'s>(caller: &Caller, state: &'s HttpState) -> Option<&'s crate::packs::TenantPack> {
    caller
        .tenant_id()
        .and_then(|tenant_id| state.packs.tenant(tenant_id))
}

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
        state.packs.pii_keys(tenant),
        &body,
        state.clock.now(),
    ) {
        Ok(envelope) => envelope,
        Err(reason) => {
            return HttpResponse::BadRequest().json(json!({ "error": reason.to_string() }))
        }
    };
    match ingest::append(&state.db, state.bus.as_ref(), vec![envelope]).await {
        // Durable once appended; the delivery completes on its own.
        Ok((mut accepted, _delivery)) => {
            state.metrics.ingested.with_label_values(&["api"]).inc();
            HttpResponse::Accepted().json(accepted.pop())
        }
        Err(error) => {
            tracing::warn!(%error, "Failed to append an ingested exception.");
            let reason = if crate::store::database::is_storage_failure(&error) {
                state.health.set_storage_problem(Some(error.to_string()));
                "the exception could not be stored: the database takes no writes (storage full); retry"
            } else {
                "the exception could not be stored; retry"
            };
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "5"))
                .json(json!({ "error": reason }))
        }
    }
}

pub async fn show(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant) = tenant_pack(&caller, &state) else {
        return forbidden(NEEDS_TENANT);
    };
    let exception_id = path.into_inner();
    let found = exceptions::find(&state.db, &tenant.tenant_id, &exception_id).await;
    let events =
        timeline::of_exception(&state.db, &tenant.tenant_id, &exception_id, TIMELINE_LIMIT).await;
    let run = steps::of_exception(&state.db, &tenant.tenant_id, &exception_id)
        .await
        .unwrap_or_default();
    let run: Vec<_> = run
        .iter()
        .map(|step| {
            json!({
                "step_number": step.step_number,
                "action": step.action,
                "status": step.status,
                "actor": step.actor,
                "execution_id": step.execution_id,
                "completed_at": step.completed_at,
            })
        })
        .collect();
    match (found, events) {
        (Ok(Some(row)), Ok(events)) => {
            let mut body = json!(ExceptionSummary::from(row));
            if let Some(fields) = body.as_object_mut() {
                fields.insert("steps".to_owned(), json!(run));
                fields.insert("events".to_owned(), json!(events));
            }
            HttpResponse::Ok().json(body)
        }
        // Accepted but not yet through intake: the timeline proves it exists for this tenant.
        (Ok(None), Ok(events)) if !events.is_empty() => HttpResponse::Ok().json(json!({
            "exception_id": exception_id,
            "tenant_id": tenant.tenant_id,
            "status": "received",
            "events": events,
        })),
        (Ok(None), Ok(_)) => {
            HttpResponse::NotFound().json(json!({ "error": "exception not found" }))
        }
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "Failed to read an exception.");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the exception could not be read; retry" }))
        }
    }
}
