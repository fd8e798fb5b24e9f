//! Connecting to SQLite or Postgres with settings fit for each, and applying migrations.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// Every statement is logged at this level under `sqlx::query` (`RUST_LOG=sqlx::query=debug`
/// shows them; filtered out, the log costs a level check).
const STATEMENT_LOG_LEVEL: log::LevelFilter = log::LevelFilter::Debug;

/// Read connections beside SQLite's single writer.
const SQLITE_READERS: u32 = 2;

/// Opens the connection pool. SQLite gets one connection (it has one writer anyway, and a single
/// connection rules out SQLITE_BUSY between our own transactions), WAL and a busy timeout for
/// other processes such as `exception-worker ingest`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = base_options(url);
    if url.starts_with("sqlite:") {
        create_sqlite_parent_dir(url)?;
        options
            .max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        options.max_connections(max_connections);
    }
    Database::connect(options).await.with_context(|| {
        format!(
            "Failed to connect to the database at {}",
            crate::config::redact_url_password(url)
        )
    })
}

/// A connection pool for reads that need only committed data (the embedded bus's fetches). On
/// a SQLite file it is a pool of its own: WAL readers run beside the single writer instead of
/// queueing behind its transactions. Elsewhere (Postgres, in-memory SQLite) it is `writer`.
pub async fn committed_reader(
    url: &str,
    writer: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(writer.clone());
    }
    let mut options = base_options(url);
    options
        .max_connections(SQLITE_READERS)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite.read_only(true).busy_timeout(Duration::from_secs(10))
        });
    Database::connect(options).await.with_context(|| {
        format!(
            "Failed to open read connections to {}",
            crate::config::redact_url_password(url)
        )
    })
}

/// What every pool shares: statement logging and the connect and acquire timeouts.
fn base_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(true)
        .sqlx_logging_level(STATEMENT_LOG_LEVEL)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    options
}

fn create_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create the data directory {}", parent.display()))?;
    }
    Ok(())
}

/// Applies pending migrations when `run_migrations`, otherwise refuses to start on a schema
/// that is behind this binary.
pub async fn prepare_schema(db: &DatabaseConnection, run_migrations: bool) -> anyhow::Result<()> {
    if run_migrations {
        Migrator::up(db, None)
            .await
            .context("Failed to apply database migrations")?;
        return Ok(());
    }
    let pending = Migrator::get_pending_migrations(db)
        .await
        .context("Failed to read the migration status")?;
    if !pending.is_empty() {
        bail!(
            "the database schema is {} migration(s) behind this binary; run `exception-worker migrate` or set RUN_MIGRATIONS=true",
            pending.len()
        );
    }
    Ok(())
}

/// A cheap round trip, for readiness; a database that does not answer within two seconds
/// counts as unreachable.
pub async fn ping(db: &DatabaseConnection) -> bool {
    let round_trip = db.execute_unprepared("SELECT 1");
    matches!(
        tokio::time::timeout(Duration::from_secs(2), round_trip).await,
        Ok(Ok(_))
    )
}
