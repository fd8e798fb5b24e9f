//! The idempotency claim: one row per (event, role). Inserting it in the handler's transaction
//! makes a redelivered event a no-op.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

/// How a claim ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time this role sees the event: go on.
    Claimed,
    /// Already processed by this role.
    Duplicate,
}

/// Claims `event_id` for `role`: one round trip. Exception ids are scoped by tenant, so an
/// event can only ever name an exception of its own tenant; there is no owner to check.
pub async fn claim(txn: &impl ConnectionTrait, event_id: &str, role: &str) -> Result<Claim, DbErr> {
    let sql = r#"INSERT INTO processed_events (event_id, role, processed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (event_id, role) DO NOTHING"#;
    let values = vec![event_id.into(), role.into(), Utc::now().into()];
    let claimed = txn.execute_raw(statement(txn, sql, values)).await?;
    Ok(if claimed.rows_affected() == 1 {
        Claim::Claimed
    } else {
        Claim::Duplicate
    })
}
