//! SLA flags on the exception row. Each flag is set by a conditional update, so whichever
//! monitor (or restart) gets there first sets it and every other attempt changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::statement;

#[derive(Debug, Clone)]
pub struct Candidate {
    pub tenant_id: String,
    pub exception_id: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sla_deadline: DateTime<Utc>,
    pub imminent_flagged: bool,
}

/// Unresolved exceptions with a deadline that have not breached yet, most urgent first.
pub async fn candidates(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Candidate>, DbErr> {
    let sql = r#"SELECT tenant_id, exception_id, status, created_at, sla_deadline, sla_imminent_at FROM exceptions
                 WHERE sla_deadline IS NOT NULL AND sla_breached_at IS NULL AND status <> 'resolved'
                 ORDER BY sla_deadline LIMIT $1"#;
    let rows = db
        .query_all_raw(statement(
            db,
            sql,
            vec![i64::try_from(limit).unwrap_or(i64::MAX).into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let imminent: Option<DateTime<Utc>> = row.try_get("", "sla_imminent_at")?;
            Ok(Candidate {
                tenant_id: row.try_get("", "tenant_id")?,
                exception_id: row.try_get("", "exception_id")?,
                status: row.try_get("", "status")?,
                created_at: row.try_get("", "created_at")?,
                sla_deadline: row.try_get("", "sla_deadline")?,
                imminent_flagged: imminent.is_some(),
            })
        })
        .collect()
}

/// Sets the imminent flag unless set; true when this call set it.
pub async fn flag_imminent(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = r#"UPDATE exceptions SET sla_imminent_at = $1, updated_at = $1
                 WHERE tenant_id = $2 AND exception_id = $3 AND sla_imminent_at IS NULL"#;
    let values = vec![now.into(), tenant_id.into(), exception_id.into()];
    Ok(db
        .execute_raw(statement(db, sql, values))
        .await?
        .rows_affected()
        == 1)
}

/// Sets the breach flag unless set, and escalates the exception unless it is resolved or
/// escalated; true when this call set the flag.
pub async fn flag_breached(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = r#"UPDATE exceptions SET sla_breached_at = $1, sla_imminent_at = COALESCE(sla_imminent_at, $1),
                        status = CASE WHEN status IN ('resolved', 'escalated') THEN status ELSE 'escalated' END,
                        updated_at = $1
                 WHERE tenant_id = $2 AND exception_id = $3 AND sla_breached_at IS NULL
                   AND status <> 'resolved'"#;
    let values = vec![now.into(), tenant_id.into(), exception_id.into()];
    Ok(db
        .execute_raw(statement(db, sql, values))
        .await?
        .rows_affected()
        == 1)
}
