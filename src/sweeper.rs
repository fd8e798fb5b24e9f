//! The outbox sweeper (Kafka): each process publishes the rows its own transactions committed,
//! right after the commit; the sweeper only picks up rows left unpublished past a grace period,
//! which is what a crash between a commit and its publish leaves. One sweeper runs at a time
//! across all replicas (a lease). A row it publishes that the owner published too (slowly) is
//! deduplicated by consumers through its event id.

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::bus::{outbox, Bus};
use crate::config::kafka::SweeperSettings;
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use crate::store::leases;

pub const SWEEPER_LEASE: &str = "outbox-sweeper";
const LEASE_TTL_SECS: i64 = 10;

/// The lease as this holder last took it. Each renewal is a commit, so it is renewed only once
/// a third of its time is used up, not on every pass; nobody else can take it before it
/// expires.
#[derive(Clone, Default)]
struct HeldLease(Arc<Mutex<Option<DateTime<Utc>>>>);

impl HeldLease {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        let renew_below = chrono::Duration::seconds(LEASE_TTL_SECS) * 2 / 3;
        self.lock()
            .is_some_and(|expires_at| expires_at - now > renew_below)
    }

    /// Takes or renews the lease when it is not fresh; true while this holder holds it.
    async fn hold(
        &self,
        db: &DatabaseConnection,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        if self.fresh(now) {
            return Ok(true);
        }
        let ttl = chrono::Duration::seconds(LEASE_TTL_SECS);
        let held = leases::acquire(db, SWEEPER_LEASE, holder, now, ttl).await?;
        *self.lock() = held.then_some(now + ttl);
        Ok(held)
    }

    async fn release(&self, db: &DatabaseConnection, holder: &str) -> Result<(), sea_orm::DbErr> {
        *self.lock() = None;
        leases::release(db, SWEEPER_LEASE, holder).await
    }
}

pub struct OutboxSweeper {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    holder: String,
    settings: SweeperSettings,
    metrics: Metrics,
    lease: HeldLease,
    busy: bool,
}

/// Gives the lease up so another replica can take it at once, then stops.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopSweeping;

impl OutboxSweeper {
    pub fn new(runtime: &Runtime, holder: String, settings: SweeperSettings) -> Self {
        Self {
            db: runtime.db.clone(),
            bus: runtime.bus.clone(),
            holder,
            settings,
            metrics: runtime.metrics.clone(),
            lease: HeldLease::default(),
            busy: false,
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let pass = sweep(
            self.db.clone(),
            self.bus.clone(),
            self.lease.clone(),
            self.holder.clone(),
            self.settings.clone(),
            self.metrics.clone(),
        );
        ctx.spawn(pass.into_actor(self).map(|result, sweeper, ctx| {
            sweeper.busy = false;
            match result {
                // A full batch: more may be waiting.
                Ok(true) => sweeper.tick(ctx),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "Outbox sweep failed; will retry."),
            }
        }));
    }
}

/// One pass: publishes the rows past their grace period, if this process holds the lease.
/// Returns whether the batch was full.
async fn sweep(
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    lease: HeldLease,
    holder: String,
    settings: SweeperSettings,
    metrics: Metrics,
) -> anyhow::Result<bool> {
    // Rows carry the wall-clock time of their commit, whatever clock the roles use.
    let now = Utc::now();
    if !lease.hold(&db, &holder, now).await? {
        return Ok(false);
    }
    let grace = chrono::Duration::from_std(settings.grace).unwrap_or(chrono::Duration::zero());
    let rows = outbox::unpublished_before(&db, now - grace, settings.batch_size).await?;
    let full = rows.len() == settings.batch_size;
    if !rows.is_empty() {
        let count = rows.len();
        let report = bus.deliver_swept(rows).await;
        tracing::info!(
            rows = count,
            delivered = report.delivered,
            failed = report.failed,
            "Swept rows left unpublished."
        );
    }
    metrics.outbox_backlog.set(outbox::backlog(&db).await?);
    Ok(full)
}

impl Actor for OutboxSweeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.settings.interval, |sweeper, ctx| sweeper.tick(ctx));
        self.tick(ctx);
    }
}

impl actix::Handler<StopSweeping> for OutboxSweeper {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _message: StopSweeping, _ctx: &mut Self::Context) -> Self::Result {
        let db = self.db.clone();
        let holder = self.holder.clone();
        let lease = self.lease.clone();
        let release = async move {
            if let Err(error) = lease.release(&db, &holder).await {
                tracing::warn!(%error, "Could not release the sweeper lease; it expires by itself.");
            }
        };
        Box::pin(release.into_actor(self).map(|(), _sweeper, ctx| ctx.stop()))
    }
}
