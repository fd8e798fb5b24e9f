//! Creates `workers`: one row per running process (its identity, configuration and a JSON
//! snapshot of its partitions), upserted by its heartbeat and deleted when it stops gracefully.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workers::Table)
                    .if_not_exists()
                    .col(text(Workers::InstanceId).primary_key())
                    .col(text(Workers::Host))
                    .col(text(Workers::Version))
                    .col(text(Workers::GitCommit))
                    .col(text(Workers::Roles))
                    .col(integer(Workers::Concurrency))
                    .col(text(Workers::Backend))
                    .col(integer(Workers::HeartbeatSecs))
                    .col(timestamp_with_time_zone(Workers::StartedAt))
                    .col(timestamp_with_time_zone(Workers::HeartbeatAt))
                    .col(text(Workers::State))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Workers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Workers {
    Table,
    InstanceId,
    Host,
    Version,
    GitCommit,
    Roles,
    Concurrency,
    Backend,
    HeartbeatSecs,
    StartedAt,
    HeartbeatAt,
    State,
}
