//! `bus_partitions`: the embedded bus's next offset per (topic, partition).
//!
//! Offsets are allocated with `UPDATE ... SET next_offset = next_offset + 1 ... RETURNING`
//! under this row's lock.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bus_partitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub topic: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub partition: i32,
    #[sea_orm(default_value = 0)]
    pub next_offset: i64,
}

impl ActiveModelBehavior for ActiveModel {}
