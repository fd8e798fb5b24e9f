//! `tool_executions`: one row per tool invocation requested by a playbook step.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tool_executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub execution_id: String,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub exception_id: String,
    pub step_number: i32,
    #[sea_orm(column_type = "Text")]
    pub tool_name: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub attempts: i32,
    /// Tool input (JSON text).
    #[sea_orm(column_type = "Text")]
    pub input: String,
    /// Tool output (JSON text), once completed.
    #[sea_orm(column_type = "Text")]
    pub output: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub error: Option<String>,
    pub requested_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
