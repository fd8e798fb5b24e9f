//! Connecting to SQLite or Postgres with settings fit for each, and applying migrations.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::Connection as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr};

/// Every statement is logged at this level under `sqlx::query` (`RUST_LOG=sqlx::query=debug`
/// shows them; filtered out, the log costs a level check).
const STATEMENT_LOG_LEVEL: log::LevelFilter = log::LevelFilter::Debug;

/// Read connections beside SQLite's single writer.
const SQLITE_READERS: u32 = 2;

/// Opens the connection pool. SQLite gets one connection (it has one writer anyway, and a single
/// connection rules out SQLITE_BUSY between our own transactions), WAL and a busy timeout for
/// other processes such as `exception-worker ingest`.
///
/// A SQLite connection that comes back to the pool still inside a transaction is closed, not
/// reused. SQLite rolls a transaction back by itself on some errors (a full disk, an I/O
/// error); the driver's own count of open transactions then stays one too high, so it would
/// turn the next BEGIN into a SAVEPOINT and the next ROLLBACK into a ROLLBACK TO, which leaves
/// a transaction open that nothing ever commits: every later "commit" would be a savepoint
/// release inside it, acknowledged and never durable.
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
            })
            .map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_release(|connection, _meta| {
                    let settled = !connection.is_in_transaction();
                    if !settled {
                        tracing::warn!(
                            "A database connection came back inside a transaction; closing it."
                        );
                    }
                    Box::pin(async move { Ok(settled) })
                })
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

/// A pooled Postgres connection idle longer than this is pinged before it is handed out (a
/// server restart or a proxy may have closed it); a busy pool pays no round trip per acquire.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// What every pool shares: statement logging and the connect and acquire timeouts. A SQLite
/// connection is a file handle that cannot go stale, so it is never pinged before use; that
/// saves a round trip to its worker thread on every transaction and every fetch.
fn base_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(true)
        .sqlx_logging_level(STATEMENT_LOG_LEVEL)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        options.test_before_acquire(false);
    } else {
        options.test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    }
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

/// The name of the `leases` row the write probe updates.
const WRITE_PROBE: &str = "storage-probe";

/// Whether the database accepts a write: one tiny committed upsert. A full disk fails it
/// (SQLite: SQLITE_FULL; Postgres: disk_full), where a SELECT still answers.
pub async fn write_probe(db: &DatabaseConnection) -> Result<(), DbErr> {
    let sql = r#"INSERT INTO leases (name, holder, expires_at, updated_at) VALUES ($1, $1, $2, $2)
                 ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at"#;
    let now = Utc::now();
    let probe = db.execute_raw(crate::store::statement(
        db,
        sql,
        vec![WRITE_PROBE.into(), now.into()],
    ));
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(result) => result.map(|_| ()),
        Err(_) => Err(DbErr::Custom("the write probe timed out".to_owned())),
    }
}

/// SQLite result codes (primary, the low byte of an extended code) and Postgres SQLSTATEs of
/// storage that cannot take writes: SQLITE_IOERR, SQLITE_FULL; insufficient_resources,
/// disk_full, io_error.
const SQLITE_STORAGE_CODES: [i64; 2] = [10, 13];
const POSTGRES_STORAGE_STATES: [&str; 3] = ["53000", "53100", "58030"];

/// True when `error` says the database's storage is full or failing, not that a statement
/// was wrong: nothing can be written until an operator frees space.
pub fn is_storage_failure(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx))
    | DbErr::Conn(RuntimeErr::SqlxError(sqlx))) = error
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(database) = sqlx.as_ref() else {
        return false;
    };
    let Some(code) = database.code() else {
        return false;
    };
    match code.parse::<i64>() {
        Ok(sqlite) if code.len() < 5 => SQLITE_STORAGE_CODES.contains(&(sqlite & 0xff)),
        _ => POSTGRES_STORAGE_STATES.contains(&code.as_ref()),
    }
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
