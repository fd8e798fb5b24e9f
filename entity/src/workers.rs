//! `workers`: the running processes of the fleet, one row each, kept fresh by its heartbeat.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "workers")]
pub struct Model {
    /// The process's instance id (host, pid and a random suffix), as in leases.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub instance_id: String,
    #[sea_orm(column_type = "Text")]
    pub host: String,
    /// The package version of the build.
    #[sea_orm(column_type = "Text")]
    pub version: String,
    /// The commit the build came from, or `unknown`.
    #[sea_orm(column_type = "Text")]
    pub git_commit: String,
    /// The roles it runs, as a JSON array of role names.
    #[sea_orm(column_type = "Text")]
    pub roles: String,
    /// CONCURRENCY: handler actors per consumer role.
    pub concurrency: i32,
    /// `embedded` or `kafka`.
    #[sea_orm(column_type = "Text")]
    pub backend: String,
    /// Its WORKER_HEARTBEAT_SECS: the row is stale once three of them pass without a beat.
    pub heartbeat_secs: i32,
    pub started_at: DateTimeUtc,
    pub heartbeat_at: DateTimeUtc,
    /// A JSON snapshot taken at the last heartbeat: partitions, in-flight counts, failed roles.
    #[sea_orm(column_type = "Text")]
    pub state: String,
}

impl ActiveModelBehavior for ActiveModel {}
