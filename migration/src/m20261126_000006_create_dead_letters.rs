//! Creates `dead_letters`: records a consumer role gave up on, pending replay or discard.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeadLetters::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DeadLetters::Id))
                    .col(text(DeadLetters::Role))
                    .col(text(DeadLetters::Topic))
                    .col(integer(DeadLetters::Partition))
                    .col(big_integer(DeadLetters::LogOffset))
                    .col(text_null(DeadLetters::EventId))
                    .col(text_null(DeadLetters::TenantId))
                    .col(text_null(DeadLetters::ExceptionId))
                    .col(text_null(DeadLetters::EventType))
                    .col(text(DeadLetters::Envelope))
                    .col(text(DeadLetters::Reason))
                    .col(text(DeadLetters::ErrorClass))
                    .col(integer(DeadLetters::Attempts))
                    .col(text(DeadLetters::Status))
                    .col(timestamp_with_time_zone(DeadLetters::CreatedAt))
                    .col(timestamp_with_time_zone_null(DeadLetters::ResolvedAt))
                    .to_owned(),
            )
            .await?;

        // A record is dead-lettered at most once per consuming role.
        manager
            .create_index(
                Index::create()
                    .name("ux_dead_letters_role_topic_partition_log_offset")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::Role)
                    .col(DeadLetters::Topic)
                    .col(DeadLetters::Partition)
                    .col(DeadLetters::LogOffset)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_dead_letters_status_id")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::Status)
                    .col(DeadLetters::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeadLetters::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    Id,
    Role,
    Topic,
    Partition,
    LogOffset,
    EventId,
    TenantId,
    ExceptionId,
    EventType,
    Envelope,
    Reason,
    ErrorClass,
    Attempts,
    Status,
    CreatedAt,
    ResolvedAt,
}
