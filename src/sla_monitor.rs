//! The SLA monitor: every SLA_CHECK_INTERVAL_SECS, on the one replica holding the `sla-monitor`
//! lease, flags exceptions whose SLA is nearly used (SLAImminent) or passed (SLAExpired, and
//! ExceptionEscalated when still unresolved). Flags live on the exception row and are set by
//! conditional updates in the same transaction as the events, so neither a restart nor a second
//! monitor ever repeats one. The clock is injected.

use std::sync::Arc;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::bus::Bus;
use crate::bus::{write_and_emit, LogRow, OutgoingEvent};
use crate::clock::Clock;
use crate::config::SlaSettings;
use crate::envelope::Envelope;
use crate::metrics::Metrics;
use crate::model::{event_types, topics, ExceptionStatus};
use crate::roles::DERIVED_ID_NAMESPACE;
use crate::runtime::Runtime;
use crate::store::leases;
use crate::store::sla::{self, Candidate};

pub const SLA_LEASE: &str = "sla-monitor";
/// Exceptions examined per check, most urgent first.
const BATCH: u64 = 1000;

pub struct SlaMonitor {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    holder: String,
    settings: SlaSettings,
    busy: bool,
}

/// Runs one check now (tests drive the monitor with it and an injected clock).
#[derive(Message)]
#[rtype(result = "Result<CheckReport, SlaCheckFailed>")]
pub struct CheckNow;

/// Why a check could not run (the database, the lease), with its cause.
#[derive(Debug, thiserror::Error)]
#[error("SLA check failed: {0:#}")]
pub struct SlaCheckFailed(#[source] anyhow::Error);

/// Stops the monitor (on shutdown); its lease expires by itself.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopMonitor;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub leader: bool,
    pub imminent: usize,
    pub breached: usize,
}

impl SlaMonitor {
    pub fn new(runtime: &Runtime, holder: String, settings: SlaSettings) -> Self {
        Self {
            db: runtime.db.clone(),
            bus: runtime.bus.clone(),
            clock: runtime.clock.clone(),
            metrics: runtime.metrics.clone(),
            holder,
            settings,
            busy: false,
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let check = check(self.snapshot());
        ctx.spawn(check.into_actor(self).map(|result, monitor, _ctx| {
            monitor.busy = false;
            if let Err(error) = result {
                tracing::warn!(%error, "SLA check failed; will retry.");
            }
        }));
    }

    fn snapshot(&self) -> Checker {
        Checker {
            db: self.db.clone(),
            bus: self.bus.clone(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
            holder: self.holder.clone(),
            settings: self.settings.clone(),
        }
    }
}

struct Checker {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    holder: String,
    settings: SlaSettings,
}

async fn check(checker: Checker) -> anyhow::Result<CheckReport> {
    let now = checker.clock.now();
    let ttl = chrono::Duration::from_std(checker.settings.check_interval * 3)?
        .max(chrono::Duration::seconds(30));
    if !leases::acquire(&checker.db, SLA_LEASE, &checker.holder, now, ttl).await? {
        return Ok(CheckReport::default());
    }
    let mut report = CheckReport {
        leader: true,
        ..CheckReport::default()
    };
    for candidate in sla::candidates(&checker.db, BATCH).await? {
        if now >= candidate.sla_deadline {
            if raise(&checker, &candidate, Flag::Breached, now).await? {
                report.breached += 1;
            }
        } else if !candidate.imminent_flagged
            && elapsed_fraction(&candidate, now) >= checker.settings.imminent_threshold
            && raise(&checker, &candidate, Flag::Imminent, now).await?
        {
            report.imminent += 1;
        }
    }
    Ok(report)
}

/// How much of the SLA window has passed: 0 at creation, 1 at the deadline.
pub fn elapsed_fraction(candidate: &Candidate, now: DateTime<Utc>) -> f64 {
    let window = (candidate.sla_deadline - candidate.created_at).num_milliseconds();
    if window <= 0 {
        return 1.0;
    }
    (now - candidate.created_at).num_milliseconds() as f64 / window as f64
}

fn event(
    candidate: &Candidate,
    event_type: &str,
    payload: Value,
    now: DateTime<Utc>,
) -> OutgoingEvent {
    let seed = format!(
        "{}:{}:{event_type}",
        candidate.tenant_id, candidate.exception_id
    );
    let event_id = Uuid::new_v5(&DERIVED_ID_NAMESPACE, seed.as_bytes());
    let payload: Map<String, Value> = payload.as_object().cloned().unwrap_or_default();
    let mut envelope = Envelope::with_id(
        event_id,
        event_type,
        &candidate.tenant_id,
        Some(candidate.exception_id.clone()),
        payload,
        now,
    );
    envelope.metadata.insert(
        "producer_role".to_owned(),
        Value::String("sla_monitor".to_owned()),
    );
    let topic = if event_type == event_types::EXCEPTION_ESCALATED {
        topics::OUTCOMES
    } else {
        topics::SLA
    };
    OutgoingEvent { topic, envelope }
}

/// The two SLA flags, each set at most once per exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    Imminent,
    Breached,
}

impl Flag {
    fn label(self) -> &'static str {
        match self {
            Flag::Imminent => "imminent",
            Flag::Breached => "breached",
        }
    }

    /// The events that announce this flag for `candidate`.
    fn events(self, candidate: &Candidate, now: DateTime<Utc>) -> Vec<OutgoingEvent> {
        match self {
            Flag::Imminent => {
                let payload = json!({
                    "sla_deadline": candidate.sla_deadline,
                    "elapsed_fraction": elapsed_fraction(candidate, now),
                    "minutes_remaining": (candidate.sla_deadline - now).num_minutes(),
                });
                vec![event(candidate, event_types::SLA_IMMINENT, payload, now)]
            }
            Flag::Breached => {
                let expired = json!({ "sla_deadline": candidate.sla_deadline, "breached_at": now });
                let mut events = vec![event(candidate, event_types::SLA_EXPIRED, expired, now)];
                let was_open = !candidate
                    .status
                    .parse::<ExceptionStatus>()
                    .is_ok_and(ExceptionStatus::is_terminal);
                if was_open {
                    let reason =
                        json!({ "reason": "SLA deadline passed", "escalated_by": "sla_monitor" });
                    events.push(event(
                        candidate,
                        event_types::EXCEPTION_ESCALATED,
                        reason,
                        now,
                    ));
                }
                events
            }
        }
    }
}

/// Sets `flag` on the exception and appends its events in one transaction; false when another
/// check (or monitor) set it first.
async fn raise(
    checker: &Checker,
    candidate: &Candidate,
    flag: Flag,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let (tenant, exception) = (&candidate.tenant_id, &candidate.exception_id);
    let (set, delivery) = write_and_emit(&checker.db, checker.bus.as_ref(), async |txn| {
        let set = match flag {
            Flag::Imminent => sla::flag_imminent(txn, tenant, exception, now).await?,
            Flag::Breached => sla::flag_breached(txn, tenant, exception, now).await?,
        };
        let rows = match set {
            true => flag
                .events(candidate, now)
                .iter()
                .map(LogRow::from)
                .collect(),
            false => Vec::new(),
        };
        Ok::<_, sea_orm::DbErr>((set, rows))
    })
    .await?;
    delivery.wait().await;
    if !set {
        return Ok(false);
    }
    checker
        .metrics
        .sla_flags
        .with_label_values(&[flag.label()])
        .inc();
    match flag {
        Flag::Imminent => {
            tracing::info!(tenant = %tenant, exception_id = %exception, "SLA imminent.")
        }
        Flag::Breached => {
            tracing::warn!(tenant = %tenant, exception_id = %exception, "SLA breached.")
        }
    }
    Ok(true)
}

impl Actor for SlaMonitor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.settings.check_interval, |monitor, ctx| {
            monitor.tick(ctx)
        });
        self.tick(ctx);
    }
}

impl actix::Handler<CheckNow> for SlaMonitor {
    type Result = ResponseFuture<Result<CheckReport, SlaCheckFailed>>;

    fn handle(&mut self, _message: CheckNow, _ctx: &mut Self::Context) -> Self::Result {
        let checker = self.snapshot();
        Box::pin(async move { check(checker).await.map_err(SlaCheckFailed) })
    }
}

impl actix::Handler<StopMonitor> for SlaMonitor {
    type Result = ();

    fn handle(&mut self, _message: StopMonitor, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_fraction_runs_from_creation_to_deadline() {
        let created_at = Utc::now();
        let candidate = Candidate {
            tenant_id: "t".into(),
            exception_id: "e".into(),
            status: "analyzing".into(),
            created_at,
            sla_deadline: created_at + chrono::Duration::minutes(100),
            imminent_flagged: false,
        };
        assert_eq!(elapsed_fraction(&candidate, created_at), 0.0);
        assert_eq!(
            elapsed_fraction(&candidate, created_at + chrono::Duration::minutes(80)),
            0.8
        );
        assert!(elapsed_fraction(&candidate, created_at + chrono::Duration::minutes(150)) > 1.0);
    }
}
