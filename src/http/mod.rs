//! The HTTP surface (actix-web): probes and metrics for the platform, and the tenant API. The
//! routes are registered in `routes`, and described from there by `openapi`. The server takes
//! its listener from the caller, so tests bind port 0.

pub(crate) mod auth;
mod body;
pub(crate) mod cursor;
mod dead_letter_bulk_api;
pub(crate) mod dead_letter_listing_api;
pub(crate) mod dead_letters_api;
mod error_body;
pub(crate) mod exception_listing_api;
mod exceptions_api;
pub mod listener;
pub mod openapi;
pub(crate) mod params;
mod probes;
mod request_metrics;
mod routes;
pub mod startup_server;
mod steps_api;
mod unrouted;
mod workers_api;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;

pub use self::body::BodyGate;
use crate::config::HttpSettings;
use crate::runtime::Runtime;

/// What the routes hold: the process's runtime context and what only the HTTP side uses.
#[derive(Clone)]
pub struct HttpState {
    pub runtime: Runtime,
    /// SHA-256 of the operator key; None disables the operator API.
    pub operator_key_sha256: Option<[u8; 32]>,
    /// Bounds on the request bodies read at once.
    pub bodies: BodyGate,
}

/// Builds the server on `listener`. Signals are handled by the app, not by actix-web, so that
/// shutdown drains the consumers before the probes disappear.
pub fn serve(
    listener: TcpListener,
    state: HttpState,
    settings: &HttpSettings,
) -> std::io::Result<Server> {
    let probe_state = web::Data::new(probes::ProbeState {
        health: state.runtime.health.clone(),
        metrics: state.runtime.metrics.clone(),
    });
    let state = web::Data::new(state);
    let document = openapi::document();
    let known_routes = web::Data::new(unrouted::Routes::of(document.clone()));
    let document = web::Data::new(openapi::Served::of(&document).map_err(std::io::Error::other)?);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(probe_state.clone())
            .app_data(document.clone())
            .app_data(known_routes.clone())
            .wrap(from_fn(request_metrics::observe))
            .into_utoipa_app()
            .configure(routes::public)
            .configure(routes::api)
            .default_service(web::to(unrouted::answer))
            .into_app()
            // The console is HTML for people, not part of the described API.
            .service(crate::console::scope())
    })
    .workers(2)
    .max_connections(settings.max_connections)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}
