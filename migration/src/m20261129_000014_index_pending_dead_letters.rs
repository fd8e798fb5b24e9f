//! A second copy of an event (published twice after a crash) is not dead-lettered twice while
//! its first dead letter is pending: the insert looks for a pending letter of the same event
//! and role, through this partial index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_dead_letters_pending_event ON dead_letters (event_id, role)
                 WHERE status = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_dead_letters_pending_event")
            .await?;
        Ok(())
    }
}
