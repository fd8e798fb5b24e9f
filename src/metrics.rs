//! Every metric of the process, declared once with its name and help text, in a registry owned
//! by the app (not a global, so several apps can live in one test process). Labels stay bounded:
//! role, topic, partition, event type, outcome; never ids.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub events_processed: IntCounterVec,
    pub processing_seconds: HistogramVec,
    pub group_commit_events: Histogram,
    pub group_commit_reruns: IntCounter,
    pub in_flight: IntGaugeVec,
    pub handler_actors: IntGaugeVec,
    pub assigned_partitions: IntGaugeVec,
    pub consumer_lag: IntGaugeVec,
    pub watermark_gap: IntGaugeVec,
    pub committed_offset: IntGaugeVec,
    pub restarts: IntCounterVec,
    pub handler_panics: IntCounterVec,
    pub retries: IntCounterVec,
    pub dead_letters: IntCounterVec,
    pub ingested: IntCounterVec,
    pub role_failed: IntGaugeVec,
    pub outbox_backlog: IntGauge,
    pub outbox_published: IntCounter,
    pub outbox_publish_failures: IntCounter,
    pub rebalances: IntCounterVec,
    pub sla_flags: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("exception_worker".to_owned()), None)?;
        let metrics = Self {
            events_processed: IntCounterVec::new(
                Opts::new("events_processed_total", "Events handled, by role, event type and outcome (processed, duplicate, dead_lettered)."),
                &["role", "event_type", "outcome"],
            )?,
            processing_seconds: HistogramVec::new(
                HistogramOpts::new("event_processing_seconds", "Time from dispatch to acknowledgement of one event, by role.")
                    .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                &["role"],
            )?,
            group_commit_events: Histogram::with_opts(
                HistogramOpts::new("group_commit_events", "Events whose effects were committed together in one database transaction (group commit).")
                    .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
            )?,
            group_commit_reruns: IntCounter::new("group_commit_reruns_total", "Attempts run again because another member's failure rolled their group commit batch back.")?,
            in_flight: IntGaugeVec::new(Opts::new("in_flight_events", "Events dispatched to handlers and not yet acknowledged."), &["role"])?,
            handler_actors: IntGaugeVec::new(Opts::new("handler_actors", "Handler actors running per role (CONCURRENCY)."), &["role"])?,
            assigned_partitions: IntGaugeVec::new(Opts::new("assigned_partitions", "Partitions currently assigned to this process."), &["role"])?,
            consumer_lag: IntGaugeVec::new(
                Opts::new("consumer_lag", "Records between the committed position and the end of the partition."),
                &["role", "topic", "partition"],
            )?,
            watermark_gap: IntGaugeVec::new(
                Opts::new("watermark_gap", "Dispatched records above the committable offset (what a crash would redeliver)."),
                &["role", "topic", "partition"],
            )?,
            committed_offset: IntGaugeVec::new(
                Opts::new("committed_offset", "Last committed position (next offset to read)."),
                &["role", "topic", "partition"],
            )?,
            restarts: IntCounterVec::new(Opts::new("actor_restarts_total", "Supervised actor restarts, by role and kind."), &["role", "kind"])?,
            handler_panics: IntCounterVec::new(Opts::new("handler_panics_total", "Role calls that panicked (turned into handler errors)."), &["role"])?,
            retries: IntCounterVec::new(Opts::new("handler_retries_total", "Retried handler attempts, by role and error class."), &["role", "class"])?,
            dead_letters: IntCounterVec::new(Opts::new("dead_letters_total", "Messages sent to the dead-letter path, by role and error class."), &["role", "class"])?,
            ingested: IntCounterVec::new(Opts::new("ingested_exceptions_total", "Exceptions accepted by the API or the ingest command."), &["source"])?,
            role_failed: IntGaugeVec::new(Opts::new("role_failed", "1 when a role hit its restart limit and stopped."), &["role"])?,
            outbox_backlog: IntGauge::new("outbox_backlog", "Committed outbox rows not yet published by the relay.")?,
            outbox_published: IntCounter::new("outbox_published_total", "Outbox rows published by the relay.")?,
            outbox_publish_failures: IntCounter::new("outbox_publish_failures_total", "Outbox rows the broker refused; they stay for the next pass.")?,
            rebalances: IntCounterVec::new(Opts::new("rebalances_total", "Consumer group rebalances, by role and kind (assign, revoke, error)."), &["role", "kind"])?,
            sla_flags: IntCounterVec::new(Opts::new("sla_flags_total", "SLA flags set by this process, by kind (imminent, breached)."), &["kind"])?,
            registry,
        };
        metrics.register_all()?;
        Ok(metrics)
    }

    fn register_all(&self) -> Result<(), prometheus::Error> {
        self.registry
            .register(Box::new(self.events_processed.clone()))?;
        self.registry
            .register(Box::new(self.processing_seconds.clone()))?;
        self.registry
            .register(Box::new(self.group_commit_events.clone()))?;
        self.registry
            .register(Box::new(self.group_commit_reruns.clone()))?;
        self.registry.register(Box::new(self.in_flight.clone()))?;
        self.registry
            .register(Box::new(self.handler_actors.clone()))?;
        self.registry
            .register(Box::new(self.assigned_partitions.clone()))?;
        self.registry
            .register(Box::new(self.consumer_lag.clone()))?;
        self.registry
            .register(Box::new(self.watermark_gap.clone()))?;
        self.registry
            .register(Box::new(self.committed_offset.clone()))?;
        self.registry.register(Box::new(self.restarts.clone()))?;
        self.registry
            .register(Box::new(self.handler_panics.clone()))?;
        self.registry.register(Box::new(self.retries.clone()))?;
        self.registry
            .register(Box::new(self.dead_letters.clone()))?;
        self.registry.register(Box::new(self.ingested.clone()))?;
        self.registry.register(Box::new(self.role_failed.clone()))?;
        self.registry
            .register(Box::new(self.outbox_backlog.clone()))?;
        self.registry
            .register(Box::new(self.outbox_published.clone()))?;
        self.registry
            .register(Box::new(self.outbox_publish_failures.clone()))?;
        self.registry.register(Box::new(self.rebalances.clone()))?;
        self.registry.register(Box::new(self.sla_flags.clone()))?;
        Ok(())
    }

    /// Creates the labelled series of `role` at zero, so that dashboards and `increase()` see a
    /// role's first dead letter, panic or restart instead of a series that appears at 1.
    pub fn initialise_role(&self, role: &str) {
        for class in ["permanent", "infrastructure", "transient"] {
            self.dead_letters.with_label_values(&[role, class]);
            self.retries.with_label_values(&[role, class]);
        }
        for kind in ["handler", "partition"] {
            self.restarts.with_label_values(&[role, kind]);
        }
        for kind in ["assign", "revoke", "error"] {
            self.rebalances.with_label_values(&[role, kind]);
        }
        self.handler_panics.with_label_values(&[role]);
        self.role_failed.with_label_values(&[role]).set(0);
        self.in_flight.with_label_values(&[role]).set(0);
        self.assigned_partitions.with_label_values(&[role]);
    }

    /// The SLA flag series, at zero, for a process that runs the SLA monitor.
    pub fn initialise_sla(&self) {
        for kind in ["imminent", "breached"] {
            self.sla_flags.with_label_values(&[kind]);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "Failed to encode metrics.");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
