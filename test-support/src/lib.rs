//! What the test binaries of the workspace share, so each keeps only its scenarios: the
//! database of one test (a SQLite temp file, a fresh Postgres database, a share of the Kafka
//! broker), the app run in-process (`Setup`, `spawn_app`, `TestApp`) and the macros running a
//! scenario on each backend, row and metric readers, and the one wait loop. Quiet unless
//! TEST_LOG is set; the Postgres parts need TEST_DATABASE_URL and the Kafka parts
//! TEST_KAFKA_BOOTSTRAP_SERVERS (they skip without them, and fail under CI=true).
//!
//! The macros expand to `#[actix_rt::test]` functions: a crate using them depends on actix-rt.

mod app;
mod db;
mod macros;
pub mod readers;
mod wait;

pub use app::{
    ids_on_partition, partition_of, spawn_app, Setup, TestApp, ACME, ACME_KEY, GLOBEX, GLOBEX_KEY,
    PARTITIONS, PIPELINE_ROLES,
};
pub use db::{with_database_name, Backend, KafkaShare, TestDb};
pub use wait::{wait_for, wait_until, WAIT_LIMIT};

/// The repository's root (this crate is its `test-support/` folder).
pub const PROJECT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The packs every test runs on unless it writes its own.
pub const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config");
