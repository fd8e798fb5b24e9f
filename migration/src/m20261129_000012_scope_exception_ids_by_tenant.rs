//! Exception ids belong to their tenant: two tenants may each have an exception `X1`, and
//! neither can see, block or learn of the other's. The global unique index on
//! `exceptions.exception_id` goes, and `playbook_steps` is keyed by tenant too. Existing rows
//! already satisfy the new keys (ids were globally unique before), so no data changes.
//!
//! `down` restores the global index and fails if two tenants now share an id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The primary key of `playbook_steps`, old and new.
const STEP_KEY_BEFORE: &str = "exception_id, step_number";
const STEP_KEY_AFTER: &str = "tenant_id, exception_id, step_number";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_exceptions_exception_id")
                    .table(Exceptions::Table)
                    .to_owned(),
            )
            .await?;
        rekey_playbook_steps(manager, STEP_KEY_AFTER).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey_playbook_steps(manager, STEP_KEY_BEFORE).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_exceptions_exception_id")
                    .table(Exceptions::Table)
                    .col(Exceptions::ExceptionId)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

/// Gives `playbook_steps` the primary key `key`. Postgres swaps the constraint in place; SQLite
/// cannot alter a primary key, so the table is rebuilt and its rows copied.
async fn rekey_playbook_steps(manager: &SchemaManager<'_>, key: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "ALTER TABLE playbook_steps DROP CONSTRAINT playbook_steps_pkey, \
                 ADD CONSTRAINT playbook_steps_pkey PRIMARY KEY ({key})"
            ))
            .await?;
        }
        _ => {
            db.execute_unprepared(&format!(
                "CREATE TABLE playbook_steps_rekeyed (
                     tenant_id text NOT NULL, exception_id text NOT NULL,
                     step_number integer NOT NULL, playbook_id text NOT NULL,
                     action text NOT NULL, params text NOT NULL, status text NOT NULL,
                     execution_id text NULL, actor text NULL,
                     started_at timestamp_with_timezone_text NULL,
                     completed_at timestamp_with_timezone_text NULL,
                     PRIMARY KEY ({key}));
                 INSERT INTO playbook_steps_rekeyed SELECT tenant_id, exception_id, step_number,
                     playbook_id, action, params, status, execution_id, actor, started_at,
                     completed_at FROM playbook_steps;
                 DROP TABLE playbook_steps;
                 ALTER TABLE playbook_steps_rekeyed RENAME TO playbook_steps;"
            ))
            .await?;
        }
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Exceptions {
    Table,
    ExceptionId,
}
