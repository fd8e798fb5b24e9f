//! `dead_letters`: records a consumer role gave up on, kept for replay or discard.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    /// Auto-incremented by the database.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text", unique_key = "position")]
    pub role: String,
    #[sea_orm(column_type = "Text", unique_key = "position")]
    pub topic: String,
    #[sea_orm(unique_key = "position")]
    pub partition: i32,
    #[sea_orm(unique_key = "position")]
    pub log_offset: i64,
    #[sea_orm(column_type = "Text")]
    pub event_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub exception_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub event_type: Option<String>,
    /// The record's bytes exactly as consumed.
    #[sea_orm(column_type = "Text")]
    pub envelope: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    #[sea_orm(column_type = "Text")]
    pub error_class: String,
    pub attempts: i32,
    /// `pending`, `replayed` or `discarded`.
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// The consumed record's key, so a replay lands on the same partition.
    #[sea_orm(column_type = "Text")]
    pub record_key: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
