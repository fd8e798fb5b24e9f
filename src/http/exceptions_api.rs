//! POST /v1/exceptions (ingest one raw exception) and GET /v1/exceptions/{id} (its state and
//! timeline, to its own tenant only).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::{tenant_of, unauthorized};
use super::HttpState;
use crate::ingest;
use crate::store::{exceptions, steps, timeline};

/// Timeline entries returned at most.
const TIMELINE_LIMIT: u64 = 500;

pub async fn submit(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant) = tenant_of(&request, &state) else {
        return unauthorized();
    };
    let envelope = match ingest::prepare(
        &tenant.tenant_id,
        state.packs.pii_keys(tenant),
        &body,
        state.clock.now(),
    ) {
        Ok(envelope) => envelope,
        Err(reason) => return HttpResponse::BadRequest().json(json!({ "error": reason })),
    };
    match ingest::append(&state.db, state.bus.as_ref(), vec![envelope]).await {
        Ok(mut accepted) => {
            state.metrics.ingested.with_label_values(&["api"]).inc();
            HttpResponse::Accepted().json(accepted.pop())
        }
        Err(error) => {
            tracing::warn!(%error, "Failed to append an ingested exception.");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the exception could not be stored; retry" }))
        }
    }
}

pub async fn show(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(tenant) = tenant_of(&request, &state) else {
        return unauthorized();
    };
    let exception_id = path.into_inner();
    let found = exceptions::find(&state.db, &tenant.tenant_id, &exception_id).await;
    // Fail closed: an id another tenant owns is not found, even when this tenant's own
    // (rejected, dead-lettered) events name it.
    let foreign = match &found {
        Ok(None) => exceptions::owner_of(&state.db, &exception_id)
            .await
            .map_or(true, |owner| owner.is_some()),
        _ => false,
    };
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
        (Ok(Some(row)), Ok(events)) => HttpResponse::Ok().json(json!({
            "exception_id": row.exception_id,
            "tenant_id": row.tenant_id,
            "domain": row.domain,
            "exception_type": row.exception_type,
            "source_system": row.source_system,
            "status": row.status,
            "severity": row.severity,
            "confidence": row.confidence,
            "sla_deadline": row.sla_deadline,
            "policy_decision": row.policy_decision,
            "playbook_id": row.playbook_id,
            "approval_required": row.approval_required,
            "occurred_at": row.occurred_at,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "sla_imminent_at": row.sla_imminent_at,
            "sla_breached_at": row.sla_breached_at,
            "steps": run,
            "events": events,
        })),
        // Accepted but not yet through intake: the timeline proves it exists for this tenant.
        (Ok(None), Ok(events)) if !events.is_empty() && !foreign => {
            HttpResponse::Ok().json(json!({
                "exception_id": exception_id,
                "tenant_id": tenant.tenant_id,
                "status": "received",
                "events": events,
            }))
        }
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
