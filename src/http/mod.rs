//! The HTTP surface (actix-web): probes and metrics for the platform, and the tenant API.
//! The server takes its listener from the caller, so tests bind port 0.

pub(crate) mod auth;
mod body;
pub(crate) mod cursor;
mod dead_letter_bulk_api;
pub(crate) mod dead_letter_listing_api;
pub(crate) mod dead_letters_api;
pub(crate) mod exception_listing_api;
mod exceptions_api;
pub mod listener;
pub(crate) mod params;
mod probes;
mod request_metrics;
pub mod startup_server;
mod steps_api;
mod workers_api;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use sea_orm::DatabaseConnection;

pub use self::body::BodyGate;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::HttpSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::packs::Packs;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub db: DatabaseConnection,
    pub bus: Arc<dyn Bus>,
    pub packs: Arc<Packs>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub health: Health,
    /// Tenants this deployment serves; empty = every tenant of the packs.
    pub tenant_allowlist: std::collections::BTreeSet<String>,
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
        health: state.health.clone(),
        metrics: state.metrics.clone(),
    });
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(probe_state.clone())
            .wrap(from_fn(request_metrics::observe))
            .route("/healthz", web::get().to(probes::healthz))
            .route("/readyz", web::get().to(probes::readyz))
            .route("/metrics", web::get().to(probes::metrics))
            .service(crate::console::scope())
            .service(
                web::scope("/v1")
                    .wrap(from_fn(auth::authenticate))
                    .route("/exceptions", web::post().to(exceptions_api::submit))
                    .route("/exceptions", web::get().to(exception_listing_api::list))
                    .route(
                        "/exceptions/{exception_id}",
                        web::get().to(exceptions_api::show),
                    )
                    .route(
                        "/exceptions/{exception_id}/steps/{step_number}/complete",
                        web::post().to(steps_api::complete),
                    )
                    .route(
                        "/dead-letters",
                        web::get().to(dead_letter_listing_api::list),
                    )
                    .route(
                        "/dead-letters/replay",
                        web::post().to(dead_letter_bulk_api::replay),
                    )
                    .route(
                        "/dead-letters/discard",
                        web::post().to(dead_letter_bulk_api::discard),
                    )
                    .route("/dead-letters/{id}", web::get().to(dead_letters_api::show))
                    .route(
                        "/dead-letters/{id}/replay",
                        web::post().to(dead_letters_api::replay),
                    )
                    .route("/workers", web::get().to(workers_api::list)),
            )
    })
    .workers(2)
    .max_connections(settings.max_connections)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}
