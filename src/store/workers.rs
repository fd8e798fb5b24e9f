//! The `workers` table, the fleet's process registry: each process upserts its own row on every
//! heartbeat and deletes it on graceful shutdown; any process forgets rows silent for too long.

use chrono::{DateTime, Utc};
use entity::prelude::Workers;
use entity::workers;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use crate::store::statement;

/// Writes `row`: inserts it, or refreshes the process's row with its new heartbeat and state.
pub async fn upsert(db: &impl ConnectionTrait, row: &workers::Model) -> Result<(), DbErr> {
    let sql = r#"INSERT INTO workers (instance_id, host, version, git_commit, roles, concurrency,
                                      backend, heartbeat_secs, started_at, heartbeat_at, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (instance_id) DO UPDATE
                 SET host = excluded.host, version = excluded.version,
                     git_commit = excluded.git_commit, roles = excluded.roles,
                     concurrency = excluded.concurrency, backend = excluded.backend,
                     heartbeat_secs = excluded.heartbeat_secs, started_at = excluded.started_at,
                     heartbeat_at = excluded.heartbeat_at, state = excluded.state"#;
    let values = vec![
        row.instance_id.clone().into(),
        row.host.clone().into(),
        row.version.clone().into(),
        row.git_commit.clone().into(),
        row.roles.clone().into(),
        row.concurrency.into(),
        row.backend.clone().into(),
        row.heartbeat_secs.into(),
        row.started_at.into(),
        row.heartbeat_at.into(),
        row.state.clone().into(),
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// Deletes the row of `instance_id` (its graceful shutdown).
pub async fn remove(db: &impl ConnectionTrait, instance_id: &str) -> Result<(), DbErr> {
    let sql = r#"DELETE FROM workers WHERE instance_id = $1"#;
    db.execute_raw(statement(db, sql, vec![instance_id.into()]))
        .await?;
    Ok(())
}

/// Deletes the rows whose last heartbeat came before `cutoff`; answers how many.
pub async fn forget_silent_since(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let sql = r#"DELETE FROM workers WHERE heartbeat_at < $1"#;
    Ok(db
        .execute_raw(statement(db, sql, vec![cutoff.into()]))
        .await?
        .rows_affected())
}

/// Every row, by instance id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<workers::Model>, DbErr> {
    Workers::find()
        .order_by_asc(workers::Column::InstanceId)
        .all(db)
        .await
}
