//! /healthz (liveness), /readyz (readiness) and /metrics.

use actix_web::{get, web, HttpResponse};

use crate::health::{Health, ProbeReport};
use crate::metrics::Metrics;

/// What the probes read: the same in the start-up server and in the full one.
#[derive(Clone)]
pub struct ProbeState {
    pub health: Health,
    pub metrics: Metrics,
}

fn probe_response(report: ProbeReport) -> HttpResponse {
    if report.ok {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

/// Liveness: fails only when the process is wedged.
#[utoipa::path(
    operation_id = "healthz",
    tag = "probes",
    responses(
        (status = 200, description = "Live", body = ProbeReport),
        (status = 503, description = "Wedged; the reasons say why", body = ProbeReport),
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<ProbeState>) -> HttpResponse {
    probe_response(state.health.liveness())
}

/// Readiness: started, subscribed, the database reachable and taking writes, not draining.
#[utoipa::path(
    operation_id = "readyz",
    tag = "probes",
    responses(
        (status = 200, description = "Ready", body = ProbeReport),
        (status = 503, description = "Not ready; the reasons say why", body = ProbeReport),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<ProbeState>) -> HttpResponse {
    probe_response(state.health.readiness())
}

/// The Prometheus metrics, in the text exposition format.
#[utoipa::path(
    operation_id = "metrics",
    tag = "probes",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<ProbeState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
