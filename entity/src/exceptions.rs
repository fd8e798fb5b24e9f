//! `exceptions`: the current state of each exception, keyed by (tenant_id, exception_id).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "exceptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub tenant_id: String,
    /// Unique per tenant only: another tenant's exception of the same id is another exception.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub exception_id: String,
    #[sea_orm(column_type = "Text")]
    pub domain: String,
    #[sea_orm(column_type = "Text")]
    pub exception_type: String,
    #[sea_orm(column_type = "Text")]
    pub source_system: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub severity: Option<String>,
    pub confidence: Option<f64>,
    pub sla_deadline: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub policy_decision: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub playbook_id: Option<String>,
    pub approval_required: Option<bool>,
    /// The payload exactly as received (JSON text, bytes preserved).
    #[sea_orm(column_type = "Text")]
    pub raw_payload: String,
    /// The normalized exception document (JSON text).
    #[sea_orm(column_type = "Text")]
    pub normalized: String,
    pub occurred_at: DateTimeUtc,
    pub sla_imminent_at: Option<DateTimeUtc>,
    pub sla_breached_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
