//! Lets a dead-lettered event be replayed under its own event id: `events.replay_count`
//! distinguishes the replayed copies (unique with the event id), so roles that already
//! processed the event still dedupe it. Dead letters remember the record key for the replay.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(integer(Events::ReplayCount).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_events_event_id")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_events_event_id_replay_count")
                    .table(Events::Table)
                    .col(Events::EventId)
                    .col(Events::ReplayCount)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeadLetters::Table)
                    .add_column(text_null(DeadLetters::RecordKey))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DeadLetters::Table)
                    .drop_column(DeadLetters::RecordKey)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_events_event_id_replay_count")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_events_event_id")
                    .table(Events::Table)
                    .col(Events::EventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::ReplayCount)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    EventId,
    ReplayCount,
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    RecordKey,
}
