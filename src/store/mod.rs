//! Queries over the entities. Roles and the API call these; no SQL lives elsewhere except in
//! the embedded bus, which owns its tables.

mod conditions;
pub mod console_sessions;
pub mod database;
pub mod dead_letter_listing;
pub mod dead_letters;
pub mod exception_counts;
pub mod exception_listing;
pub mod exception_record;
pub mod exception_summary;
pub mod exceptions;
pub mod feedback;
pub mod leases;
pub mod pool_stats;
pub mod processed;
pub mod replay;
pub mod retention;
pub mod sla;
pub mod steps;
pub mod timeline;
pub mod tool_executions;
pub mod workers;

use sea_orm::{ConnectionTrait, Statement, Value};

/// A raw statement for the connection's backend. Placeholders are `$1`, `$2`, ... in order of
/// first appearance, which both SQLite and Postgres bind positionally.
pub(crate) fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}
