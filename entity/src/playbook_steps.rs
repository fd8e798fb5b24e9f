//! `playbook_steps`: the steps of the playbook chosen for an exception and their progress,
//! keyed by (tenant_id, exception_id, step_number).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "playbook_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub exception_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub step_number: i32,
    #[sea_orm(column_type = "Text")]
    pub playbook_id: String,
    #[sea_orm(column_type = "Text")]
    pub action: String,
    /// Step parameters (JSON text).
    #[sea_orm(column_type = "Text")]
    pub params: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub execution_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub actor: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
