//! Playbook step state (`playbook_steps`): which step of an exception's playbook is current and
//! what it waits for. Any instance can continue any run because all of it is here.

use chrono::{DateTime, Utc};
use entity::playbook_steps::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

pub const PENDING: &str = "pending";
pub const WAITING_TOOL: &str = "waiting_tool";
pub const WAITING_PERSON: &str = "waiting_person";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";

/// Every step of the exception's run, in order.
pub async fn of_exception(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::ExceptionId.eq(exception_id))
        .order_by_asc(Column::StepNumber)
        .all(db)
        .await
}

/// The first step that is not completed: the one the run is at.
pub fn current(steps: &[Model]) -> Option<&Model> {
    steps.iter().find(|step| step.status != COMPLETED)
}

pub struct NewStep {
    pub step_number: i32,
    pub action: String,
    pub params: String,
}

/// Creates the run's steps, all pending; returns them as stored, in order.
pub async fn create_run(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
    playbook_id: &str,
    steps: Vec<NewStep>,
) -> Result<Vec<Model>, DbErr> {
    let run: Vec<Model> = steps
        .into_iter()
        .map(|step| Model {
            tenant_id: tenant_id.to_owned(),
            exception_id: exception_id.to_owned(),
            step_number: step.step_number,
            playbook_id: playbook_id.to_owned(),
            action: step.action,
            params: step.params,
            status: PENDING.to_owned(),
            execution_id: None,
            actor: None,
            started_at: None,
            completed_at: None,
        })
        .collect();
    if run.is_empty() {
        return Ok(run);
    }
    let rows: Vec<ActiveModel> = run
        .iter()
        .map(|step| ActiveModel {
            tenant_id: Set(step.tenant_id.clone()),
            exception_id: Set(step.exception_id.clone()),
            step_number: Set(step.step_number),
            playbook_id: Set(step.playbook_id.clone()),
            action: Set(step.action.clone()),
            params: Set(step.params.clone()),
            status: Set(step.status.clone()),
            execution_id: Set(None),
            actor: Set(None),
            started_at: Set(None),
            completed_at: Set(None),
        })
        .collect();
    Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(run)
}

/// Replaces the step of `updated`'s number in `run` (a run held in memory across updates).
pub fn replace(run: &mut [Model], updated: Model) {
    if let Some(step) = run
        .iter_mut()
        .find(|step| step.step_number == updated.step_number)
    {
        *step = updated;
    }
}

/// Moves a step to `status`, recording who did it and when.
pub async fn set_status(
    db: &impl ConnectionTrait,
    step: &Model,
    status: &str,
    actor: Option<&str>,
    execution_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let mut row: ActiveModel = step.clone().into();
    row.status = Set(status.to_owned());
    if step.started_at.is_none() {
        row.started_at = Set(Some(now));
    }
    // The first actor stays: a person who approved a tool step remains its actor.
    if let (Some(actor), None) = (actor, &step.actor) {
        row.actor = Set(Some(actor.to_owned()));
    }
    if let Some(execution_id) = execution_id {
        row.execution_id = Set(Some(execution_id.to_owned()));
    }
    if status == COMPLETED || status == FAILED {
        row.completed_at = Set(Some(now));
    }
    Entity::update(row).exec(db).await
}
