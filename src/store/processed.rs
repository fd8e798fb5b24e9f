//! The idempotency claim: one row per (event, role). Inserting it in the handler's transaction
//! makes a redelivered event a no-op. The claim also checks, in the same statement, that the
//! event's exception is not another tenant's.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::{exceptions, statement};

/// How a claim ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time this role sees the event: go on.
    Claimed,
    /// Already processed by this role.
    Duplicate,
    /// The exception belongs to another tenant; nothing was claimed.
    ForeignException,
}

/// Claims `event_id` for `role` unless the exception (when the event names one) belongs to a
/// tenant other than `tenant_id`. One round trip in the common case; a second only to tell a
/// duplicate from a foreign exception.
pub async fn claim(
    txn: &impl ConnectionTrait,
    event_id: &str,
    role: &str,
    tenant_id: &str,
    exception_id: Option<&str>,
) -> Result<Claim, DbErr> {
    // With no exception (NULL), `exception_id = NULL` matches no row and the claim goes on.
    let sql = r#"INSERT INTO processed_events (event_id, role, processed_at)
                 SELECT $1, $2, $3 WHERE NOT EXISTS
                   (SELECT 1 FROM exceptions WHERE exception_id = $4 AND tenant_id <> $5)
                 ON CONFLICT (event_id, role) DO NOTHING"#;
    let values = vec![
        event_id.into(),
        role.into(),
        Utc::now().into(),
        exception_id.map(str::to_owned).into(),
        tenant_id.into(),
    ];
    let claimed = txn.execute_raw(statement(txn, sql, values)).await?;
    if claimed.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    if let Some(exception_id) = exception_id {
        if let Some(owner) = exceptions::owner_of(txn, exception_id).await? {
            if owner != tenant_id {
                return Ok(Claim::ForeignException);
            }
        }
    }
    Ok(Claim::Duplicate)
}
