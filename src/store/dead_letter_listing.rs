//! Dead letters chosen by filter: listed newest first one keyset page at a time (on `id`, never
//! an offset), counted, and taken in id-ordered batches for the bulk replay and discard.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::conditions::{contains_pattern, Conditions};
use crate::store::dead_letters::{DeadLetterView, DISCARDED, PENDING, VIEW_COLUMNS};
use crate::store::statement;

/// What a selection of dead letters keeps; every field left None keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    pub status: Option<String>,
    pub role: Option<String>,
    pub error_class: Option<String>,
    pub tenant_id: Option<String>,
    /// A substring of the reason, in any case.
    pub reason_contains: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DeadLetterPage {
    pub letters: Vec<DeadLetterView>,
    /// The id the next page starts below; None on the last page.
    pub next: Option<i64>,
}

/// A page of at most `limit` dead letters with ids below `before`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &DeadLetterFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<DeadLetterPage, DbErr> {
    let mut conditions = filtered(filter);
    if let Some(before) = before {
        let before = conditions.bind(before);
        conditions.and(format!("id < {before}"));
    }
    let wanted = conditions.bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM dead_letters{} ORDER BY id DESC LIMIT {wanted}",
        conditions.where_clause()
    );
    let rows = db
        .query_all_raw(statement(db, &sql, conditions.into_values()))
        .await?;
    let mut letters = rows
        .iter()
        .map(DeadLetterView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let more = letters.len() as u64 > limit;
    letters.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| letters.last().map(|letter| letter.id))
        .flatten();
    Ok(DeadLetterPage { letters, next })
}

/// The newest dead letter's id (0 when there is none): a bulk action stops there, so letters
/// its own replays create are not acted on in the same run.
pub async fn newest_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let sql = "SELECT COALESCE(MAX(id), 0) AS newest FROM dead_letters";
    let row = db.query_one_raw(statement(db, sql, vec![])).await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "newest"))
        .transpose()?
        .unwrap_or(0))
}

/// Pending dead letters matching `filter` with ids up to `up_to`.
pub async fn count_pending(
    db: &impl ConnectionTrait,
    filter: &DeadLetterFilter,
    up_to: i64,
) -> Result<u64, DbErr> {
    let conditions = pending_up_to(filter, up_to);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM dead_letters{}",
        conditions.where_clause()
    );
    let row = db
        .query_one_raw(statement(db, &sql, conditions.into_values()))
        .await?;
    let count = row.map(|row| row.try_get::<i64>("", "n")).transpose()?;
    Ok(count.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// Up to `batch` ids of pending dead letters matching `filter`, above `after` and up to
/// `up_to`, oldest first.
pub async fn pending_ids(
    db: &impl ConnectionTrait,
    filter: &DeadLetterFilter,
    after: i64,
    up_to: i64,
    batch: u64,
) -> Result<Vec<i64>, DbErr> {
    let mut conditions = pending_up_to(filter, up_to);
    let after = conditions.bind(after);
    conditions.and(format!("id > {after}"));
    let limit = conditions.bind(i64::try_from(batch).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT id FROM dead_letters{} ORDER BY id LIMIT {limit}",
        conditions.where_clause()
    );
    db.query_all_raw(statement(db, &sql, conditions.into_values()))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect()
}

/// Marks the dead letters `ids` discarded, those still pending; answers how many were.
pub async fn discard(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut conditions = Conditions::default();
    let status = conditions.bind(DISCARDED);
    let resolved_at = conditions.bind(now);
    let pending = conditions.bind(PENDING);
    conditions.and(format!("status = {pending}"));
    let listed: Vec<String> = ids.iter().map(|id| conditions.bind(*id)).collect();
    conditions.and(format!("id IN ({})", listed.join(", ")));
    let sql = format!(
        "UPDATE dead_letters SET status = {status}, resolved_at = {resolved_at}{}",
        conditions.where_clause()
    );
    Ok(db
        .execute_raw(statement(db, &sql, conditions.into_values()))
        .await?
        .rows_affected())
}

/// `filter`, restricted to pending letters with ids up to `up_to`.
fn pending_up_to(filter: &DeadLetterFilter, up_to: i64) -> Conditions {
    let pending = DeadLetterFilter {
        status: Some(PENDING.to_owned()),
        ..filter.clone()
    };
    let mut conditions = filtered(&pending);
    let up_to = conditions.bind(up_to);
    conditions.and(format!("id <= {up_to}"));
    conditions
}

fn filtered(filter: &DeadLetterFilter) -> Conditions {
    let mut conditions = Conditions::default();
    let equal = [
        ("status", &filter.status),
        ("role", &filter.role),
        ("error_class", &filter.error_class),
        ("tenant_id", &filter.tenant_id),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            let value = conditions.bind(value.clone());
            conditions.and(format!("{column} = {value}"));
        }
    }
    if let Some(text) = &filter.reason_contains {
        let pattern = conditions.bind(contains_pattern(text));
        conditions.and(format!("LOWER(reason) LIKE LOWER({pattern}) ESCAPE '\\'"));
    }
    conditions
}
