//! Runs the migrations up, down and up again on SQLite and Postgres, then proves the entities
//! match the schema by writing and reading rows through them.
//!
//! Postgres: a uniquely named database is created on the server at `TEST_DATABASE_URL` and dropped
//! afterwards (the test-support crate's `TestDb`). Without that variable the Postgres case is
//! skipped, unless `CI=true`.

use std::error::Error;

use chrono::{DateTime, Utc};
use entity::exceptions;
use entity::prelude::{Exceptions, PlaybookSteps};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseBackend,
    DatabaseConnection, EntityTrait, Statement,
};
use test_support::{Backend, TestDb};

mod events_table;
mod other_tables;

use events_table::{bus_partition_allocation, events_round_trip};
use other_tables::other_tables_round_trip;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

const TABLES: [&str; 12] = [
    "exceptions",
    "events",
    "bus_partitions",
    "processed_events",
    "consumer_offsets",
    "dead_letters",
    "playbook_steps",
    "tool_executions",
    "feedback",
    "leases",
    "workers",
    "console_sessions",
];

/// Fails the test with `message` unless `condition` holds (an error, not a panic, so the
/// connection is still closed).
fn ensure(condition: bool, message: impl Into<String>) -> TestResult {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

fn ensure_eq<T: PartialEq + std::fmt::Debug>(left: T, right: T, what: &str) -> TestResult {
    ensure(
        left == right,
        format!("{what}: left {left:?} != right {right:?}"),
    )
}

/// A fixed instant with microsecond precision (what timestamptz keeps).
fn at(micros: i64) -> TestResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(1_795_651_200_000_000 + micros)
        .ok_or_else(|| "timestamp out of range".into())
}

async fn table_presence(db: &DatabaseConnection) -> TestResult<Vec<(&'static str, bool)>> {
    let manager = SchemaManager::new(db);
    let mut presence = Vec::new();
    for table in TABLES {
        presence.push((table, manager.has_table(table).await?));
    }
    Ok(presence)
}

async fn ensure_tables(db: &DatabaseConnection, expected: bool, stage: &str) -> TestResult {
    for (table, present) in table_presence(db).await? {
        ensure(
            present == expected,
            format!("{stage}: table {table} present={present}, expected {expected}"),
        )?;
    }
    Ok(())
}

/// up → down → up, then every check below.
async fn exercise(db: &DatabaseConnection) -> TestResult {
    rows_survive_scoping_ids_by_tenant(db).await?;
    Migrator::up(db, None).await?;
    ensure_tables(db, true, "after first up").await?;

    Migrator::down(db, None).await?;
    ensure_tables(db, false, "after down").await?;
    ensure_eq(
        Migrator::get_applied_migrations(db).await?.len(),
        0,
        "applied migrations after down",
    )?;

    Migrator::up(db, None).await?;
    ensure_tables(db, true, "after second up").await?;
    ensure_eq(
        Migrator::get_pending_migrations(db).await?.len(),
        0,
        "pending migrations after second up",
    )?;
    ensure_eq(
        Migrator::get_applied_migrations(db).await?.len(),
        Migrator::migrations().len(),
        "applied migrations after second up",
    )?;

    events_round_trip(db).await?;
    bus_partition_allocation(db).await?;
    exceptions_round_trip(db).await?;
    other_tables_round_trip(db).await?;
    Ok(())
}

fn new_exception(tenant_id: &str, exception_id: &str) -> TestResult<exceptions::ActiveModel> {
    Ok(exceptions::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        exception_id: Set(exception_id.to_owned()),
        domain: Set("payments".to_owned()),
        exception_type: Set("SettlementMismatch".to_owned()),
        source_system: Set("ledger".to_owned()),
        status: Set("open".to_owned()),
        severity: Set(Some("high".to_owned())),
        confidence: Set(Some(0.875)),
        sla_deadline: Set(Some(at(10)?)),
        policy_decision: Set(None),
        playbook_id: Set(Some("pb-1".to_owned())),
        approval_required: Set(Some(true)),
        raw_payload: Set("{\"amount\": 10.50}".to_owned()),
        normalized: Set("{\"amount\":\"10.50\"}".to_owned()),
        occurred_at: Set(at(3)?),
        sla_imminent_at: Set(None),
        sla_breached_at: Set(None),
        created_at: Set(at(4)?),
        updated_at: Set(at(4)?),
    })
}

async fn exceptions_round_trip(db: &DatabaseConnection) -> TestResult {
    let inserted = new_exception("tenant-a", "EX-1")?.insert(db).await?;
    let read = Exceptions::find_by_id(("tenant-a".to_owned(), "EX-1".to_owned()))
        .one(db)
        .await?
        .ok_or("exception not found")?;
    ensure_eq(&read, &inserted, "exception read back")?;
    ensure_eq(read.confidence, Some(0.875), "exceptions.confidence")?;
    ensure_eq(
        read.approval_required,
        Some(true),
        "exceptions.approval_required",
    )?;
    // Ids are scoped by tenant: another tenant's EX-1 is another exception.
    let other = new_exception("tenant-b", "EX-1")?.insert(db).await?;
    ensure_eq(other.tenant_id.as_str(), "tenant-b", "tenant-b's EX-1")?;
    ensure(
        new_exception("tenant-a", "EX-1")?.insert(db).await.is_err(),
        "an exception id reused within its tenant must be rejected",
    )?;
    Ok(())
}

/// Rows written before ids were scoped by tenant survive that migration unchanged.
async fn rows_survive_scoping_ids_by_tenant(db: &DatabaseConnection) -> TestResult {
    // Migrations 1 to 11 are the schema before exception ids were scoped by tenant.
    Migrator::up(db, Some(11)).await?;
    let exception = new_exception("tenant-a", "EX-9")?.insert(db).await?;
    let step = other_tables::new_step("tenant-a", "EX-9", 1)
        .insert(db)
        .await?;
    Migrator::up(db, None).await?;
    ensure_eq(
        Exceptions::find_by_id(("tenant-a".to_owned(), "EX-9".to_owned()))
            .one(db)
            .await?,
        Some(exception),
        "exception after scoping ids by tenant",
    )?;
    ensure_eq(
        PlaybookSteps::find_by_id(("tenant-a".to_owned(), "EX-9".to_owned(), 1))
            .one(db)
            .await?,
        Some(step),
        "playbook step after scoping ids by tenant",
    )?;
    Migrator::down(db, None).await?;
    Ok(())
}

async fn sqlite_table_sql(db: &DatabaseConnection, table: &str) -> TestResult<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"),
        ))
        .await?
        .ok_or_else(|| format!("no DDL for {table}"))?;
    Ok(row.try_get::<String>("", "sql")?)
}

#[tokio::test]
async fn sqlite_up_down_up() -> TestResult {
    let test_db = TestDb::create(Backend::Sqlite)
        .await
        .ok_or("no SQLite test database")?;
    let db = Database::connect(test_db.url.as_str()).await?;

    exercise(&db).await?;

    // A BIGINT autoincrement key must be a rowid alias with AUTOINCREMENT on SQLite.
    for (table, column) in [("events", "seq"), ("dead_letters", "id")] {
        let ddl = sqlite_table_sql(&db, table).await?;
        println!("sqlite DDL for {table}: {ddl}");
        ensure(
            ddl.to_lowercase().contains(&format!(
                "\"{column}\" integer not null primary key autoincrement"
            )),
            format!("{table}.{column} is not INTEGER PRIMARY KEY AUTOINCREMENT: {ddl}"),
        )?;
    }
    let sequences = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT name FROM sqlite_sequence ORDER BY name",
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    ensure_eq(
        sequences,
        vec!["dead_letters".to_owned(), "events".to_owned()],
        "sqlite_sequence entries",
    )?;

    db.close().await?;
    Ok(())
}

async fn postgres_checks(db: &DatabaseConnection) -> TestResult {
    exercise(db).await?;

    for (table, column) in [("events", "seq"), ("dead_letters", "id")] {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!(
                    "SELECT data_type, is_identity FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = '{table}' \
                     AND column_name = '{column}'"
                ),
            ))
            .await?
            .ok_or_else(|| format!("no column {table}.{column}"))?;
        let data_type: String = row.try_get("", "data_type")?;
        let is_identity: String = row.try_get("", "is_identity")?;
        println!("postgres {table}.{column}: {data_type}, identity={is_identity}");
        ensure_eq(data_type.as_str(), "bigint", "autoincrement key type")?;
        ensure_eq(is_identity.as_str(), "YES", "autoincrement key is identity")?;
    }
    Ok(())
}

#[tokio::test]
async fn postgres_up_down_up() -> TestResult {
    let Some(test_db) = TestDb::create(Backend::Postgres).await else {
        return Ok(());
    };
    let db = Database::connect(test_db.url.as_str()).await?;
    let checked = postgres_checks(&db).await;
    db.close().await?;
    checked
}
