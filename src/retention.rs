//! The retention task: every RETENTION_INTERVAL_SECS, the one process holding the retention
//! lease removes what the retention settings no longer keep, in bounded batches, and counts
//! what it removed per kind. Claims are kept longer than any redelivery can come (their window
//! has a floor), so exactly-once holds for every redelivery within it.

use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::config::retention::RetentionSettings;
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use crate::store::{leases, retention};

pub const RETENTION_LEASE: &str = "retention";
/// Longer than any pass should take; another process takes over after it if this one dies.
const LEASE_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// A pause between two batches, so other writers get the database in between.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);

pub struct RetentionTask {
    db: DatabaseConnection,
    settings: RetentionSettings,
    holder: String,
    metrics: Metrics,
    busy: bool,
}

impl RetentionTask {
    pub fn new(runtime: &Runtime, settings: RetentionSettings, holder: String) -> Self {
        Self {
            db: runtime.db.clone(),
            settings,
            holder,
            metrics: runtime.metrics.clone(),
            busy: false,
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let pass = run_pass(
            self.db.clone(),
            self.settings.clone(),
            self.holder.clone(),
            self.metrics.clone(),
        );
        ctx.spawn(pass.into_actor(self).map(|result, task, _ctx| {
            task.busy = false;
            if let Err(error) = result {
                tracing::warn!(%error, "Retention pass failed; the next one retries.");
            }
        }));
    }
}

impl Actor for RetentionTask {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.settings.interval, |task, ctx| task.tick(ctx));
    }
}

/// Stops the task (on shutdown); a pass under way ends with it and its lease expires by itself.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopRetention;

impl actix::Handler<StopRetention> for RetentionTask {
    type Result = ();

    fn handle(&mut self, _message: StopRetention, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// One pass, when this process holds the lease.
async fn run_pass(
    db: DatabaseConnection,
    settings: RetentionSettings,
    holder: String,
    metrics: Metrics,
) -> anyhow::Result<()> {
    let now = Utc::now();
    if !leases::acquire(&db, RETENTION_LEASE, &holder, now, LEASE_TTL).await? {
        return Ok(());
    }
    let cutoff = |window: Duration| now - chrono::Duration::from_std(window).unwrap_or_default();
    let batch = settings.batch_size;
    let mut removed = Vec::new();
    macro_rules! drain {
        ($kind:literal, $remove:path, $window:expr) => {{
            let before = cutoff($window);
            let mut total = 0u64;
            loop {
                let count = $remove(&db, before, batch).await?;
                total += count;
                metrics
                    .retention_removed
                    .with_label_values(&[$kind])
                    .inc_by(count);
                if count < batch {
                    break;
                }
                tokio::time::sleep(BETWEEN_BATCHES).await;
            }
            removed.push(($kind, total));
        }};
    }
    // Exceptions first: their events then no longer belong to an open exception.
    drain!(
        "finished_exceptions",
        retention::finished_exceptions,
        settings.finished_exceptions
    );
    drain!(
        "published_events",
        retention::published_events,
        settings.published_events
    );
    drain!(
        "closed_dead_letters",
        retention::closed_dead_letters,
        settings.closed_dead_letters
    );
    drain!(
        "processed_claims",
        retention::processed_claims,
        settings.processed_claims
    );
    leases::release(&db, RETENTION_LEASE, &holder).await?;
    metrics
        .retention_last_pass
        .set(Utc::now().timestamp_millis() as f64 / 1000.0);
    if removed.iter().any(|(_, total)| *total > 0) {
        tracing::info!(?removed, "Retention pass removed rows.");
    }
    Ok(())
}
