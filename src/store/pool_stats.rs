//! What the database pool is doing, for the metrics: connections idle and in use, its limit,
//! and how long one acquire took just now (a sample, taken by the health probe loop).

use std::time::{Duration, Instant};

use sea_orm::{DatabaseBackend, DatabaseConnection};

#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
    /// None when no connection could be had within the pool's acquire timeout.
    pub acquire: Option<Duration>,
}

/// Samples the pool of `db`; None for a connection that is not a pool (a mock).
pub async fn sample(db: &DatabaseConnection) -> Option<PoolStats> {
    macro_rules! stats_of {
        ($pool:expr) => {{
            let pool = $pool;
            let started = Instant::now();
            let acquire = pool.acquire().await.ok().map(|connection| {
                drop(connection);
                started.elapsed()
            });
            let size = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            Some(PoolStats {
                idle,
                in_use: size.saturating_sub(idle),
                max: pool.options().get_max_connections(),
                acquire,
            })
        }};
    }
    match db.get_database_backend() {
        DatabaseBackend::Postgres => stats_of!(db.get_postgres_connection_pool()),
        DatabaseBackend::Sqlite => stats_of!(db.get_sqlite_connection_pool()),
        _ => None,
    }
}
