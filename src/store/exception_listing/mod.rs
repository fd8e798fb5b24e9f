//! Listing exceptions: a tenant's (or every tenant's), filtered, one keyset page at a time.
//! A page starts after the key of the previous page's last row (never at an offset), so pages
//! stay put while exceptions arrive and the thousandth page costs what the first does.
//!
//! Orders: newest first (`created_at`, then tenant and id, all descending); or soonest SLA
//! deadline first (ascending), then the exceptions without a deadline, by tenant and id. The
//! second order runs as two index-ordered phases, dated then undated, rather than one sort
//! with NULLS LAST, which SQLite's indexes cannot serve.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use crate::model::{ExceptionStatus, Severity};
use crate::store::exception_summary::ExceptionSummary;

mod queries;

/// Whose exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Tenant(String),
    AllTenants,
}

/// An SLA state as the SLA monitor flagged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    /// The deadline passed while unresolved (flagged breached).
    Breached,
    /// Flagged imminent, not breached, and not resolved: at risk now.
    Imminent,
}

/// What a listing keeps; every field left None keeps everything.
#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    pub status: Option<ExceptionStatus>,
    pub severity: Option<Severity>,
    pub exception_type: Option<String>,
    pub sla: Option<SlaState>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before.
    pub created_before: Option<DateTime<Utc>>,
    /// Last updated at or after.
    pub updated_after: Option<DateTime<Utc>>,
    /// Last updated strictly before.
    pub updated_before: Option<DateTime<Utc>>,
    /// A substring of the exception id, in any case.
    pub id_contains: Option<String>,
}

/// The last row of a page in the newest-first order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub created_at: DateTime<Utc>,
    pub tenant_id: String,
    pub exception_id: String,
}

/// The last row of a page in the SLA-deadline order (no deadline: the undated phase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaKey {
    pub sla_deadline: Option<DateTime<Utc>>,
    pub tenant_id: String,
    pub exception_id: String,
}

/// The order of a listing, and where in it the page starts (None: at the beginning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    Created(Option<CreatedKey>),
    SlaDeadline(Option<SlaKey>),
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sort", rename_all = "snake_case", deny_unknown_fields)]
pub enum Position {
    Created(CreatedKey),
    SlaDeadline(SlaKey),
}

impl Position {
    pub fn tenant_id(&self) -> &str {
        match self {
            Position::Created(key) => &key.tenant_id,
            Position::SlaDeadline(key) => &key.tenant_id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<ExceptionSummary>,
    /// None on the last page.
    pub next: Option<Position>,
}

/// One page of at most `limit` exceptions.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ExceptionFilter,
    order: &Order,
    limit: u64,
) -> Result<Page, DbErr> {
    // One row more than the page tells whether another page follows.
    let wanted = limit.saturating_add(1);
    let mut rows = match order {
        Order::Created(after) => {
            queries::created(scope, filter, after.as_ref(), wanted)
                .run(db)
                .await?
        }
        Order::SlaDeadline(after) => sla_rows(db, scope, filter, after.as_ref(), wanted).await?,
    };
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(position_of(order, last)),
        _ => None,
    };
    Ok(Page { items: rows, next })
}

fn position_of(order: &Order, row: &ExceptionSummary) -> Position {
    match order {
        Order::Created(_) => Position::Created(CreatedKey {
            created_at: row.created_at,
            tenant_id: row.tenant_id.clone(),
            exception_id: row.exception_id.clone(),
        }),
        Order::SlaDeadline(_) => Position::SlaDeadline(SlaKey {
            sla_deadline: row.sla_deadline,
            tenant_id: row.tenant_id.clone(),
            exception_id: row.exception_id.clone(),
        }),
    }
}

async fn sla_rows(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ExceptionFilter,
    after: Option<&SlaKey>,
    wanted: u64,
) -> Result<Vec<ExceptionSummary>, DbErr> {
    let mut rows = Vec::new();
    // Past the dated phase already when the last row had no deadline.
    let undated_after = match after {
        Some(key) if key.sla_deadline.is_none() => Some(key),
        _ => {
            rows = queries::dated(scope, filter, after, wanted).run(db).await?;
            None
        }
    };
    let missing = wanted.saturating_sub(rows.len() as u64);
    if missing > 0 {
        let undated = queries::undated(scope, filter, undated_after, missing);
        rows.extend(undated.run(db).await?);
    }
    Ok(rows)
}

/// The plan the database picks for each query a page of `order` may run (EXPLAIN QUERY PLAN
/// on SQLite, EXPLAIN on Postgres), one line per plan line: to check index use.
pub async fn explain(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ExceptionFilter,
    order: &Order,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let wanted = limit.saturating_add(1);
    let planned = match order {
        Order::Created(after) => vec![queries::created(scope, filter, after.as_ref(), wanted)],
        Order::SlaDeadline(Some(after)) if after.sla_deadline.is_none() => {
            vec![queries::undated(scope, filter, Some(after), wanted)]
        }
        Order::SlaDeadline(after) => vec![
            queries::dated(scope, filter, after.as_ref(), wanted),
            queries::undated(scope, filter, None, wanted),
        ],
    };
    let mut lines = Vec::new();
    for query in planned {
        lines.extend(query.explain(db).await?);
    }
    Ok(lines)
}
