//! The role consumer: subscribes one role's group to its topics, starts a supervised partition
//! worker per assigned partition, drains them on revoke and on shutdown, and restarts a worker
//! that stopped on its own, with backoff and a restart limit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::future::join_all;
use tokio::sync::mpsc;

use crate::bus::{AssignmentEvent, PartitionSource, TopicPartition};
use crate::fleet::PartitionState;
use crate::handler::failure::backoff;
use crate::partition::{
    DeadLetterCapTripped, Drain, DrainReport, Halt, PartitionParent, PartitionStopped,
    PartitionWorker, ReportState, StopIntake,
};
use crate::pool::HandlerPool;
use crate::restart_budget::RestartBudget;
use crate::roles::Role;
use crate::runtime::Runtime;

/// Drains every partition and stops the consumer.
#[derive(Message)]
#[rtype(result = "Vec<DrainReport>")]
pub struct StopConsuming {
    pub deadline: Duration,
    pub commit: bool,
}

struct Owned {
    source: Arc<dyn PartitionSource>,
    worker: Addr<PartitionWorker>,
}

pub struct RoleConsumer {
    role: Arc<dyn Role>,
    group: String,
    pool: Arc<HandlerPool>,
    runtime: Runtime,
    owned: BTreeMap<TopicPartition, Owned>,
    restarts: RestartBudget,
    stopping: bool,
    failed: bool,
}

impl RoleConsumer {
    pub fn new(
        role: Arc<dyn Role>,
        group: String,
        pool: Arc<HandlerPool>,
        runtime: &Runtime,
    ) -> Self {
        Self {
            role,
            group,
            pool,
            restarts: RestartBudget::from_tuning(&runtime.tuning),
            runtime: runtime.clone(),
            owned: BTreeMap::new(),
            stopping: false,
            failed: false,
        }
    }

    fn start_worker(
        &self,
        source: Arc<dyn PartitionSource>,
        ctx: &mut Context<Self>,
    ) -> Addr<PartitionWorker> {
        PartitionWorker::new(
            self.role.name(),
            source,
            self.pool.clone(),
            PartitionParent {
                stopped: ctx.address().recipient(),
                cap_tripped: ctx.address().recipient(),
            },
            &self.runtime,
        )
        .start()
    }

    fn assign(&mut self, sources: Vec<Arc<dyn PartitionSource>>, ctx: &mut Context<Self>) {
        for source in sources {
            let tp = source.topic_partition().clone();
            let worker = self.start_worker(source.clone(), ctx);
            self.owned.insert(tp, Owned { source, worker });
        }
        self.update_assigned_gauge();
    }

    fn update_assigned_gauge(&self) {
        self.runtime
            .metrics
            .assigned_partitions
            .with_label_values(&[self.role.name().as_str()])
            .set(self.owned.len() as i64);
    }

    fn revoke(
        &mut self,
        partitions: Vec<TopicPartition>,
        done: std::sync::mpsc::SyncSender<()>,
        ctx: &mut Context<Self>,
    ) {
        let workers: Vec<_> = partitions
            .iter()
            .filter_map(|tp| self.owned.remove(tp))
            .map(|owned| owned.worker)
            .collect();
        self.update_assigned_gauge();
        let drain = Drain {
            deadline: self.runtime.tuning.shutdown_timeout,
            commit: true,
        };
        let deadline = drain.deadline;
        let drains = join_all(workers.into_iter().map(move |worker| {
            worker.send(Drain {
                deadline,
                commit: drain.commit,
            })
        }));
        ctx.spawn(
            async move {
                let _reports = drains.await;
                let _bus_gone = done.try_send(());
            }
            .into_actor(self),
        );
    }
}

impl Actor for RoleConsumer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let bus = self.runtime.bus.clone();
        let group = self.group.clone();
        let topics = self.role.input_topics();
        let role = self.role.name();
        let subscribe = async move { bus.subscribe(role.as_str(), &group, topics).await };
        ctx.wait(subscribe.into_actor(self).map(|result, consumer, ctx| match result {
            Ok(receiver) => {
                tracing::info!(role = %consumer.role.name(), group = %consumer.group, "Subscribed.");
                consumer.runtime.health.subscription_ready();
                ctx.add_stream(assignment_stream(receiver));
            }
            Err(error) => {
                tracing::error!(role = %consumer.role.name(), %error, "Subscription failed; stopping the role consumer.");
                ctx.stop();
            }
        }));
    }
}

fn assignment_stream(
    receiver: mpsc::UnboundedReceiver<AssignmentEvent>,
) -> impl futures::Stream<Item = AssignmentEvent> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (event, receiver))
    })
}

impl StreamHandler<AssignmentEvent> for RoleConsumer {
    fn handle(&mut self, event: AssignmentEvent, ctx: &mut Self::Context) {
        if self.stopping {
            return;
        }
        match event {
            AssignmentEvent::Assigned(sources) => self.assign(sources, ctx),
            AssignmentEvent::Revoked { partitions, done } => self.revoke(partitions, done, ctx),
        }
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The bus closed the subscription; owned partitions keep running until stopped.
        tracing::debug!(role = %self.role.name(), "Assignment stream ended.");
    }
}

/// Halts the worker of every partition this consumer owns (a crash drill); each is restarted.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct HaltPartitionWorkers;

impl actix::Handler<HaltPartitionWorkers> for RoleConsumer {
    type Result = usize;

    fn handle(&mut self, _message: HaltPartitionWorkers, _ctx: &mut Self::Context) -> usize {
        for owned in self.owned.values() {
            owned.worker.do_send(Halt);
        }
        self.owned.len()
    }
}

/// The state of every partition this consumer owns, as its worker reports it. A worker that
/// does not answer within `REPORT_WAIT` (still reading its committed position) is listed
/// without numbers.
#[derive(Message)]
#[rtype(result = "Vec<PartitionState>")]
pub struct ReportPartitions;

const REPORT_WAIT: Duration = Duration::from_secs(1);

impl actix::Handler<ReportPartitions> for RoleConsumer {
    type Result = ResponseFuture<Vec<PartitionState>>;

    fn handle(&mut self, _message: ReportPartitions, _ctx: &mut Self::Context) -> Self::Result {
        let role = self.role.name().as_str();
        let asks: Vec<_> = self
            .owned
            .iter()
            .map(|(tp, owned)| {
                let unanswered = PartitionState {
                    role: role.to_owned(),
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    committed_offset: None,
                    lag: None,
                    in_flight: None,
                };
                let ask = owned.worker.send(ReportState);
                async move {
                    match tokio::time::timeout(REPORT_WAIT, ask).await {
                        Ok(Ok(state)) => state,
                        _ => unanswered,
                    }
                }
            })
            .collect();
        Box::pin(join_all(asks))
    }
}

impl actix::Handler<PartitionStopped> for RoleConsumer {
    type Result = ();

    fn handle(&mut self, stopped: PartitionStopped, ctx: &mut Self::Context) {
        if stopped.drained || self.stopping || self.failed {
            return;
        }
        let Some(owned) = self.owned.get(&stopped.tp) else {
            return;
        };
        let source = owned.source.clone();
        let role = self.role.name();
        let within_budget =
            self.restarts
                .charge(role.as_str(), "partition", &self.runtime, |budget| {
                    format!(
                        "{}; the last was partition worker {}",
                        budget.exhausted("partition worker"),
                        stopped.tp
                    )
                });
        if !within_budget {
            self.failed = true;
            return;
        }
        let delay = backoff(&self.runtime.tuning, self.restarts.recent());
        tracing::warn!(role = %role, partition = %stopped.tp, restart_in_ms = delay.as_millis() as u64, "Partition worker stopped; restarting it.");
        ctx.run_later(delay, move |consumer, ctx| {
            if consumer.stopping {
                return;
            }
            let tp = source.topic_partition().clone();
            let worker = consumer.start_worker(source.clone(), ctx);
            consumer.owned.insert(tp, Owned { source, worker });
        });
    }
}

impl actix::Handler<DeadLetterCapTripped> for RoleConsumer {
    type Result = ();

    fn handle(&mut self, tripped: DeadLetterCapTripped, _ctx: &mut Self::Context) {
        if self.failed {
            return;
        }
        self.failed = true;
        let role = self.role.name();
        self.runtime
            .metrics
            .role_failed
            .with_label_values(&[role.as_str()])
            .set(1);
        self.runtime
            .health
            .role_failed(role.as_str(), tripped.reason);
        for owned in self.owned.values() {
            owned.worker.do_send(StopIntake);
        }
    }
}

impl actix::Handler<StopConsuming> for RoleConsumer {
    type Result = ResponseActFuture<Self, Vec<DrainReport>>;

    fn handle(&mut self, message: StopConsuming, _ctx: &mut Self::Context) -> Self::Result {
        self.stopping = true;
        let workers: Vec<_> = std::mem::take(&mut self.owned)
            .into_values()
            .map(|owned| owned.worker)
            .collect();
        self.update_assigned_gauge();
        let drains = join_all(workers.into_iter().map(move |worker| {
            worker.send(Drain {
                deadline: message.deadline,
                commit: message.commit,
            })
        }));
        Box::pin(
            async move {
                drains
                    .await
                    .into_iter()
                    .filter_map(Result::ok)
                    .collect::<Vec<_>>()
            }
            .into_actor(self)
            .map(|reports, _consumer, ctx| {
                ctx.stop();
                reports
            }),
        )
    }
}
