//! The outbox relay: publishes committed `events` rows that are not yet published, oldest first,
//! then marks them published. One relay publishes at a time across all replicas (a lease), so
//! rows keep their order. A crash between the publish and the mark republishes those rows on
//! the next pass; consumers dedupe them by event id.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::bus::RelayPort;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::{leases, unpublished};

pub const RELAY_LEASE: &str = "outbox-relay";
const LEASE_TTL_SECS: i64 = 10;

/// The lease as this holder last took it. Each renewal is a commit (a WAL flush on Postgres), so
/// it is renewed only once a third of its time is used up, not on every pass; nobody else can
/// take it before it expires.
#[derive(Clone, Default)]
pub struct HeldLease(Arc<Mutex<Option<DateTime<Utc>>>>);

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

    fn set(&self, expires_at: Option<DateTime<Utc>>) {
        *self.lock() = expires_at;
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
        let held = leases::acquire(db, RELAY_LEASE, holder, now, ttl).await?;
        self.set(held.then_some(now + ttl));
        Ok(held)
    }

    async fn release(&self, db: &DatabaseConnection, holder: &str) -> Result<(), sea_orm::DbErr> {
        self.set(None);
        leases::release(db, RELAY_LEASE, holder).await
    }
}

/// Test seam: fail after the publish and before the mark, as a crash there would.
pub trait RelayFaultHook: Send + Sync {
    fn after_publish(&self, published: usize) -> Result<(), String>;
}

pub struct OutboxRelay {
    db: DatabaseConnection,
    port: RelayPort,
    holder: String,
    batch_size: usize,
    poll_interval: Duration,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    faults: Option<Arc<dyn RelayFaultHook>>,
    lease: HeldLease,
    busy: bool,
    again: bool,
}

/// Publishes what is left (bounded by the deadline) and gives the lease up.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FlushAndStop {
    pub deadline: Duration,
}

struct PassReport {
    leader: bool,
    full_batch: bool,
}

impl OutboxRelay {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        port: RelayPort,
        holder: String,
        batch_size: usize,
        poll_interval: Duration,
        metrics: Metrics,
        clock: Arc<dyn Clock>,
        faults: Option<Arc<dyn RelayFaultHook>>,
    ) -> Self {
        Self {
            db,
            port,
            holder,
            batch_size,
            poll_interval,
            metrics,
            clock,
            faults,
            lease: HeldLease::default(),
            busy: false,
            again: false,
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            self.again = true;
            return;
        }
        self.busy = true;
        let pass = relay_pass(
            self.db.clone(),
            self.port.clone(),
            self.lease.clone(),
            self.holder.clone(),
            self.batch_size,
            self.metrics.clone(),
            self.clock.clone(),
            self.faults.clone(),
        );
        ctx.spawn(pass.into_actor(self).map(|result, relay, ctx| {
            relay.busy = false;
            match result {
                Ok(report) if report.leader && (report.full_batch || relay.again) => {
                    relay.again = false;
                    relay.tick(ctx);
                }
                Ok(_) => relay.again = false,
                Err(error) => tracing::warn!(%error, "Outbox relay pass failed; will retry."),
            }
        }));
    }
}

#[allow(clippy::too_many_arguments)]
async fn relay_pass(
    db: DatabaseConnection,
    port: RelayPort,
    lease: HeldLease,
    holder: String,
    batch_size: usize,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    faults: Option<Arc<dyn RelayFaultHook>>,
) -> anyhow::Result<PassReport> {
    if !lease.hold(&db, &holder, clock.now()).await? {
        return Ok(PassReport {
            leader: false,
            full_batch: false,
        });
    }
    let started = std::time::Instant::now();
    let rows = unpublished::next_batch(&db, batch_size).await?;
    let selected = started.elapsed();
    let full_batch = rows.len() == batch_size;
    if !rows.is_empty() {
        let results = port.publisher.publish(&rows).await;
        let produced = started.elapsed();
        let mut published = Vec::with_capacity(rows.len());
        for (row, result) in rows.iter().zip(results) {
            match result {
                Ok(()) => published.push(row.seq),
                Err(error) => {
                    metrics.outbox_publish_failures.inc();
                    tracing::warn!(seq = row.seq, topic = %row.topic, %error, "Publish failed; the row stays in the outbox.");
                }
            }
        }
        if let Some(faults) = &faults {
            faults
                .after_publish(published.len())
                .map_err(anyhow::Error::msg)?;
        }
        unpublished::mark_published(&db, &published, clock.now()).await?;
        metrics.outbox_published.inc_by(published.len() as u64);
        tracing::debug!(
            rows = rows.len(),
            select_us = selected.as_micros() as u64,
            produce_us = (produced - selected).as_micros() as u64,
            mark_us = (started.elapsed() - produced).as_micros() as u64,
            "Relay pass published."
        );
    }
    metrics.outbox_backlog.set(unpublished::backlog(&db).await?);
    Ok(PassReport {
        leader: true,
        full_batch,
    })
}

/// Publishes everything pending as this holder (for one-shot commands such as `ingest`).
/// Returns false when another process holds the relay lease; it will publish instead.
pub async fn publish_pending(
    db: &DatabaseConnection,
    port: &RelayPort,
    holder: &str,
    batch_size: usize,
    metrics: &Metrics,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<bool> {
    let lease = HeldLease::default();
    loop {
        let report = relay_pass(
            db.clone(),
            port.clone(),
            lease.clone(),
            holder.to_owned(),
            batch_size,
            metrics.clone(),
            clock.clone(),
            None,
        )
        .await?;
        if !report.leader {
            return Ok(false);
        }
        if !report.full_batch {
            lease.release(db, holder).await?;
            return Ok(true);
        }
    }
}

impl Actor for OutboxRelay {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.poll_interval, |relay, ctx| relay.tick(ctx));
        let appended = self.port.appended.clone();
        let wakeups = futures::stream::unfold(appended, |appended| async move {
            appended.notified().await;
            Some(((), appended))
        });
        ctx.add_stream(wakeups);
        self.tick(ctx);
    }
}

impl StreamHandler<()> for OutboxRelay {
    fn handle(&mut self, _wakeup: (), ctx: &mut Self::Context) {
        self.tick(ctx);
    }
}

impl actix::Handler<FlushAndStop> for OutboxRelay {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, message: FlushAndStop, _ctx: &mut Self::Context) -> Self::Result {
        let db = self.db.clone();
        let port = self.port.clone();
        let holder = self.holder.clone();
        let lease = self.lease.clone();
        let batch_size = self.batch_size;
        let metrics = self.metrics.clone();
        let clock = self.clock.clone();
        let faults = self.faults.clone();
        let flush = async move {
            let drain = async {
                loop {
                    match relay_pass(
                        db.clone(),
                        port.clone(),
                        lease.clone(),
                        holder.clone(),
                        batch_size,
                        metrics.clone(),
                        clock.clone(),
                        faults.clone(),
                    )
                    .await
                    {
                        Ok(report) if report.leader && report.full_batch => continue,
                        Ok(_) => break,
                        Err(error) => {
                            tracing::warn!(%error, "Final relay pass failed; another replica or the next start will publish.");
                            break;
                        }
                    }
                }
            };
            let _in_time = actix_rt::time::timeout(message.deadline, drain).await;
            if let Err(error) = lease.release(&db, &holder).await {
                tracing::warn!(%error, "Could not release the relay lease; it expires by itself.");
            }
        };
        Box::pin(flush.into_actor(self).map(|(), _relay, ctx| ctx.stop()))
    }
}
