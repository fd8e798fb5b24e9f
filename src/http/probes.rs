//! /healthz (liveness), /readyz (readiness) and /metrics.

use actix_web::{web, HttpResponse};

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

pub async fn healthz(state: web::Data<ProbeState>) -> HttpResponse {
    probe_response(state.health.liveness())
}

pub async fn readyz(state: web::Data<ProbeState>) -> HttpResponse {
    probe_response(state.health.readiness())
}

pub async fn metrics(state: web::Data<ProbeState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
