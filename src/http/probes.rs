//! /healthz (liveness), /readyz (readiness) and /metrics.

use actix_web::{web, HttpResponse};

use super::HttpState;
use crate::health::ProbeReport;

fn probe_response(report: ProbeReport) -> HttpResponse {
    if report.ok {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

pub async fn healthz(state: web::Data<HttpState>) -> HttpResponse {
    probe_response(state.health.liveness())
}

pub async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    probe_response(state.health.readiness())
}

pub async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
