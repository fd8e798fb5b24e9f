//! Creates `playbook_steps`: per-exception playbook steps and their progress.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlaybookSteps::Table)
                    .if_not_exists()
                    .col(text(PlaybookSteps::TenantId))
                    .col(text(PlaybookSteps::ExceptionId))
                    .col(integer(PlaybookSteps::StepNumber))
                    .col(text(PlaybookSteps::PlaybookId))
                    .col(text(PlaybookSteps::Action))
                    .col(text(PlaybookSteps::Params))
                    .col(text(PlaybookSteps::Status))
                    .col(text_null(PlaybookSteps::ExecutionId))
                    .col(text_null(PlaybookSteps::Actor))
                    .col(timestamp_with_time_zone_null(PlaybookSteps::StartedAt))
                    .col(timestamp_with_time_zone_null(PlaybookSteps::CompletedAt))
                    .primary_key(
                        Index::create()
                            .col(PlaybookSteps::ExceptionId)
                            .col(PlaybookSteps::StepNumber),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlaybookSteps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PlaybookSteps {
    Table,
    TenantId,
    ExceptionId,
    StepNumber,
    PlaybookId,
    Action,
    Params,
    Status,
    ExecutionId,
    Actor,
    StartedAt,
    CompletedAt,
}
