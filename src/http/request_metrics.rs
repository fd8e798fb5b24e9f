//! Counts and times every HTTP request by route pattern (`/v1/exceptions/{exception_id}`, never
//! the concrete path), method and status, so the series stay bounded whatever clients send.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use super::probes::ProbeState;

/// The method as a label: the standard ones by name, anything else as "other".
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = request
        .app_data::<web::Data<ProbeState>>()
        .map(|state| state.metrics.clone());
    let method = method_label(request.method());
    let answered = next.call(request).await;
    if let Some(metrics) = metrics {
        // The pattern is known once the router has matched the request.
        let (route, status) = match &answered {
            Ok(response) => (response.request().match_pattern(), response.status()),
            Err(error) => (None, error.as_response_error().status_code()),
        };
        let route = route.unwrap_or_else(|| "unmatched".to_owned());
        metrics
            .http_requests
            .with_label_values(&[route.as_str(), method, status.as_str()])
            .inc();
        metrics
            .http_seconds
            .with_label_values(&[route.as_str(), method])
            .observe(started.elapsed().as_secs_f64());
    }
    answered
}
