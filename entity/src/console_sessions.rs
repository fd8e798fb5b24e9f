//! `console_sessions`: signed-in web console sessions, by the SHA-256 of their cookie.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// Hex SHA-256 of the session cookie's value.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id_sha256: String,
    /// The tenant signed in; None for the operator.
    #[sea_orm(column_type = "Text", nullable)]
    pub tenant_id: Option<String>,
    /// The token every form of this session carries.
    #[sea_orm(column_type = "Text")]
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
