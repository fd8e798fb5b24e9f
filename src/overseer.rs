//! The root supervisor: per role a handler pool and a role consumer, plus the maintenance
//! children (SLA monitor, outbox sweeper, retention task, heartbeat; `maintenance` restarts one
//! that stopped, against the restart budget); on shutdown it drains
//! every consumer (stop fetching, finish in-flight work up to the deadline, commit), stops the
//! maintenance actors (the heartbeat deletes this process's row) and then stops the pools.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::future::join_all;

use crate::consumer::{HaltPartitionWorkers, RoleConsumer, StopConsuming};
use crate::handler::HandlerDeps;
use crate::handler_threads::HandlerThreads;
use crate::heartbeat::StopHeartbeat;
use crate::maintenance::{Maintenance, MaintenanceChild, MaintenancePlan};
use crate::model::RoleName;
use crate::partition::DrainReport;
use crate::pool::HandlerPool;
use crate::retention::StopRetention;
use crate::roles::Role;
use crate::sla_monitor::{SlaMonitor, StopMonitor};
use crate::sweeper::StopSweeping;

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

pub struct Overseer {
    deps: Arc<HandlerDeps>,
    threads: Arc<HandlerThreads>,
    plans: Vec<RolePlan>,
    roles: Vec<RoleRuntime>,
    maintenance_plan: Option<MaintenancePlan>,
    /// Taken out on shutdown, so supervision restarts nothing after it.
    maintenance: Option<Maintenance>,
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
            maintenance: None,
        }
    }

    fn start_maintenance(&mut self, ctx: &mut Context<Self>) {
        let Some(plan) = self.maintenance_plan.take() else {
            return;
        };
        let consumers = self
            .roles
            .iter()
            .map(|runtime| (runtime.pool.role_name(), runtime.consumer.clone()))
            .collect();
        let runtime = self.deps.runtime.clone();
        self.maintenance = Some(Maintenance::start(runtime, plan, consumers));
        ctx.run_interval(MAINTENANCE_CHECK_INTERVAL, |overseer, _ctx| {
            if let Some(maintenance) = &mut overseer.maintenance {
                maintenance.restart_stopped();
            }
        });
    }
}

/// How often the overseer looks for a maintenance child that stopped.
const MAINTENANCE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

impl Actor for Overseer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
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
        self.start_maintenance(ctx);
    }
}

/// The SLA monitor's address, when this process runs it (tests drive it with `CheckNow`).
#[derive(Message)]
#[rtype(result = "Option<Addr<SlaMonitor>>")]
pub struct SlaMonitorAddress;

impl actix::Handler<SlaMonitorAddress> for Overseer {
    type Result = Option<Addr<SlaMonitor>>;

    fn handle(&mut self, _message: SlaMonitorAddress, _ctx: &mut Self::Context) -> Self::Result {
        self.maintenance
            .as_ref()
            .and_then(|maintenance| maintenance.sla_monitor.clone())
    }
}

/// Stops a maintenance child as a drill; supervision restarts it. Answers whether it ran.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct StopMaintenance(pub MaintenanceChild);

impl actix::Handler<StopMaintenance> for Overseer {
    type Result = bool;

    fn handle(&mut self, message: StopMaintenance, _ctx: &mut Self::Context) -> Self::Result {
        self.maintenance
            .as_ref()
            .is_some_and(|maintenance| maintenance.stop_child(message.0))
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
        let maintenance = self.maintenance.take();
        let (sla_monitor, sweeper, retention, heartbeat) = match maintenance {
            Some(running) => (
                running.sla_monitor,
                running.sweeper,
                running.retention,
                running.heartbeat,
            ),
            None => (None, None, None, None),
        };
        // A simulated crash leaves the row, as a killed process does.
        let remove_row = message.commit;
        if let Some(retention) = retention {
            retention.do_send(StopRetention);
        }
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
