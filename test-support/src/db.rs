//! Where a test's data lives: a fresh SQLite file, a fresh Postgres database, or a fresh
//! Postgres database plus a private share (topic prefix, group) of the Kafka broker; each is
//! dropped when the test ends.

use std::sync::LazyLock;

use exception_worker::telemetry::{self, LogFormat};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        telemetry::init(LogFormat::Pretty, std::io::stdout);
    }
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file and the embedded bus.
    Sqlite,
    /// A Postgres database and the embedded bus.
    Postgres,
    /// A Postgres database and the Kafka bus on the broker at TEST_KAFKA_BOOTSTRAP_SERVERS.
    KafkaPostgres,
}

/// A test's share of the broker: every app of the test (a restart included) uses these topics
/// and consumer groups, which no other test uses.
#[derive(Debug, Clone)]
pub struct KafkaShare {
    pub servers: String,
    /// Prepended to every topic of this test.
    pub topic_prefix: String,
    /// GROUP_ID: each role's group is `{group}.{role}`.
    pub group: String,
}

/// A database that lives as long as the test: a temp directory for SQLite, a uniquely named
/// database for Postgres (dropped, best effort, when this value is dropped), and for Kafka a
/// topic prefix and consumer group of the test's own.
pub struct TestDb {
    pub url: String,
    pub kafka: Option<KafkaShare>,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// None when the Postgres or Kafka variant must be skipped (TEST_DATABASE_URL or
    /// TEST_KAFKA_BOOTSTRAP_SERVERS unset outside CI; under CI=true that panics instead).
    pub async fn create(backend: Backend) -> Option<TestDb> {
        LazyLock::force(&TRACING);
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("Failed to create a temp directory");
                let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
                Some(TestDb {
                    url,
                    kafka: None,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::KafkaPostgres => {
                let servers = kafka_bootstrap_servers("the Kafka + Postgres variant")?;
                let mut db = Box::pin(TestDb::create(Backend::Postgres)).await?;
                let unique = uuid::Uuid::new_v4().simple().to_string();
                db.kafka = Some(KafkaShare {
                    servers,
                    topic_prefix: format!("a{}.", &unique[..12]),
                    group: format!("a{}", &unique[..12]),
                });
                Some(db)
            }
            Backend::Postgres => {
                let admin_url = postgres_server_url()?;
                let name = format!("ew_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("Failed to connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
                    .await
                    .expect("Failed to create the test database");
                let _closed = admin.close().await;
                Some(TestDb {
                    url: with_database_name(&admin_url, &name),
                    kafka: None,
                    _dir: None,
                    postgres: Some((admin_url, name)),
                })
            }
        }
    }

    /// A connection of the test's own, e.g. to change rows while no app runs.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(self.url.as_str())
            .await
            .expect("Failed to connect to the test database")
    }
}

fn postgres_server_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "TEST_DATABASE_URL is not set but CI=true: the Postgres variant of every test must run in CI \
             (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            eprintln!("note: skipping the Postgres variant: TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// The broker under test, or None (with a note naming `skipped`) when it is not configured;
/// under CI=true that panics instead.
pub(crate) fn kafka_bootstrap_servers(skipped: &str) -> Option<String> {
    match std::env::var("TEST_KAFKA_BOOTSTRAP_SERVERS") {
        Ok(servers) if !servers.trim().is_empty() => Some(servers.trim().to_owned()),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "TEST_KAFKA_BOOTSTRAP_SERVERS is not set but CI=true: {skipped} must run in CI \
             (scripts/test.sh starts a broker; or run `scripts/kafka-broker.sh start` and export \
             TEST_KAFKA_BOOTSTRAP_SERVERS=<the address it prints>)"
        ),
        _ => {
            eprintln!("note: skipping {skipped}: TEST_KAFKA_BOOTSTRAP_SERVERS is not set");
            None
        }
    }
}

/// `postgres://user@host:port/any?query` with its database replaced by `name`.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (address, query) = match url.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (url, None),
    };
    let authority_start = address.find("://").map_or(0, |index| index + 3);
    let base = match address[authority_start..].find('/') {
        Some(slash) => &address[..authority_start + slash],
        None => address,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let admin = Database::connect(admin_url.as_str()).await.ok()?;
                let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                let _dropped = admin.execute_unprepared(&sql).await;
                admin.close().await.ok()
            })
        });
        let _best_effort = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x",
            "plain"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable",
            "with query"
        );
        assert_eq!(
            with_database_name("postgres://h:5432", "x"),
            "postgres://h:5432/x",
            "no path"
        );
    }
}
