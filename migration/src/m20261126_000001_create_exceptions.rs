//! Creates `exceptions`: exception state keyed by (tenant_id, exception_id).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Exceptions::Table)
                    .if_not_exists()
                    .col(text(Exceptions::TenantId))
                    .col(text(Exceptions::ExceptionId))
                    .col(text(Exceptions::Domain))
                    .col(text(Exceptions::ExceptionType))
                    .col(text(Exceptions::SourceSystem))
                    .col(text(Exceptions::Status))
                    .col(text_null(Exceptions::Severity))
                    .col(double_null(Exceptions::Confidence))
                    .col(timestamp_with_time_zone_null(Exceptions::SlaDeadline))
                    .col(text_null(Exceptions::PolicyDecision))
                    .col(text_null(Exceptions::PlaybookId))
                    .col(boolean_null(Exceptions::ApprovalRequired))
                    .col(text(Exceptions::RawPayload))
                    .col(text(Exceptions::Normalized))
                    .col(timestamp_with_time_zone(Exceptions::OccurredAt))
                    .col(timestamp_with_time_zone_null(Exceptions::SlaImminentAt))
                    .col(timestamp_with_time_zone_null(Exceptions::SlaBreachedAt))
                    .col(timestamp_with_time_zone(Exceptions::CreatedAt))
                    .col(timestamp_with_time_zone(Exceptions::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Exceptions::TenantId)
                            .col(Exceptions::ExceptionId),
                    )
                    .to_owned(),
            )
            .await?;

        // An exception id belongs to exactly one tenant: a second tenant reusing it must fail.
        manager
            .create_index(
                Index::create()
                    .name("ux_exceptions_exception_id")
                    .table(Exceptions::Table)
                    .col(Exceptions::ExceptionId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("ix_exceptions_tenant_id_status")
                    .table(Exceptions::Table)
                    .col(Exceptions::TenantId)
                    .col(Exceptions::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Exceptions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Exceptions {
    Table,
    TenantId,
    ExceptionId,
    Domain,
    ExceptionType,
    SourceSystem,
    Status,
    Severity,
    Confidence,
    SlaDeadline,
    PolicyDecision,
    PlaybookId,
    ApprovalRequired,
    RawPayload,
    Normalized,
    OccurredAt,
    SlaImminentAt,
    SlaBreachedAt,
    CreatedAt,
    UpdatedAt,
}
