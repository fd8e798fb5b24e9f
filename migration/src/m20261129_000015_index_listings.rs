//! The listings of the API page by keyset, newest first or soonest SLA deadline first, within a
//! tenant or across tenants: one index per order, each ending in the columns that make the key
//! unique, so the first page and the thousandth both start with an index seek. The old
//! (tenant_id, status) index is a prefix of the status listing's and goes.
//!
//! Dead letters need nothing new: the listing pages on the primary key, or on
//! `ix_dead_letters_status_id` when filtered by status.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, columns) of each index this migration adds to `exceptions`.
const INDEXES: [(&str, &str); 5] = [
    // A tenant's exceptions, newest first.
    (
        "ix_exceptions_tenant_created",
        "tenant_id, created_at, exception_id",
    ),
    // A tenant's exceptions in one status, newest first.
    (
        "ix_exceptions_tenant_status_created",
        "tenant_id, status, created_at, exception_id",
    ),
    // A tenant's exceptions by SLA deadline (and those without one, by id).
    (
        "ix_exceptions_tenant_sla_deadline",
        "tenant_id, sla_deadline, exception_id",
    ),
    // Every tenant's exceptions, newest first (the operator).
    (
        "ix_exceptions_created",
        "created_at, tenant_id, exception_id",
    ),
    // Every tenant's exceptions by SLA deadline (the operator, and the SLA monitor's scan).
    (
        "ix_exceptions_sla_deadline",
        "sla_deadline, tenant_id, exception_id",
    ),
];

const REPLACED: (&str, &str) = ("ix_exceptions_tenant_id_status", "tenant_id, status");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, columns) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON exceptions ({columns})"))
                .await?;
        }
        db.execute_unprepared(&format!("DROP INDEX {}", REPLACED.0))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (name, columns) = REPLACED;
        db.execute_unprepared(&format!("CREATE INDEX {name} ON exceptions ({columns})"))
            .await?;
        for (name, _) in INDEXES.iter().rev() {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
