//! The idempotency claim: one row per (event, role). Inserting it in the handler's transaction
//! makes a redelivered event a no-op.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

/// Claims `event_id` for `role`; false when it was already processed.
pub async fn claim(txn: &impl ConnectionTrait, event_id: &str, role: &str) -> Result<bool, DbErr> {
    let sql = r#"INSERT INTO processed_events (event_id, role, processed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (event_id, role) DO NOTHING"#;
    let result = txn
        .execute_raw(statement(
            txn,
            sql,
            vec![event_id.into(), role.into(), Utc::now().into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}
