//! The partition-consumer actor: reads one assigned partition in offset order, routes each
//! record to its handler through a per-tenant fair buffer with bounded in-flight windows, and
//! commits the watermark periodically and on drain. Invariant: a committed position never
//! passes a record whose effect is not durable.

mod buffer;
mod dlq_cap;
mod drain;
mod flow;
mod status;

pub use status::ReportState;

use buffer::TenantBuffer;
use dlq_cap::DeadLetterCap;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::bus::{PartitionSource, TopicPartition};
use crate::config::TuningSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::model::RoleName;
use crate::offsets::Watermark;
use crate::pool::HandlerPool;
use crate::runtime::Runtime;

/// How long one fetch waits for records before the loop ticks again.
const FETCH_WAIT: Duration = Duration::from_millis(500);

/// Stop intake, wait for in-flight records (up to the deadline), commit if asked, and stop.
#[derive(Message)]
#[rtype(result = "DrainReport")]
pub struct Drain {
    pub deadline: Duration,
    /// False only to simulate a crash: stop without committing.
    pub commit: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DrainReport {
    pub committed: Option<i64>,
    pub abandoned_in_flight: usize,
}

/// Sent to the role consumer when a partition's dead-letter cap trips.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeadLetterCapTripped {
    pub reason: String,
}

/// Sent to the role consumer when a partition worker stops.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PartitionStopped {
    pub tp: TopicPartition,
    pub drained: bool,
}

pub struct PartitionWorker {
    role: RoleName,
    source: Arc<dyn PartitionSource>,
    pool: Arc<HandlerPool>,
    parent: Recipient<PartitionStopped>,
    cap_tripped: Recipient<DeadLetterCapTripped>,
    metrics: Metrics,
    health: Health,
    tuning: TuningSettings,
    loop_name: String,
    labels: [String; 3],
    watermark: Option<Watermark>,
    committed: i64,
    /// The end of the partition at the last commit interval, once measured.
    last_end: Option<i64>,
    fetching: bool,
    committing: bool,
    fetch_failures: u32,
    drain: Option<DrainState>,
    buffer: TenantBuffer,
    /// Records handed to handlers and not yet acknowledged.
    dispatched: usize,
    dlq_cap: DeadLetterCap,
    stopped_by_cap: bool,
}

struct DrainState {
    commit: bool,
    waiters: Vec<oneshot::Sender<DrainReport>>,
    finishing: bool,
}

/// Stops the worker at once, as a crash would: nothing is drained or committed, and its
/// consumer restarts it (counted against the role's restart budget).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Halt;

impl actix::Handler<Halt> for PartitionWorker {
    type Result = ();

    fn handle(&mut self, _halt: Halt, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Where a partition worker reports to: its consumer, when it stops and when its dead-letter
/// cap trips.
pub struct PartitionParent {
    pub stopped: Recipient<PartitionStopped>,
    pub cap_tripped: Recipient<DeadLetterCapTripped>,
}

impl PartitionWorker {
    pub fn new(
        role: RoleName,
        source: Arc<dyn PartitionSource>,
        pool: Arc<HandlerPool>,
        PartitionParent {
            stopped: parent,
            cap_tripped,
        }: PartitionParent,
        runtime: &Runtime,
    ) -> Self {
        let tuning = &runtime.tuning;
        let tp = source.topic_partition().clone();
        Self {
            loop_name: format!("{role} {tp}"),
            labels: [
                role.as_str().to_owned(),
                tp.topic.clone(),
                tp.partition.to_string(),
            ],
            role,
            source,
            pool,
            parent,
            cap_tripped,
            buffer: TenantBuffer::new(tuning.tenant_max_in_flight),
            dispatched: 0,
            dlq_cap: DeadLetterCap::new(tuning.dlq_cap_window, tuning.dlq_cap_ratio),
            stopped_by_cap: false,
            metrics: runtime.metrics.clone(),
            health: runtime.health.clone(),
            tuning: tuning.clone(),
            watermark: None,
            committed: 0,
            last_end: None,
            fetching: false,
            committing: false,
            fetch_failures: 0,
            drain: None,
        }
    }

    fn label_values(&self) -> [&str; 3] {
        [&self.labels[0], &self.labels[1], &self.labels[2]]
    }
}

impl Actor for PartitionWorker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.health.poll_tick(&self.loop_name);
        let source = self.source.clone();
        let start = async move { source.committed_position().await };
        ctx.wait(start.into_actor(self).map(|result, worker, ctx| match result {
            Ok(position) => {
                tracing::info!(partition = %worker.loop_name, position, "Partition assigned; consuming.");
                worker.committed = position;
                worker.watermark = Some(Watermark::new(position));
                worker.fetch_more(ctx);
            }
            Err(error) => {
                tracing::warn!(partition = %worker.loop_name, %error, "Could not read the committed position; restarting.");
                ctx.stop();
            }
        }));
        ctx.run_interval(self.tuning.commit_interval, |worker, ctx| {
            worker.commit_tick(ctx)
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.health.poll_loop_ended(&self.loop_name);
        let abandoned = self.dispatched as i64;
        self.metrics
            .in_flight
            .with_label_values(&[self.role.as_str()])
            .sub(abandoned);
        let drained = self.drain.is_some();
        self.parent.do_send(PartitionStopped {
            tp: self.source.topic_partition().clone(),
            drained,
        });
    }
}

/// Stops fetching new records (the role's dead-letter cap tripped elsewhere).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopIntake;

impl actix::Handler<StopIntake> for PartitionWorker {
    type Result = ();

    fn handle(&mut self, _message: StopIntake, _ctx: &mut Self::Context) {
        self.stopped_by_cap = true;
    }
}

impl actix::Handler<Drain> for PartitionWorker {
    type Result = ResponseFuture<DrainReport>;

    fn handle(&mut self, message: Drain, ctx: &mut Self::Context) -> Self::Result {
        let (sender, receiver) = oneshot::channel();
        match self.drain.as_mut() {
            Some(drain) => drain.waiters.push(sender),
            None => {
                self.drain = Some(DrainState {
                    commit: message.commit,
                    waiters: vec![sender],
                    finishing: false,
                });
                if message.commit {
                    ctx.run_later(message.deadline, |worker, ctx| worker.finish_drain(ctx));
                    self.finish_drain_if_idle(ctx);
                } else {
                    self.finish_drain(ctx);
                }
            }
        }
        Box::pin(async move { receiver.await.unwrap_or_default() })
    }
}
