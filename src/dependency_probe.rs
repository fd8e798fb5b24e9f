//! The dependency probe loop: every 2 s it asks whether the database answers and takes a
//! write (a full disk refuses writes) and whether the broker answers, and sets readiness from
//! the answers; it also samples the database pool for the metrics and gives freed memory back.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::health::Health;
use crate::runtime::Runtime;
use crate::store::{database, pool_stats};

/// Readiness follows whether the database takes a write: a full disk answers reads and refuses
/// writes, and an acknowledged request must mean a durable one.
async fn probe_writes(db: &DatabaseConnection, health: &Health) {
    let problem = match database::write_probe(db).await {
        Ok(()) => None,
        Err(error) if database::is_storage_failure(&error) => Some(error.to_string()),
        // Anything else (a lock held by another process, a slow disk) is not a full disk.
        Err(_) => return,
    };
    match (&problem, health.storage_problem()) {
        (Some(problem), None) => tracing::error!(
            %problem,
            "The database takes no writes; readiness is false and nothing is acknowledged until it does."
        ),
        (None, Some(_)) => tracing::info!("The database takes writes again."),
        _ => {}
    }
    health.set_storage_problem(problem);
}

/// How often the database and the broker are pinged for readiness.
const DATABASE_PROBE_INTERVAL: Duration = Duration::from_secs(2);

pub async fn run(runtime: Runtime) {
    let Runtime {
        db,
        bus,
        health,
        metrics,
        ..
    } = runtime;
    loop {
        let reachable = database::ping(&db).await;
        if !reachable {
            tracing::warn!("Database unreachable; readiness is false until it answers.");
        }
        health.set_database_reachable(reachable);
        if reachable {
            probe_writes(&db, &health).await;
        }
        let broker = bus.ping().await;
        if !broker {
            tracing::warn!("Broker unreachable; readiness is false until it answers.");
        }
        health.set_broker_reachable(broker);
        if let Some(pool) = pool_stats::sample(&db).await {
            metrics
                .db_pool_connections
                .with_label_values(&["idle"])
                .set(i64::from(pool.idle));
            metrics
                .db_pool_connections
                .with_label_values(&["in_use"])
                .set(i64::from(pool.in_use));
            metrics.db_pool_max.set(i64::from(pool.max));
            if let Some(acquire) = pool.acquire {
                metrics.db_acquire_seconds.set(acquire.as_secs_f64());
            }
        }
        crate::memory::give_back_free_memory();
        actix_rt::time::sleep(DATABASE_PROBE_INTERVAL).await;
    }
}
