//! Web console sessions (`console_sessions`): created at sign-in, looked up by the SHA-256 of
//! the cookie on every console request, deleted at sign-out, and expired rows swept at sign-in.

use chrono::{DateTime, Utc};
use entity::console_sessions::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Records a new session.
pub async fn create(db: &impl ConnectionTrait, session: Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        id_sha256: Set(session.id_sha256),
        tenant_id: Set(session.tenant_id),
        csrf_token: Set(session.csrf_token),
        created_at: Set(session.created_at),
        expires_at: Set(session.expires_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The live session with this cookie digest, if any.
pub async fn find_live(
    db: &impl ConnectionTrait,
    id_sha256: &str,
    now: DateTime<Utc>,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id_sha256.to_owned())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Ends a session.
pub async fn delete(db: &impl ConnectionTrait, id_sha256: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id_sha256.to_owned()).exec(db).await?;
    Ok(())
}

/// Removes sessions that expired; answers how many.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
