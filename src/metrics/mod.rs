//! Every metric of the process, declared once with its name and help text, in a registry owned
//! by the app (not a global, so several apps can live in one test process). Labels stay bounded:
//! role, topic, partition, event type, outcome, route, status, broker, a known tenant; never ids.
//! The standard `process_*` families come from a registry of their own, without our prefix.

mod tenants;

use std::collections::BTreeSet;

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub use self::tenants::TenantLabels;

/// The version of this build, and the commit it was built from when the build knew it
/// (GIT_COMMIT in the build's environment).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = match option_env!("GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `process_*`, unprefixed as every exporter names them.
    process_registry: Registry,
    pub build_info: IntGaugeVec,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub db_pool_connections: IntGaugeVec,
    pub db_pool_max: IntGauge,
    pub db_acquire_seconds: Gauge,
    pub kafka_broker_rtt_seconds: GaugeVec,
    pub kafka_producer_queue_messages: IntGauge,
    pub kafka_producer_queue_bytes: IntGauge,
    /// Per-tenant events, only under METRICS_INCLUDE_TENANT_ID=true.
    pub tenant_events: IntCounterVec,
    pub tenant_labels: TenantLabels,
    pub retention_removed: IntCounterVec,
    pub retention_last_pass: Gauge,
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
        Self::with_tenants(TenantLabels::off())
    }

    /// The metrics, with a tenant label on `tenant_events_processed_total` for `tenants`.
    pub fn with_tenant_labels(tenants: BTreeSet<String>) -> Result<Self, prometheus::Error> {
        Self::with_tenants(TenantLabels::for_tenants(tenants))
    }

    fn with_tenants(tenant_labels: TenantLabels) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("exception_worker".to_owned()), None)?;
        let process_registry = Registry::new();
        #[cfg(target_os = "linux")]
        process_registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let metrics = Self {
            process_registry,
            build_info: IntGaugeVec::new(Opts::new("build_info", "Always 1: the version and the git commit of this build."), &["version", "git_commit"])?,
            http_requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by route pattern, method and status."),
                &["route", "method", "status"],
            )?,
            http_seconds: HistogramVec::new(
                HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request, by route pattern and method.")
                    .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
                &["route", "method"],
            )?,
            db_pool_connections: IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections, by state (idle, in_use)."), &["state"])?,
            db_pool_max: IntGauge::new("db_pool_max_connections", "The database pool's size limit (DB_MAX_CONNECTIONS; 1 on SQLite).")?,
            db_acquire_seconds: Gauge::new("db_pool_acquire_seconds", "How long the last health probe waited for a pooled connection (sampled every 2 s).")?,
            kafka_broker_rtt_seconds: GaugeVec::new(Opts::new("kafka_broker_rtt_seconds", "Mean round trip to each broker over the last statistics interval (librdkafka)."), &["broker"])?,
            kafka_producer_queue_messages: IntGauge::new("kafka_producer_queue_messages", "Messages in the producer's queue, waiting to be sent or acknowledged (librdkafka).")?,
            kafka_producer_queue_bytes: IntGauge::new("kafka_producer_queue_bytes", "Bytes in the producer's queue (librdkafka).")?,
            tenant_events: IntCounterVec::new(
                Opts::new("tenant_events_processed_total", "Events handled, by role, tenant and outcome; only with METRICS_INCLUDE_TENANT_ID=true, and only for tenants of the packs (others count as \"other\")."),
                &["role", "tenant", "outcome"],
            )?,
            tenant_labels,
            retention_removed: IntCounterVec::new(
                Opts::new("retention_removed_rows_total", "Rows removed by retention, by kind (finished_exceptions, published_events, closed_dead_letters, processed_claims)."),
                &["kind"],
            )?,
            retention_last_pass: Gauge::new("retention_last_pass_timestamp_seconds", "When this process last finished a retention pass (Unix time; 0 if it never held the lease).")?,
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
            outbox_backlog: IntGauge::new("outbox_backlog", "Committed outbox rows not yet published (measured by the process holding the sweeper lease).")?,
            outbox_published: IntCounter::new("outbox_published_total", "Outbox rows the broker acknowledged and this process marked published.")?,
            outbox_publish_failures: IntCounter::new("outbox_publish_failures_total", "Outbox rows the broker refused; they stay for the next pass.")?,
            rebalances: IntCounterVec::new(Opts::new("rebalances_total", "Consumer group rebalances, by role and kind (assign, revoke, error)."), &["role", "kind"])?,
            sla_flags: IntCounterVec::new(Opts::new("sla_flags_total", "SLA flags set by this process, by kind (imminent, breached)."), &["kind"])?,
            registry,
        };
        metrics.register_all()?;
        metrics
            .build_info
            .with_label_values(&[VERSION, GIT_COMMIT])
            .set(1);
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
        self.registry.register(Box::new(self.build_info.clone()))?;
        self.registry
            .register(Box::new(self.http_requests.clone()))?;
        self.registry
            .register(Box::new(self.http_seconds.clone()))?;
        self.registry
            .register(Box::new(self.db_pool_connections.clone()))?;
        self.registry.register(Box::new(self.db_pool_max.clone()))?;
        self.registry
            .register(Box::new(self.db_acquire_seconds.clone()))?;
        self.registry
            .register(Box::new(self.kafka_broker_rtt_seconds.clone()))?;
        self.registry
            .register(Box::new(self.kafka_producer_queue_messages.clone()))?;
        self.registry
            .register(Box::new(self.kafka_producer_queue_bytes.clone()))?;
        self.registry
            .register(Box::new(self.retention_removed.clone()))?;
        self.registry
            .register(Box::new(self.retention_last_pass.clone()))?;
        if self.tenant_labels.enabled() {
            self.registry
                .register(Box::new(self.tenant_events.clone()))?;
        }
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

    /// Counts one handled event of `tenant` when tenant labels are on.
    pub fn tenant_event(&self, role: &str, tenant: Option<&str>, outcome: &str) {
        if let Some(tenant) = self.tenant_labels.label(tenant) {
            self.tenant_events
                .with_label_values(&[role, tenant, outcome])
                .inc();
        }
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
        let mut families = self.registry.gather();
        families.extend(self.process_registry.gather());
        if let Err(error) = TextEncoder::new().encode(&families, &mut buffer) {
            tracing::warn!(%error, "Failed to encode metrics.");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
