//! Publishing on commit reads unpublished rows by key (an input redelivered after a crash) and
//! in sequence order (the sweeper): two partial indexes over unpublished rows only, which stay
//! small however large `events` grows. Rows of the embedded log are on the bus the moment they
//! commit, so they are marked published (at their creation) and leave those indexes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE events SET published_at = created_at
             WHERE published_at IS NULL AND log_offset IS NOT NULL",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_events_published_at_seq")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_events_unpublished_seq ON events (seq) WHERE published_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_events_unpublished_key ON events (key, seq) WHERE published_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ix_events_unpublished_key")
            .await?;
        db.execute_unprepared("DROP INDEX ix_events_unpublished_seq")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_published_at_seq")
                    .table(Events::Table)
                    .col(Events::PublishedAt)
                    .col(Events::Seq)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("UPDATE events SET published_at = NULL WHERE log_offset IS NOT NULL")
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    PublishedAt,
    Seq,
}
