//! The integration tests: one binary that drives the real app (HTTP on port 0, actors, embedded
//! bus) on a fresh SQLite file and a fresh Postgres database per test; the scenarios listed
//! with `on_all_backends!` also run on Kafka + Postgres (`kafka_postgres`: a topic prefix and
//! consumer groups of the test's own on TEST_KAFKA_BOOTSTRAP_SERVERS). Quiet unless TEST_LOG is
//! set; the Postgres variants need TEST_DATABASE_URL and the Kafka ones
//! TEST_KAFKA_BOOTSTRAP_SERVERS too (they skip without them, and fail under CI=true). The
//! harness is the test-support crate's.

mod api_edges;
mod bad_config;
mod console_isolation;
mod console_session;
mod crash;
mod dead_letter_bulk;
mod dead_letter_copies;
mod dead_letter_listing;
mod end_to_end;
mod fleet;
mod fleet_states;
mod flow;
mod full_chain;
mod health;
mod http_tool;
mod ingest_command;
mod listing;
mod listing_pages;
mod maintenance_supervision;
mod metrics_families;
mod openapi;
mod ordering;
mod panics;
mod permanent_failures;
mod poison;
mod redelivery;
mod retention;
mod settings_documented;
mod sla;
mod startup_waits;
mod supervision;
mod tenant_ids;
mod tool_failures;
mod tool_overlap;
mod tool_server;
mod worker_type;
mod wrong_step;
