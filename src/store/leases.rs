//! Leases: one holder at a time for work that must not run twice across replicas (the outbox
//! sweeper, the SLA monitor). A lease is taken when free or expired, and renewed by its holder.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

/// Takes or renews `name` for `holder` until `now + ttl`; true when `holder` holds it.
pub async fn acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<bool, DbErr> {
    let sql = r#"INSERT INTO leases (name, holder, expires_at, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at, updated_at = excluded.updated_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at < excluded.updated_at"#;
    let values = vec![name.into(), holder.into(), (now + ttl).into(), now.into()];
    Ok(db
        .execute_raw(statement(db, sql, values))
        .await?
        .rows_affected()
        == 1)
}

/// Gives the lease up so another replica can take it at once.
pub async fn release(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<(), DbErr> {
    let sql = r#"DELETE FROM leases WHERE name = $1 AND holder = $2"#;
    db.execute_raw(statement(db, sql, vec![name.into(), holder.into()]))
        .await?;
    Ok(())
}
