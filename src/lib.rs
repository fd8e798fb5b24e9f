//! exception-worker: the asynchronous worker tier of an exception-processing platform.
//! docs/architecture.md describes how the parts fit together.
//!
//! # Layout
//! - `app`: the only wiring place (`App::build` returns the bound HTTP port); `runtime`: the
//!   context every actor and route holds (database, bus, packs, clock, metrics, health,
//!   tuning); `cli`, `dlq_command`, `bench`: the subcommands.
//! - `config`: environment and flags, validated all at once.
//! - `overseer` -> `consumer` -> `partition`: the actor tree (root supervisor, one consumer
//!   per consumer role, one worker per assigned partition); `pool` + `handler`: CONCURRENCY
//!   handler actors per role on the shared `handler_threads`, and the mechanics around one
//!   event (group commit included). `sweeper`: the outbox sweeper the overseer runs on Kafka.
//!   `sla_monitor`: the SLA monitor, which the overseer starts beside the sweeper.
//!   `heartbeat`: this process's row in the fleet registry (`workers`); `fleet`: the
//!   registry's shapes.
//! - `offsets`: the watermark. `routing`: stable key hashing.
//! - `bus`: the seam between actors and the log, with its two implementations: the embedded
//!   in-database bus and the Kafka bus (the `events` table as outbox, published on commit).
//! - `envelope`, `model`: the event envelope; roles, topics, event types and statuses.
//! - `roles`: business rules per role; `packs`: the rule packs they apply; `normalize`: intake's
//!   pure normaliser; `tools`: the tool runner.
//! - `store`: queries over the entities; `ingest`: accepting raw exceptions; `replay`:
//!   replaying dead letters.
//! - `http`: probes, metrics and the API (its OpenAPI document: `http::openapi`, with
//!   `api_schema`). `health`, `metrics`, `telemetry`: observing it;
//!   `memory`: giving freed memory back; `clock`: the injectable clock.
pub mod activity;
pub mod api_schema;
pub mod app;
pub mod backoff;
pub mod bench;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod command_error;
pub mod config;
pub mod console;
pub mod consumer;
pub mod dead_letter_bulk;
pub mod dependency_probe;
pub mod dlq_command;
pub mod envelope;
pub mod fleet;
pub mod handler;
pub mod handler_threads;
pub mod health;
pub mod heartbeat;
pub mod http;
pub mod ingest;
pub mod ingest_file;
pub mod invalid;
pub mod maintenance;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod offsets;
pub mod overseer;
pub mod packs;
pub mod partition;
pub mod pool;
pub mod progress;
pub mod replay;
pub mod restart_budget;
pub mod retention;
pub mod roles;
pub mod routing;
pub mod runtime;
pub mod sla_monitor;
pub mod startup;
pub mod step_completion;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod tools;
