//! SeaORM entities for the worker's relational store: one module per table, named after it.
//!
//! The schema itself is owned by the `migration` crate; these models mirror it column by column.
//! Conventions shared by every table: ids are `TEXT` (`String`), timestamps are
//! `timestamp with time zone` (`DateTimeUtc`), JSON documents are kept verbatim as `TEXT`
//! (`String`), and a log position is `partition` + `log_offset` (never `offset`).

pub mod prelude;

pub mod bus_partitions;
pub mod console_sessions;
pub mod consumer_offsets;
pub mod dead_letters;
pub mod events;
pub mod exceptions;
pub mod feedback;
pub mod leases;
pub mod playbook_steps;
pub mod processed_events;
pub mod tool_executions;
pub mod workers;
