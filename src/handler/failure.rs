//! Error classes and the retry schedule. Permanent errors go to the dead-letter path at once;
//! infrastructure errors (database unreachable) are retried forever and never dead-lettered;
//! everything else, panics included, is retried up to MAX_ATTEMPTS, then dead-lettered.

use std::time::Duration;

use rand::Rng;
use sea_orm::{DbErr, RuntimeErr};

use crate::config::TuningSettings;
use crate::roles::RoleError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Permanent,
    Infrastructure,
    Transient,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 3] = [
        ErrorClass::Permanent,
        ErrorClass::Infrastructure,
        ErrorClass::Transient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Permanent => "permanent",
            ErrorClass::Infrastructure => "infrastructure",
            ErrorClass::Transient => "transient",
        }
    }
}

/// One failed attempt, classified.
#[derive(Debug, Clone)]
pub struct AttemptFailure {
    pub class: ErrorClass,
    pub reason: String,
}

impl AttemptFailure {
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Permanent,
            reason: reason.into(),
        }
    }

    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Transient,
            reason: reason.into(),
        }
    }
}

impl From<DbErr> for AttemptFailure {
    fn from(error: DbErr) -> Self {
        let class = if is_infrastructure(&error) {
            ErrorClass::Infrastructure
        } else {
            ErrorClass::Transient
        };
        Self {
            class,
            reason: format!("database error: {error}"),
        }
    }
}

impl From<RoleError> for AttemptFailure {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::Database(db) => db.into(),
            RoleError::TenantViolation(_) | RoleError::Invalid(_) => {
                AttemptFailure::permanent(error.to_string())
            }
            RoleError::Failed(_) => AttemptFailure::transient(error.to_string()),
        }
    }
}

/// SQLSTATEs of a server that cut the connection or refuses new ones because it is shutting
/// down, restarting or recovering: connection exceptions, admin or crash shutdown, cannot
/// connect now.
const UNREACHABLE_SQLSTATES: [&str; 8] = [
    "08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03",
];

/// Lock contention, not a fault of the event: SQLite busy or locked (several processes on one
/// file), and Postgres serialization failures and deadlocks. Retried like an outage (never
/// dead-lettered), since the next attempt, in a fresh transaction, succeeds.
const CONTENTION_CODES: [&str; 8] = ["5", "261", "517", "773", "6", "262", "40001", "40P01"];

/// True when the database could not be reached at all, was too contended to take the
/// transaction, or has no room to write (a full disk), as opposed to refusing a statement.
pub fn is_infrastructure(error: &DbErr) -> bool {
    if crate::store::database::is_storage_failure(error) {
        return true;
    }
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => {
            match sqlx.as_ref() {
                sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed
                | sea_orm::sqlx::Error::Tls(_) => true,
                sea_orm::sqlx::Error::Database(error) => error.code().is_some_and(|code| {
                    UNREACHABLE_SQLSTATES.contains(&code.as_ref())
                        || CONTENTION_CODES.contains(&code.as_ref())
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Exponential backoff with jitter: a random delay in [cap/2, cap], where cap doubles from the
/// base with each attempt up to the maximum.
pub fn backoff(tuning: &TuningSettings, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let cap = tuning
        .retry_backoff_base
        .saturating_mul(1u32 << exponent)
        .min(tuning.retry_backoff_max);
    let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(rand::rng().random_range(cap_ms / 2..=cap_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let tuning = TuningSettings {
            retry_backoff_base: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            ..TuningSettings::default()
        };
        for _ in 0..50 {
            let first = backoff(&tuning, 1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = backoff(&tuning, 3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            let late = backoff(&tuning, 40);
            assert!(
                late >= Duration::from_millis(500) && late <= Duration::from_millis(1000),
                "{late:?}"
            );
        }
    }

    #[test]
    fn role_errors_map_to_classes() {
        assert_eq!(
            AttemptFailure::from(RoleError::Invalid("x".into())).class,
            ErrorClass::Permanent
        );
        assert_eq!(
            AttemptFailure::from(RoleError::TenantViolation("x".into())).class,
            ErrorClass::Permanent
        );
        assert_eq!(
            AttemptFailure::from(RoleError::Failed("x".into())).class,
            ErrorClass::Transient
        );
        let unreachable = DbErr::Conn(RuntimeErr::Internal("refused".into()));
        assert_eq!(
            AttemptFailure::from(unreachable).class,
            ErrorClass::Infrastructure
        );
        assert_eq!(
            AttemptFailure::from(DbErr::Custom("constraint".into())).class,
            ErrorClass::Transient
        );
    }

    #[tokio::test]
    async fn sqlite_lock_contention_is_retried_like_an_outage() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let connect = |url: String| async move {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(1)
                .map_sqlx_sqlite_opts(|sqlite| sqlite.busy_timeout(std::time::Duration::ZERO));
            Database::connect(options).await.unwrap()
        };
        let holder = connect(url.clone()).await;
        let contender = connect(url).await;
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let txn = holder.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let error = contender
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap_err();
        assert!(is_infrastructure(&error), "{error:?}");
        assert_eq!(
            AttemptFailure::from(error).class,
            ErrorClass::Infrastructure
        );
        txn.rollback().await.unwrap();
    }
}
