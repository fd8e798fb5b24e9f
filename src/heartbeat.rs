//! The heartbeat: every WORKER_HEARTBEAT_SECS this process upserts its row in `workers` (who it
//! is, and a snapshot of its partitions, in-flight events and failed roles) and forgets the rows
//! of processes silent for `FORGET_AFTER`. On graceful shutdown it deletes its own row. A beat
//! that fails is logged, and the next one retries; it never stops the process.

use std::time::Duration;

use actix::prelude::*;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use entity::workers;
use sea_orm::DatabaseConnection;

use crate::activity::{ActivityRecorder, ActivitySample};
use crate::config::Settings;
use crate::consumer::{ReportPartitions, RoleConsumer};
use crate::fleet::WorkerState;
use crate::metrics::{Metrics, GIT_COMMIT, VERSION};
use crate::model::RoleName;
use crate::runtime::Runtime;
use crate::store::workers as registry;

/// Rows whose last beat is older than this are deleted by whichever process beats next.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// How long a beat waits for the role consumers' reports.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

/// What a process says of itself on every beat, apart from its state.
#[derive(Debug, Clone)]
pub struct ProcessIdentity {
    pub instance_id: String,
    pub host: String,
    pub roles: Vec<RoleName>,
    pub concurrency: usize,
    /// `embedded` or `kafka`.
    pub backend: &'static str,
    pub interval: Duration,
    pub started_at: DateTime<Utc>,
}

impl ProcessIdentity {
    /// The identity of the process `settings` configure, started now.
    pub fn of(settings: &Settings, instance_id: &str, host: &str) -> Self {
        Self {
            instance_id: instance_id.to_owned(),
            host: host.to_owned(),
            roles: settings.roles.clone(),
            concurrency: settings.concurrency,
            backend: match settings.kafka {
                Some(_) => "kafka",
                None => "embedded",
            },
            interval: settings.tuning.worker_heartbeat,
            started_at: Utc::now(),
        }
    }

    /// The row to write at `now` with `state`.
    fn row(&self, state: &WorkerState, now: DateTime<Utc>) -> serde_json::Result<workers::Model> {
        let roles: Vec<&str> = self.roles.iter().map(|role| role.as_str()).collect();
        Ok(workers::Model {
            instance_id: self.instance_id.clone(),
            host: self.host.clone(),
            version: VERSION.to_owned(),
            git_commit: GIT_COMMIT.to_owned(),
            roles: serde_json::to_string(&roles)?,
            concurrency: i32::try_from(self.concurrency).unwrap_or(i32::MAX),
            backend: self.backend.to_owned(),
            heartbeat_secs: i32::try_from(self.interval.as_secs()).unwrap_or(i32::MAX),
            started_at: self.started_at,
            heartbeat_at: now,
            state: serde_json::to_string(state)?,
        })
    }
}

pub struct Heartbeat {
    db: DatabaseConnection,
    identity: ProcessIdentity,
    /// Each consumer role with its consumer, which reports the role's partitions.
    consumers: Vec<(RoleName, Addr<RoleConsumer>)>,
    metrics: Metrics,
    /// The roles' recent work, sampled at each beat.
    activity: ActivityRecorder,
    /// Set by `StopHeartbeat`: no beat starts after it.
    stopping: bool,
}

/// Stops the heartbeat; with `remove_row` (a graceful shutdown) its row is deleted first.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopHeartbeat {
    pub remove_row: bool,
}

impl Heartbeat {
    pub fn new(
        runtime: &Runtime,
        identity: ProcessIdentity,
        consumers: Vec<(RoleName, Addr<RoleConsumer>)>,
    ) -> Self {
        Self {
            db: runtime.db.clone(),
            identity,
            consumers,
            metrics: runtime.metrics.clone(),
            activity: ActivityRecorder::default(),
            stopping: false,
        }
    }

    /// One beat. The actor waits for it, so a stop never overtakes a beat under way (whose
    /// upsert would bring the deleted row back).
    fn beat(&mut self, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        let activity = self
            .activity
            .sample(&self.metrics, &self.identity.roles, Utc::now());
        let beat = beat(
            self.db.clone(),
            self.identity.clone(),
            self.consumers.clone(),
            self.metrics.clone(),
            activity,
        );
        ctx.wait(beat.into_actor(self).map(|result, _heartbeat, _ctx| {
            if let Err(error) = result {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "Heartbeat failed; the next one retries."
                );
            }
        }));
    }
}

async fn beat(
    db: DatabaseConnection,
    identity: ProcessIdentity,
    consumers: Vec<(RoleName, Addr<RoleConsumer>)>,
    metrics: Metrics,
    activity: Vec<ActivitySample>,
) -> anyhow::Result<()> {
    let mut state = snapshot(&identity.roles, &consumers, &metrics).await;
    state.activity = activity;
    // Rows carry the wall-clock time of their beat, whatever clock the roles use.
    let now = Utc::now();
    let row = identity
        .row(&state, now)
        .context("could not encode this process's state")?;
    registry::upsert(&db, &row)
        .await
        .context("could not write this process's row")?;
    let cutoff = now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default();
    let forgotten = registry::forget_silent_since(&db, cutoff)
        .await
        .context("could not forget silent processes")?;
    if forgotten > 0 {
        tracing::info!(
            forgotten,
            "Forgot processes without a heartbeat for an hour."
        );
    }
    Ok(())
}

/// The roles' partitions (from their consumers), in-flight events and failed flags (from the
/// metrics the roles keep).
async fn snapshot(
    roles: &[RoleName],
    consumers: &[(RoleName, Addr<RoleConsumer>)],
    metrics: &Metrics,
) -> WorkerState {
    let mut state = WorkerState::default();
    for (role, consumer) in consumers {
        match tokio::time::timeout(SNAPSHOT_WAIT, consumer.send(ReportPartitions)).await {
            Ok(Ok(partitions)) => state.partitions.extend(partitions),
            Ok(Err(_gone)) => tracing::debug!(%role, "The role consumer is gone."),
            Err(_late) => tracing::debug!(%role, "The role consumer did not report in time."),
        }
        let in_flight = metrics.in_flight.with_label_values(&[role.as_str()]).get();
        state.in_flight.insert(role.as_str().to_owned(), in_flight);
    }
    state.failed_roles = roles
        .iter()
        .filter(|role| {
            metrics
                .role_failed
                .with_label_values(&[role.as_str()])
                .get()
                != 0
        })
        .map(|role| role.as_str().to_owned())
        .collect();
    state
}

impl Actor for Heartbeat {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.beat(ctx);
        ctx.run_interval(self.identity.interval, |heartbeat, ctx| heartbeat.beat(ctx));
    }
}

impl actix::Handler<StopHeartbeat> for Heartbeat {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, message: StopHeartbeat, _ctx: &mut Self::Context) -> Self::Result {
        self.stopping = true;
        let db = self.db.clone();
        let instance_id = self.identity.instance_id.clone();
        let remove = async move {
            if !message.remove_row {
                return;
            }
            if let Err(error) = registry::remove(&db, &instance_id).await {
                tracing::warn!(%error, "Could not delete this process's row in workers; it turns stale and is forgotten after an hour.");
            }
        };
        Box::pin(
            remove
                .into_actor(self)
                .map(|(), _heartbeat, ctx| ctx.stop()),
        )
    }
}
