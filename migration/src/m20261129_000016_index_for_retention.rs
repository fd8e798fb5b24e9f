//! Retention removes rows by age in small batches; each batch finds its rows through one of
//! these indexes instead of scanning the table. The partial ones cover only rows retention may
//! remove (closed dead letters, finished exceptions).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 4] = [
    (
        "ix_processed_events_processed_at",
        "ON processed_events (processed_at)",
    ),
    ("ix_events_created_at", "ON events (created_at)"),
    (
        "ix_dead_letters_closed_resolved_at",
        "ON dead_letters (resolved_at) WHERE status <> 'pending'",
    ),
    (
        "ix_exceptions_finished_updated_at",
        "ON exceptions (updated_at) WHERE status IN ('resolved', 'escalated')",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, definition) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} {definition}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
