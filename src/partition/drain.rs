//! Committing the watermark (periodically, and once more on drain) and draining: stop intake,
//! drop what waits in the buffer (it will be redelivered), wait for the handlers (up to the
//! deadline), commit, stop.

use actix::prelude::*;

use super::{DrainReport, DrainState, PartitionWorker};
use crate::offsets::Watermark;

impl PartitionWorker {
    pub(super) fn commit_tick(&mut self, ctx: &mut Context<Self>) {
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
                worker.last_end = Some(end);
                let lag = (end - worker.committed).max(0);
                worker.metrics.consumer_lag.with_label_values(&worker.label_values()).set(lag);
            }
        }));
    }

    pub(super) fn finish_drain_if_idle(&mut self, ctx: &mut Context<Self>) {
        if self.dispatched == 0 {
            self.finish_drain(ctx);
        }
    }

    pub(super) fn finish_drain(&mut self, ctx: &mut Context<Self>) {
        let Some(drain) = self.drain.as_mut() else {
            return;
        };
        if drain.finishing {
            return;
        }
        drain.finishing = true;
        let commit = drain.commit;
        let abandoned = self.dispatched;
        self.buffer.clear();
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
