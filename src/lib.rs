//! exception-worker: the asynchronous worker tier of an exception-processing platform.
//!
//! # Layout
//! - `app`: the only wiring place (`App::build` returns the bound HTTP port).
//! - `config`: environment and flags, validated all at once.
//! - `overseer` -> `consumer` -> `partition`: the actor tree (root supervisor, one consumer
//!   per role, one worker per assigned partition); `pool` + `handler`: CONCURRENCY handler
//!   actors per role and the mechanics around one event.
//! - `offsets`: the watermark. `routing`: stable key hashing.
//! - `bus`: the seam between actors and the log (embedded in-database bus).
//! - `roles`: business rules per role; `packs`: the rule packs they apply; `normalize`: intake's
//!   pure normaliser.
//! - `store`: queries over the entities; `ingest`: accepting raw exceptions.
//! - `http`: probes, metrics and the tenant API. `health`, `metrics`, `telemetry`: observing it.
pub mod app;
pub mod bench;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod dead_letter_bulk;
pub mod dlq_command;
pub mod envelope;
pub mod handler;
pub mod handler_threads;
pub mod health;
pub mod http;
pub mod ingest;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod offsets;
pub mod overseer;
pub mod packs;
pub mod partition;
pub mod pool;
pub mod replay;
pub mod roles;
pub mod routing;
pub mod sla_monitor;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod tools;
