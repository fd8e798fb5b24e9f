//! Creates `feedback`: the outcome summary recorded once per exception.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .if_not_exists()
                    .col(text(Feedback::TenantId))
                    .col(text(Feedback::ExceptionId))
                    .col(text(Feedback::Outcome))
                    .col(text(Feedback::Classification))
                    .col(double(Feedback::TotalSeconds))
                    .col(integer(Feedback::StepsCompleted))
                    .col(double(Feedback::ToolSeconds))
                    .col(text(Feedback::Details))
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Feedback::TenantId)
                            .col(Feedback::ExceptionId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Feedback::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    TenantId,
    ExceptionId,
    Outcome,
    Classification,
    TotalSeconds,
    StepsCompleted,
    ToolSeconds,
    Details,
    CreatedAt,
}
