//! The probes while the process starts: `/healthz`, `/readyz` and `/metrics` answer from the
//! first second, before the database and the broker are reached, so an orchestrator sees a
//! live process that is not ready (and why) instead of a port that refuses connections. The
//! full server takes the same listening socket over once start-up is done; connections that
//! arrive in between wait in the socket's backlog.

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

use super::probes::{self, ProbeState};
use crate::health::Health;
use crate::metrics::Metrics;

/// The start-up server; stop it before the full server starts on the same socket.
pub struct StartupServer {
    handle: ServerHandle,
    task: actix_rt::task::JoinHandle<std::io::Result<()>>,
}

impl StartupServer {
    /// Serves the probes on a duplicate of `listener`; the caller keeps the original.
    pub fn start(
        listener: &TcpListener,
        health: Health,
        metrics: Metrics,
    ) -> std::io::Result<Self> {
        let state = web::Data::new(ProbeState { health, metrics });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .service(probes::healthz)
                .service(probes::readyz)
                .service(probes::metrics)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener.try_clone()?)?
        .run();
        let handle = server.handle();
        Ok(Self {
            handle,
            task: actix_rt::spawn(server),
        })
    }

    /// Stops serving (answering the probes already read) and releases its duplicate socket.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _finished = self.task.await;
    }
}
