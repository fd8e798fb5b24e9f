//! Reads and writes of the `exceptions` table. Every query is scoped by tenant: an exception id
//! means something only together with its tenant.

use chrono::{DateTime, Utc};
use entity::exceptions::{ActiveModel, Entity, Model};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::model::{ExceptionStatus, Severity};

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id((tenant_id.to_owned(), exception_id.to_owned()))
        .one(db)
        .await
}

/// The normalised facts intake records for a new exception.
#[derive(Debug, Clone)]
pub struct NewException {
    pub tenant_id: String,
    pub exception_id: String,
    pub domain: String,
    pub exception_type: String,
    pub source_system: String,
    pub raw_payload: String,
    pub normalized: String,
    pub occurred_at: DateTime<Utc>,
}

/// Inserts the exception unless it exists; an existing row is never overwritten. Returns
/// whether a row was inserted.
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    new: NewException,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = ActiveModel {
        tenant_id: Set(new.tenant_id),
        exception_id: Set(new.exception_id),
        domain: Set(new.domain),
        exception_type: Set(new.exception_type),
        source_system: Set(new.source_system),
        status: Set(ExceptionStatus::Open.as_str().to_owned()),
        severity: Set(None),
        confidence: Set(None),
        sla_deadline: Set(None),
        policy_decision: Set(None),
        playbook_id: Set(None),
        approval_required: Set(None),
        raw_payload: Set(new.raw_payload),
        normalized: Set(new.normalized),
        occurred_at: Set(new.occurred_at),
        sla_imminent_at: Set(None),
        sla_breached_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(count) if count > 0))
}

/// What triage decided.
#[derive(Debug, Clone)]
pub struct TriageUpdate {
    pub exception_type: String,
    pub severity: Severity,
    pub confidence: f64,
    pub sla_deadline: DateTime<Utc>,
}

pub async fn record_triage(
    db: &impl ConnectionTrait,
    current: Model,
    update: TriageUpdate,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut row: ActiveModel = current.into();
    row.exception_type = Set(update.exception_type);
    row.severity = Set(Some(update.severity.as_str().to_owned()));
    row.confidence = Set(Some(update.confidence));
    row.sla_deadline = Set(Some(update.sla_deadline));
    row.status = Set(ExceptionStatus::Analyzing.as_str().to_owned());
    row.updated_at = Set(now);
    Entity::update(row).exec(db).await.map(|_| ())
}

/// What policy decided.
#[derive(Debug, Clone)]
pub struct PolicyUpdate {
    pub decision: String,
    pub playbook_id: Option<String>,
    pub approval_required: bool,
    pub escalated: bool,
}

pub async fn record_policy(
    db: &impl ConnectionTrait,
    current: Model,
    update: PolicyUpdate,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut row: ActiveModel = current.into();
    row.policy_decision = Set(Some(update.decision));
    row.playbook_id = Set(update.playbook_id);
    row.approval_required = Set(Some(update.approval_required));
    if update.escalated {
        row.status = Set(ExceptionStatus::Escalated.as_str().to_owned());
    }
    row.updated_at = Set(now);
    Entity::update(row).exec(db).await.map(|_| ())
}

/// Sets the status of an exception (scoped by tenant); returns the row as updated.
pub async fn set_status(
    db: &impl ConnectionTrait,
    current: Model,
    status: ExceptionStatus,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let mut row: ActiveModel = current.into();
    row.status = Set(status.as_str().to_owned());
    row.updated_at = Set(now);
    Entity::update(row).exec(db).await
}
