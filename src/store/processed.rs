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

/// One idempotency claim: an event, for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    pub event_id: String,
    pub role: &'static str,
}

/// Claims several events at once (one statement); returns how many were claimed, so fewer than
/// `claims.len()` means some were processed already.
pub async fn claim_many(txn: &impl ConnectionTrait, claims: &[ClaimKey]) -> Result<usize, DbErr> {
    if claims.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(claims.len() * 3);
    let mut rows = Vec::with_capacity(claims.len());
    for (index, claim) in claims.iter().enumerate() {
        rows.push(format!(
            "(${}, ${}, ${})",
            index * 3 + 1,
            index * 3 + 2,
            index * 3 + 3
        ));
        values.extend([claim.event_id.clone().into(), claim.role.into(), now.into()]);
    }
    let sql = format!(
        "INSERT INTO processed_events (event_id, role, processed_at) VALUES {} \
         ON CONFLICT (event_id, role) DO NOTHING",
        rows.join(", ")
    );
    let claimed = txn.execute_raw(statement(txn, &sql, values)).await?;
    Ok(usize::try_from(claimed.rows_affected()).unwrap_or(usize::MAX))
}
