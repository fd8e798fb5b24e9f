//! `events`: the transactional outbox and, for the embedded bus, the partitioned log itself.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Insertion order; auto-incremented by the database.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// Unique together with `replay_count`: a replayed dead letter keeps its event id.
    #[sea_orm(column_type = "Text", unique_key = "event_replay")]
    pub event_id: String,
    #[sea_orm(column_type = "Text")]
    pub topic: String,
    /// Set once the event has a position in the log.
    pub partition: Option<i32>,
    /// Offset within (topic, partition); set together with `partition`.
    pub log_offset: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub key: String,
    #[sea_orm(column_type = "Text")]
    pub event_type: String,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub exception_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub correlation_id: String,
    /// The exact serialized event bytes, as published.
    #[sea_orm(column_type = "Text")]
    pub envelope: String,
    /// Transport headers (JSON text).
    #[sea_orm(column_type = "Text")]
    pub headers: Option<String>,
    pub created_at: DateTimeUtc,
    /// When the event was on the bus: at append for the embedded log; once the broker
    /// acknowledged it for the Kafka outbox (None until then).
    pub published_at: Option<DateTimeUtc>,
    /// 0 for the original; n for the n-th replay of the same event.
    #[sea_orm(unique_key = "event_replay")]
    pub replay_count: i32,
}

impl ActiveModelBehavior for ActiveModel {}
