//! `processed_events`: idempotency ledger of which role has already handled which event.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "processed_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub event_id: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub role: String,
    pub processed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
