//! The root supervisor: per role a handler pool and a role consumer, plus the SLA monitor and
//! the maintenance actors (outbox sweeper, retention task, heartbeat); on shutdown it drains
//! every consumer (stop fetching, finish in-flight work up to the deadline, commit), stops the
//! maintenance actors (the heartbeat deletes this process's row) and then stops the pools.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::future::join_all;

use crate::config::kafka::SweeperSettings;
use crate::config::retention::RetentionSettings;
use crate::consumer::{HaltPartitionWorkers, RoleConsumer, StopConsuming};
use crate::handler::HandlerDeps;
use crate::handler_threads::HandlerThreads;
use crate::heartbeat::{Heartbeat, ProcessIdentity, StopHeartbeat};
use crate::model::RoleName;
use crate::partition::DrainReport;
use crate::pool::HandlerPool;
use crate::retention::RetentionTask;
use crate::roles::Role;
use crate::sla_monitor::{SlaMonitor, StopMonitor};
use crate::sweeper::{OutboxSweeper, StopSweeping};

/// One role's running parts.
struct RoleRuntime {
    pool: Arc<HandlerPool>,
    consumer: Addr<RoleConsumer>,
}

/// What the overseer needs to start a role.
pub struct RolePlan {
    pub role: Arc<dyn Role>,
    pub group: String,
    pub concurrency: usize,
}

#[derive(Message)]
#[rtype(result = "ShutdownReport")]
pub struct Shutdown {
    pub deadline: Duration,
    /// False only to simulate a crash: stop without committing offsets.
    pub commit: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ShutdownReport {
    pub partitions_drained: usize,
    pub abandoned_in_flight: usize,
}

/// How the maintenance actors run: the outbox sweeper (when the bus publishes through an
/// outbox) and the retention task, each under a lease so one process of the fleet does it; and
/// this process's heartbeat in `workers`.
pub struct MaintenancePlan {
    pub instance_id: String,
    pub sweeper: Option<SweeperSettings>,
    pub retention: RetentionSettings,
    /// When sla_monitor is among the roles.
    pub sla_monitor: Option<SlaMonitor>,
    pub identity: ProcessIdentity,
}

pub struct Overseer {
    deps: Arc<HandlerDeps>,
    threads: Arc<HandlerThreads>,
    plans: Vec<RolePlan>,
    roles: Vec<RoleRuntime>,
    maintenance_plan: Option<MaintenancePlan>,
    sweeper: Option<Addr<OutboxSweeper>>,
    retention: Option<Addr<RetentionTask>>,
    sla_monitor: Option<Addr<SlaMonitor>>,
    heartbeat: Option<Addr<Heartbeat>>,
}

impl Overseer {
    pub fn new(
        deps: Arc<HandlerDeps>,
        plans: Vec<RolePlan>,
        maintenance_plan: MaintenancePlan,
    ) -> Self {
        let threads = Arc::new(HandlerThreads::start(deps.runtime.tuning.handler_threads));
        Self {
            deps,
            threads,
            plans,
            roles: Vec::new(),
            maintenance_plan: Some(maintenance_plan),
            sweeper: None,
            retention: None,
            sla_monitor: None,
            heartbeat: None,
        }
    }

    fn start_maintenance(&mut self) {
        let Some(plan) = self.maintenance_plan.take() else {
            return;
        };
        if let Some(settings) = plan.sweeper.filter(|_| self.deps.runtime.bus.has_outbox()) {
            let sweeper =
                OutboxSweeper::new(&self.deps.runtime, plan.instance_id.clone(), settings);
            self.sweeper = Some(sweeper.start());
        }
        self.sla_monitor = plan.sla_monitor.map(Actor::start);
        let retention = RetentionTask::new(&self.deps.runtime, plan.retention, plan.instance_id);
        self.retention = Some(retention.start());
        let consumers = self
            .roles
            .iter()
            .map(|runtime| (runtime.pool.role_name(), runtime.consumer.clone()))
            .collect();
        let heartbeat = Heartbeat::new(&self.deps.runtime, plan.identity, consumers);
        self.heartbeat = Some(heartbeat.start());
    }
}

impl Actor for Overseer {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        for plan in std::mem::take(&mut self.plans) {
            let pool = HandlerPool::start(
                plan.role.clone(),
                self.deps.clone(),
                self.threads.clone(),
                plan.concurrency,
            );
            let consumer = RoleConsumer::new(
                plan.role.clone(),
                plan.group.clone(),
                pool.clone(),
                &self.deps.runtime,
            )
            .start();
            tracing::info!(role = %plan.role.name(), group = %plan.group, concurrency = pool.size(), "Role started.");
            self.roles.push(RoleRuntime { pool, consumer });
        }
        self.deps
            .runtime
            .health
            .expect_subscriptions(self.roles.len());
        self.start_maintenance();
    }
}

/// The SLA monitor's address, when this process runs it (tests drive it with `CheckNow`).
#[derive(Message)]
#[rtype(result = "Option<Addr<SlaMonitor>>")]
pub struct SlaMonitorAddress;

impl actix::Handler<SlaMonitorAddress> for Overseer {
    type Result = Option<Addr<SlaMonitor>>;

    fn handle(&mut self, _message: SlaMonitorAddress, _ctx: &mut Self::Context) -> Self::Result {
        self.sla_monitor.clone()
    }
}

/// Which children a crash drill stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// Handler actor `index` of the role's pool.
    Handler(usize),
    /// Every partition worker of the role.
    PartitionWorkers,
}

/// Stops children of `role` as a crash would, so their supervisor restarts them: for crash
/// drills and the supervision tests. Answers how many were stopped.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct StopChildren {
    pub role: RoleName,
    pub kind: ChildKind,
}

impl actix::Handler<StopChildren> for Overseer {
    type Result = ResponseFuture<usize>;

    fn handle(&mut self, message: StopChildren, _ctx: &mut Self::Context) -> Self::Result {
        let runtime = self
            .roles
            .iter()
            .find(|runtime| runtime.pool.role_name() == message.role);
        let Some(runtime) = runtime else {
            return Box::pin(async { 0 });
        };
        match message.kind {
            ChildKind::Handler(index) => {
                runtime.pool.stop_handler(index);
                Box::pin(async { 1 })
            }
            ChildKind::PartitionWorkers => {
                let halted = runtime.consumer.send(HaltPartitionWorkers);
                Box::pin(async move { halted.await.unwrap_or(0) })
            }
        }
    }
}

impl actix::Handler<Shutdown> for Overseer {
    type Result = ResponseActFuture<Self, ShutdownReport>;

    fn handle(&mut self, message: Shutdown, _ctx: &mut Self::Context) -> Self::Result {
        let consumers: Vec<_> = self
            .roles
            .iter()
            .map(|runtime| runtime.consumer.clone())
            .collect();
        let stops = join_all(consumers.into_iter().map(move |consumer| {
            consumer.send(StopConsuming {
                deadline: message.deadline,
                commit: message.commit,
            })
        }));
        let sweeper = self.sweeper.take();
        let sla_monitor = self.sla_monitor.take();
        let heartbeat = self.heartbeat.take();
        // A simulated crash leaves the row, as a killed process does.
        let remove_row = message.commit;
        // Without an address the retention task stops (a pass under way ends with it).
        self.retention = None;
        let stop_all = async move {
            if let Some(monitor) = sla_monitor {
                let _monitor_gone = monitor.send(StopMonitor).await;
            }
            let results = stops.await;
            if let Some(sweeper) = sweeper {
                let _sweeper_gone = sweeper.send(StopSweeping).await;
            }
            // Last, so the registry shows the partitions while they drain.
            if let Some(heartbeat) = heartbeat {
                let _heartbeat_gone = heartbeat.send(StopHeartbeat { remove_row }).await;
            }
            results
        };
        Box::pin(stop_all.into_actor(self).map(|results, overseer, ctx| {
            let reports: Vec<DrainReport> = results
                .into_iter()
                .filter_map(Result::ok)
                .flatten()
                .collect();
            for runtime in &overseer.roles {
                runtime.pool.stop();
            }
            overseer.threads.stop();
            ctx.stop();
            ShutdownReport {
                partitions_drained: reports.len(),
                abandoned_in_flight: reports
                    .iter()
                    .map(|report| report.abandoned_in_flight)
                    .sum(),
            }
        }))
    }
}
