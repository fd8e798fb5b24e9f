//! Schema migrations for the worker's relational store; they run unchanged on SQLite and Postgres.
//!
//! One migration per change, applied in the order listed by [`Migrator`].

pub use sea_orm_migration::prelude::*;
pub use sea_orm_migration::MigratorTrait;

mod m20261126_000001_create_exceptions;
mod m20261126_000002_create_events;
mod m20261126_000003_create_bus_partitions;
mod m20261126_000004_create_processed_events;
mod m20261126_000005_create_consumer_offsets;
mod m20261126_000006_create_dead_letters;
mod m20261126_000007_create_playbook_steps;
mod m20261126_000008_create_tool_executions;
mod m20261126_000009_create_feedback;
mod m20261126_000010_create_leases;
mod m20261126_000011_allow_event_replays;
mod m20261129_000012_scope_exception_ids_by_tenant;
mod m20261129_000013_index_unpublished_events;
mod m20261129_000014_index_pending_dead_letters;
mod m20261129_000015_index_listings;
mod m20261129_000016_index_for_retention;
mod m20261129_000017_create_workers;
mod m20261129_000018_create_console_sessions;

/// Every migration of the worker's schema, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_exceptions::Migration),
            Box::new(m20261126_000002_create_events::Migration),
            Box::new(m20261126_000003_create_bus_partitions::Migration),
            Box::new(m20261126_000004_create_processed_events::Migration),
            Box::new(m20261126_000005_create_consumer_offsets::Migration),
            Box::new(m20261126_000006_create_dead_letters::Migration),
            Box::new(m20261126_000007_create_playbook_steps::Migration),
            Box::new(m20261126_000008_create_tool_executions::Migration),
            Box::new(m20261126_000009_create_feedback::Migration),
            Box::new(m20261126_000010_create_leases::Migration),
            Box::new(m20261126_000011_allow_event_replays::Migration),
            Box::new(m20261129_000012_scope_exception_ids_by_tenant::Migration),
            Box::new(m20261129_000013_index_unpublished_events::Migration),
            Box::new(m20261129_000014_index_pending_dead_letters::Migration),
            Box::new(m20261129_000015_index_listings::Migration),
            Box::new(m20261129_000016_index_for_retention::Migration),
            Box::new(m20261129_000017_create_workers::Migration),
            Box::new(m20261129_000018_create_console_sessions::Migration),
        ]
    }
}
