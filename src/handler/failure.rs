//! Error classes and the retry schedule. Permanent errors go to the dead-letter path at once;
//! infrastructure errors (database unreachable) are retried forever and never dead-lettered;
//! everything else, panics included, is retried up to MAX_ATTEMPTS, then dead-lettered.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DbErr, RuntimeErr};

use crate::backoff::Backoff;
use crate::config::TuningSettings;
use crate::roles::RoleError;

/// How a failure is handled (on the wire in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
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

/// One failed attempt, classified. `reason` is what logs and the dead letter say: the error and
/// every cause under it; `source` keeps the error itself for whoever wants to look further.
#[derive(Debug, Clone)]
pub struct AttemptFailure {
    pub class: ErrorClass,
    pub reason: String,
    pub source: Option<Arc<dyn Error + Send + Sync>>,
}

impl AttemptFailure {
    pub fn new(class: ErrorClass, reason: impl Into<String>) -> Self {
        Self {
            class,
            reason: reason.into(),
            source: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, reason)
    }

    pub fn transient(reason: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, reason)
    }
}

/// `error: cause: cause ...`, each cause once (many errors repeat their source's text).
pub fn with_causes(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let said = current.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = current.source();
    }
    text
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
            reason: format!("database error: {}", with_causes(&error)),
            source: Some(Arc::new(error)),
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

/// The pause before attempt `attempt + 1` of a handler, a fetch or a restart: the shared
/// backoff with RETRY_BACKOFF_BASE_MS and RETRY_BACKOFF_MAX_MS.
pub fn backoff(tuning: &TuningSettings, attempt: u32) -> Duration {
    Backoff::new(tuning.retry_backoff_base, tuning.retry_backoff_max).delay(attempt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk I/O error")]
    struct Disk;

    #[derive(Debug, thiserror::Error)]
    #[error("statement failed")]
    struct Statement(#[source] Disk);

    #[test]
    fn the_reason_keeps_every_cause_and_the_source_is_kept() {
        let error = DbErr::Custom("commit".into());
        let failure = AttemptFailure::from(error);
        assert!(failure.source.is_some());
        assert_eq!(
            with_causes(&Statement(Disk)),
            "statement failed: disk I/O error"
        );
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
