//! What happened to one exception beyond its events and steps: its tool executions and its
//! feedback record, for the console's exception page.

use entity::{feedback, tool_executions};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// The exception's tool executions, in the order they were requested.
pub async fn tool_executions(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
) -> Result<Vec<tool_executions::Model>, DbErr> {
    tool_executions::Entity::find()
        .filter(tool_executions::Column::TenantId.eq(tenant_id))
        .filter(tool_executions::Column::ExceptionId.eq(exception_id))
        .order_by_asc(tool_executions::Column::RequestedAt)
        .all(db)
        .await
}

/// The exception's feedback (written once it is resolved or escalated), if any.
pub async fn feedback(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    exception_id: &str,
) -> Result<Option<feedback::Model>, DbErr> {
    feedback::Entity::find()
        .filter(feedback::Column::TenantId.eq(tenant_id))
        .filter(feedback::Column::ExceptionId.eq(exception_id))
        .one(db)
        .await
}
