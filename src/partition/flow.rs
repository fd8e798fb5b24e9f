//! The record flow of a partition: fetch into the tenant buffer (bounded by
//! MAX_BUFFERED_PER_PARTITION), hand records to handlers (at most MAX_IN_FLIGHT_PER_PARTITION,
//! and TENANT_MAX_IN_FLIGHT per tenant), and complete them into the watermark. The watermark
//! tracks a record from the moment it is fetched, so nothing buffered is ever committed past.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;

use super::buffer::tenant_of_key;
use super::{PartitionWorker, FETCH_WAIT};
use crate::bus::Record;
use crate::handler::failure::backoff;
use crate::handler::{Outcome, Process};

/// Records asked for in one fetch, at most.
const FETCH_BATCH: usize = 256;

impl PartitionWorker {
    pub(super) fn fetch_more(&mut self, ctx: &mut Context<Self>) {
        let Some(watermark) = &self.watermark else {
            return;
        };
        if self.fetching || self.drain.is_some() || self.stopped_by_cap || watermark.is_revoked() {
            return;
        }
        let room = self
            .tuning
            .max_buffered_per_partition
            .saturating_sub(watermark.in_flight());
        if room == 0 {
            return;
        }
        self.fetching = true;
        let from = watermark.next_to_dispatch();
        let source = self.source.clone();
        let fetch = async move { source.fetch(from, room.min(FETCH_BATCH), FETCH_WAIT).await };
        ctx.spawn(fetch.into_actor(self).map(|result, worker, ctx| {
            worker.fetching = false;
            worker.health.poll_tick(&worker.loop_name);
            match result {
                Ok(records) => {
                    worker.fetch_failures = 0;
                    for record in records {
                        worker.track(record, ctx);
                    }
                    worker.pump(ctx);
                    worker.fetch_more(ctx);
                }
                Err(error) => {
                    worker.fetch_failures += 1;
                    let delay = backoff(&worker.tuning, worker.fetch_failures);
                    tracing::warn!(partition = %worker.loop_name, %error,
                        retry_in_ms = delay.as_millis() as u64, "Fetch failed; retrying.");
                    ctx.run_later(delay, |worker, ctx| worker.fetch_more(ctx));
                }
            }
        }));
    }

    fn track(&mut self, record: Record, ctx: &mut Context<Self>) {
        let Some(watermark) = self.watermark.as_mut() else {
            return;
        };
        if let Err(error) = watermark.dispatch(record.offset) {
            tracing::error!(partition = %self.loop_name, %error,
                "Watermark refused a record; restarting the partition worker.");
            ctx.stop();
            return;
        }
        self.buffer.push(record);
    }

    /// Hands buffered records to handlers while the in-flight limits allow; nothing once the
    /// dead-letter cap stopped the role (buffered records stay uncommitted, for the next owner).
    pub(super) fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.drain.is_some() || self.stopped_by_cap {
            return;
        }
        while self.dispatched < self.tuning.max_in_flight_per_partition {
            let Some(record) = self.buffer.next_dispatchable() else {
                break;
            };
            self.dispatch(record, ctx);
        }
    }

    fn dispatch(&mut self, record: Record, ctx: &mut Context<Self>) {
        self.dispatched += 1;
        let role = self.role;
        self.metrics
            .in_flight
            .with_label_values(&[role.as_str()])
            .inc();
        let offset = record.offset;
        let key = record.key.clone().unwrap_or_default();
        let tenant: Arc<str> = Arc::from(tenant_of_key(record.key.as_deref()));
        let pool = self.pool.clone();
        let tuning = self.tuning.clone();
        let started = Instant::now();
        let handling = async move {
            let mut failures = 0;
            let handled = loop {
                match pool.route(&key).send(Process(record.clone())).await {
                    Ok(Some(handled)) => break handled,
                    Ok(None) | Err(_) => {
                        failures += 1;
                        tracing::warn!("Handler unavailable; redelivering the record to its restarted handler.");
                        actix_rt::time::sleep(backoff(&tuning, failures)).await;
                    }
                }
            };
            // The record counts as done only once what it emitted is on the bus, so no later
            // event of its key, handled here or by the partition's next owner, overtakes it.
            let report = handled.delivery.wait().await;
            if report.failed > 0 {
                tracing::warn!(
                    failed = report.failed,
                    "Some emitted events could not be published; the sweeper publishes them."
                );
            }
            handled.outcome
        };
        ctx.spawn(
            handling
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
                    worker.dispatched = worker.dispatched.saturating_sub(1);
                    worker.buffer.completed(&tenant);
                    worker.complete(offset, outcome, ctx);
                }),
        );
    }

    fn complete(&mut self, offset: i64, outcome: Outcome, ctx: &mut Context<Self>) {
        let Some(watermark) = self.watermark.as_mut() else {
            return;
        };
        if watermark.is_revoked() {
            return;
        }
        if let Err(error) = watermark.complete(offset) {
            tracing::error!(partition = %self.loop_name, %error,
                "Watermark refused a completion; restarting the partition worker.");
            ctx.stop();
            return;
        }
        let gap = watermark.gap();
        self.metrics
            .watermark_gap
            .with_label_values(&self.label_values())
            .set(gap);
        if self.dlq_cap.record(outcome == Outcome::DeadLettered) && !self.stopped_by_cap {
            self.trip_dead_letter_cap();
        }
        if self.drain.is_some() {
            self.finish_drain_if_idle(ctx);
        } else {
            self.pump(ctx);
            self.fetch_more(ctx);
        }
    }

    fn trip_dead_letter_cap(&mut self) {
        self.stopped_by_cap = true;
        let reason = format!(
            "dead-letter cap: {} of the last {} records of {} were dead-lettered",
            self.dlq_cap.dead_in_window(),
            self.tuning.dlq_cap_window,
            self.loop_name
        );
        tracing::error!(%reason, "Dead-letter cap tripped; the role stops consuming.");
        self.cap_tripped
            .do_send(super::DeadLetterCapTripped { reason });
    }
}
