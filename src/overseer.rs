//! The root supervisor: per role a handler pool and a role consumer; on shutdown it drains
//! every consumer (stop fetching, finish in-flight work up to the deadline, commit) and then
//! stops the pools.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::future::join_all;

use crate::consumer::{RoleConsumer, StopConsuming};
use crate::handler::HandlerDeps;
use crate::partition::DrainReport;
use crate::pool::HandlerPool;
use crate::relay::{FlushAndStop, OutboxRelay, RelayFaultHook};
use crate::roles::Role;

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

/// How the outbox relay runs, when the bus publishes through one.
pub struct RelayPlan {
    pub instance_id: String,
    pub batch_size: usize,
    pub poll_interval: Duration,
    pub faults: Option<Arc<dyn RelayFaultHook>>,
}

pub struct Overseer {
    deps: Arc<HandlerDeps>,
    plans: Vec<RolePlan>,
    roles: Vec<RoleRuntime>,
    relay_plan: Option<RelayPlan>,
    relay: Option<Addr<OutboxRelay>>,
}

impl Overseer {
    pub fn new(
        deps: Arc<HandlerDeps>,
        plans: Vec<RolePlan>,
        relay_plan: Option<RelayPlan>,
    ) -> Self {
        Self {
            deps,
            plans,
            roles: Vec::new(),
            relay_plan,
            relay: None,
        }
    }

    fn start_relay(&mut self) {
        let (Some(plan), Some(port)) = (self.relay_plan.take(), self.deps.bus.relay_port()) else {
            return;
        };
        let relay = OutboxRelay::new(
            self.deps.db.clone(),
            port,
            plan.instance_id,
            plan.batch_size,
            plan.poll_interval,
            self.deps.metrics.clone(),
            self.deps.clock.clone(),
            plan.faults,
        );
        self.relay = Some(relay.start());
    }
}

impl Actor for Overseer {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        for plan in std::mem::take(&mut self.plans) {
            let pool = HandlerPool::start(plan.role.clone(), self.deps.clone(), plan.concurrency);
            let consumer = RoleConsumer::new(
                plan.role.clone(),
                plan.group.clone(),
                self.deps.bus.clone(),
                pool.clone(),
                self.deps.metrics.clone(),
                self.deps.health.clone(),
                self.deps.tuning.clone(),
            )
            .start();
            tracing::info!(role = %plan.role.name(), group = %plan.group, concurrency = pool.size(), "Role started.");
            self.roles.push(RoleRuntime { pool, consumer });
        }
        self.deps.health.expect_subscriptions(self.roles.len());
        self.start_relay();
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
        let relay = self.relay.take();
        let relay_deadline = if message.commit {
            message.deadline
        } else {
            Duration::ZERO
        };
        let stop_all = async move {
            let results = stops.await;
            // The consumers' last effects are committed: publish what they emitted.
            if let Some(relay) = relay {
                let _relay_gone = relay
                    .send(FlushAndStop {
                        deadline: relay_deadline,
                    })
                    .await;
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
