//! The partition-consumer actor: reads one assigned partition in offset order, routes each
//! record to its handler, keeps at most MAX_IN_FLIGHT_PER_PARTITION records in flight (fetching
//! pauses when the window is full), and commits the watermark periodically and on drain.
//! Invariant: a committed position never passes a record whose effect is not durable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::bus::{PartitionSource, Record, TopicPartition};
use crate::config::TuningSettings;
use crate::handler::{Outcome, Process};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::model::RoleName;
use crate::offsets::Watermark;
use crate::pool::HandlerPool;

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
    metrics: Metrics,
    health: Health,
    tuning: TuningSettings,
    loop_name: String,
    labels: [String; 3],
    watermark: Option<Watermark>,
    committed: i64,
    fetching: bool,
    committing: bool,
    fetch_failures: u32,
    drain: Option<DrainState>,
}

struct DrainState {
    commit: bool,
    waiters: Vec<oneshot::Sender<DrainReport>>,
    finishing: bool,
}

impl PartitionWorker {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        role: RoleName,
        source: Arc<dyn PartitionSource>,
        pool: Arc<HandlerPool>,
        parent: Recipient<PartitionStopped>,
        metrics: Metrics,
        health: Health,
        tuning: TuningSettings,
    ) -> Self {
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
            metrics,
            health,
            tuning,
            watermark: None,
            committed: 0,
            fetching: false,
            committing: false,
            fetch_failures: 0,
            drain: None,
        }
    }

    fn label_values(&self) -> [&str; 3] {
        [&self.labels[0], &self.labels[1], &self.labels[2]]
    }

    fn in_flight(&self) -> usize {
        self.watermark.as_ref().map_or(0, Watermark::in_flight)
    }

    fn fetch_more(&mut self, ctx: &mut Context<Self>) {
        let Some(watermark) = &self.watermark else {
            return;
        };
        if self.fetching || self.drain.is_some() || watermark.is_revoked() {
            return;
        }
        let room = self
            .tuning
            .max_in_flight_per_partition
            .saturating_sub(watermark.in_flight());
        if room == 0 {
            return;
        }
        self.fetching = true;
        let from = watermark.next_to_dispatch();
        let source = self.source.clone();
        let fetch = async move { source.fetch(from, room, FETCH_WAIT).await };
        ctx.spawn(fetch.into_actor(self).map(|result, worker, ctx| {
            worker.fetching = false;
            worker.health.poll_tick(&worker.loop_name);
            match result {
                Ok(records) => {
                    worker.fetch_failures = 0;
                    for record in records {
                        worker.dispatch(record, ctx);
                    }
                    worker.fetch_more(ctx);
                }
                Err(error) => {
                    worker.fetch_failures += 1;
                    let delay = crate::handler::failure::backoff(&worker.tuning, worker.fetch_failures);
                    tracing::warn!(partition = %worker.loop_name, %error, retry_in_ms = delay.as_millis() as u64, "Fetch failed; retrying.");
                    ctx.run_later(delay, |worker, ctx| worker.fetch_more(ctx));
                }
            }
        }));
    }

    fn dispatch(&mut self, record: Record, ctx: &mut Context<Self>) {
        let Some(watermark) = self.watermark.as_mut() else {
            return;
        };
        if let Err(error) = watermark.dispatch(record.offset) {
            tracing::error!(partition = %self.loop_name, %error, "Watermark refused a dispatch; restarting the partition worker.");
            ctx.stop();
            return;
        }
        let role = self.role;
        self.metrics
            .in_flight
            .with_label_values(&[role.as_str()])
            .inc();
        let offset = record.offset;
        let key = record.key.clone().unwrap_or_default();
        let pool = self.pool.clone();
        let tuning = self.tuning.clone();
        let started = Instant::now();
        let delivery = async move {
            let mut failures = 0;
            loop {
                match pool.route(&key).send(Process(record.clone())).await {
                    Ok(outcome) => return outcome,
                    Err(error) => {
                        failures += 1;
                        tracing::warn!(%error, "Handler unavailable; redelivering the record to its restarted handler.");
                        actix_rt::time::sleep(crate::handler::failure::backoff(&tuning, failures))
                            .await;
                    }
                }
            }
        };
        ctx.spawn(
            delivery
                .into_actor(self)
                .map(move |outcome: Outcome, worker, ctx| {
                    worker
                        .metrics
                        .in_flight
                        .with_label_values(&[role.as_str()])
                        .dec();
                    tracing::trace!(
                        offset,
                        ?outcome,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "Record acknowledged."
                    );
                    worker.complete(offset, ctx);
                }),
        );
    }

    fn complete(&mut self, offset: i64, ctx: &mut Context<Self>) {
        let Some(watermark) = self.watermark.as_mut() else {
            return;
        };
        if watermark.is_revoked() {
            return;
        }
        if let Err(error) = watermark.complete(offset) {
            tracing::error!(partition = %self.loop_name, %error, "Watermark refused a completion; restarting the partition worker.");
            ctx.stop();
            return;
        }
        let gap = watermark.gap();
        self.metrics
            .watermark_gap
            .with_label_values(&self.label_values())
            .set(gap);
        if self.drain.is_some() {
            self.finish_drain_if_idle(ctx);
        } else {
            self.fetch_more(ctx);
        }
    }

    fn commit_tick(&mut self, ctx: &mut Context<Self>) {
        if !self.fetching {
            // Idle because the window is full or draining: the loop is alive all the same.
            self.health.poll_tick(&self.loop_name);
        }
        let Some(watermark) = &self.watermark else {
            return;
        };
        if self.committing || watermark.is_revoked() {
            return;
        }
        let position = watermark.committable();
        self.committing = true;
        let source = self.source.clone();
        let changed = position != self.committed;
        let work = async move {
            let committed = if changed {
                source.commit(position).await.map(|_| Some(position))
            } else {
                Ok(None)
            };
            let end = source.end_offset().await;
            (committed, end)
        };
        ctx.spawn(work.into_actor(self).map(move |(committed, end), worker, _ctx| {
            worker.committing = false;
            match committed {
                Ok(Some(position)) => {
                    worker.committed = position;
                    worker.metrics.committed_offset.with_label_values(&worker.label_values()).set(position);
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(partition = %worker.loop_name, %error, "Offset commit failed; will retry."),
            }
            if let Ok(end) = end {
                let lag = (end - worker.committed).max(0);
                worker.metrics.consumer_lag.with_label_values(&worker.label_values()).set(lag);
            }
        }));
    }

    fn finish_drain_if_idle(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight() == 0 {
            self.finish_drain(ctx);
        }
    }

    fn finish_drain(&mut self, ctx: &mut Context<Self>) {
        let Some(drain) = self.drain.as_mut() else {
            return;
        };
        if drain.finishing {
            return;
        }
        drain.finishing = true;
        let commit = drain.commit;
        let abandoned = self.in_flight();
        let position = self.watermark.as_mut().map(Watermark::revoke);
        let source = self.source.clone();
        let already_committed = self.committed;
        let work = async move {
            match position {
                Some(position) if commit && position != already_committed => {
                    match source.commit(position).await {
                        Ok(()) => Some(position),
                        Err(error) => {
                            tracing::warn!(%error, "Final offset commit failed; the uncommitted records will be redelivered.");
                            None
                        }
                    }
                }
                Some(position) if commit => Some(position),
                _ => None,
            }
        };
        ctx.spawn(work.into_actor(self).map(move |committed, worker, ctx| {
            let report = DrainReport { committed, abandoned_in_flight: abandoned };
            if abandoned > 0 {
                tracing::warn!(partition = %worker.loop_name, abandoned, "Drain deadline passed; in-flight records will be redelivered.");
            }
            if let Some(drain) = worker.drain.take() {
                for waiter in drain.waiters {
                    let _receiver_gone = waiter.send(report.clone());
                }
            }
            worker.drain = Some(DrainState { commit, waiters: Vec::new(), finishing: true });
            ctx.stop();
        }));
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
        let abandoned = self.in_flight() as i64;
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
