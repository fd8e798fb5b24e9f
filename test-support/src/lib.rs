//! What the test binaries of the workspace share, so each keeps only its scenarios: the
//! database of one test (a SQLite temp file, a fresh Postgres database, a share of the Kafka
//! broker), the app run in-process (`Setup`, `spawn_app`, `TestApp`) and the macros running a
//! scenario on each backend, the real binary as a child process (`Worker`), one test's share of
//! a Kafka cluster (`Cluster`) with its outbox and raw producers, row and metric readers, rows
//! written straight into the tables, and the one wait loop. Quiet unless TEST_LOG is set; the Postgres parts need TEST_DATABASE_URL
//! and the Kafka parts TEST_KAFKA_BOOTSTRAP_SERVERS (they skip without them, and fail under
//! CI=true).
//!
//! The macros expand to `#[actix_rt::test]` functions: a crate using them depends on actix-rt.

mod app;
mod cluster;
mod db;
mod macros;
pub mod produce;
mod raw;
pub mod readers;
pub mod rows;
mod wait;
mod worker;

pub use app::{
    ids_on_partition, partition_of, spawn_app, Setup, TestApp, ACME, ACME_KEY, GLOBEX, GLOBEX_KEY,
    PARTITIONS, PIPELINE_ROLES,
};
pub use cluster::{Cluster, FETCH_WAIT_MAX_MS, SESSION_TIMEOUT_MS};
pub use db::{with_database_name, Backend, KafkaShare, TestDb};
pub use produce::Producer;
pub use raw::{ingested, RawProducer};
pub use wait::{wait_for, wait_until, WAIT_LIMIT};
pub use worker::{binary, free_port, Worker};

/// The repository's root (this crate is its `test-support/` folder).
pub const PROJECT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The packs every test runs on unless it writes its own.
pub const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config");
