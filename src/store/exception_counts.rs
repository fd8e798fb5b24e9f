//! Counts for the console's overview: exceptions by status, and the unfinished ones whose SLA
//! is imminent or breached, for one tenant or for all.

use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

/// Exceptions by status, and unfinished ones by SLA state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionCounts {
    /// (status, count), by status name.
    pub by_status: Vec<(String, i64)>,
    /// Unfinished, flagged imminent, not breached.
    pub sla_imminent: i64,
    /// Unfinished, flagged breached.
    pub sla_breached: i64,
}

/// Counts for `tenant_id`, or every tenant when None.
pub async fn count(
    db: &impl ConnectionTrait,
    tenant_id: Option<&str>,
) -> Result<ExceptionCounts, DbErr> {
    let (condition, values) = match tenant_id {
        Some(tenant_id) => ("WHERE tenant_id = $1", vec![tenant_id.into()]),
        None => ("", vec![]),
    };
    let by_status = format!(
        "SELECT status, COUNT(*) AS n FROM exceptions {condition} GROUP BY status ORDER BY status"
    );
    let rows = db
        .query_all_raw(statement(db, &by_status, values.clone()))
        .await?;
    let by_status = rows
        .iter()
        .map(|row| Ok((row.try_get("", "status")?, row.try_get("", "n")?)))
        .collect::<Result<Vec<(String, i64)>, DbErr>>()?;
    let unfinished = if condition.is_empty() {
        "WHERE status NOT IN ('resolved', 'escalated')".to_owned()
    } else {
        format!("{condition} AND status NOT IN ('resolved', 'escalated')")
    };
    let sla = format!(
        "SELECT COUNT(CASE WHEN sla_breached_at IS NOT NULL THEN 1 END) AS breached,
                COUNT(CASE WHEN sla_breached_at IS NULL AND sla_imminent_at IS NOT NULL THEN 1 END) AS imminent
         FROM exceptions {unfinished}"
    );
    let row = db.query_one_raw(statement(db, &sla, values)).await?;
    let (sla_breached, sla_imminent) = match row {
        Some(row) => (row.try_get("", "breached")?, row.try_get("", "imminent")?),
        None => (0, 0),
    };
    Ok(ExceptionCounts {
        by_status,
        sla_imminent,
        sla_breached,
    })
}
