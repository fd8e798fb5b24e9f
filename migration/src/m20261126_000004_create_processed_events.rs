//! Creates `processed_events`: which role has already handled which event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProcessedEvents::Table)
                    .if_not_exists()
                    .col(text(ProcessedEvents::EventId))
                    .col(text(ProcessedEvents::Role))
                    .col(timestamp_with_time_zone(ProcessedEvents::ProcessedAt))
                    .primary_key(
                        Index::create()
                            .col(ProcessedEvents::EventId)
                            .col(ProcessedEvents::Role),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProcessedEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ProcessedEvents {
    Table,
    EventId,
    Role,
    ProcessedAt,
}
