//! Creates `tool_executions`: one row per tool invocation requested by a playbook step.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ToolExecutions::Table)
                    .if_not_exists()
                    .col(text(ToolExecutions::ExecutionId).primary_key())
                    .col(text(ToolExecutions::TenantId))
                    .col(text(ToolExecutions::ExceptionId))
                    .col(integer(ToolExecutions::StepNumber))
                    .col(text(ToolExecutions::ToolName))
                    .col(text(ToolExecutions::Status))
                    .col(integer(ToolExecutions::Attempts))
                    .col(text(ToolExecutions::Input))
                    .col(text_null(ToolExecutions::Output))
                    .col(text_null(ToolExecutions::Error))
                    .col(timestamp_with_time_zone(ToolExecutions::RequestedAt))
                    .col(timestamp_with_time_zone_null(ToolExecutions::StartedAt))
                    .col(timestamp_with_time_zone_null(ToolExecutions::CompletedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ToolExecutions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ToolExecutions {
    Table,
    ExecutionId,
    TenantId,
    ExceptionId,
    StepNumber,
    ToolName,
    Status,
    Attempts,
    Input,
    Output,
    Error,
    RequestedAt,
    StartedAt,
    CompletedAt,
}
