//! The runtime's limits and intervals, read from the Pipeline settings (and the process's
//! timeouts): each bounded thing has its bound here.

use std::time::Duration;

use super::checked::Checked;
use super::table::{
    COMMIT_INTERVAL_MS, DLQ_CAP_RATIO, DLQ_CAP_WINDOW, EMBEDDED_PARTITIONS,
    GROUP_COMMIT_MAX_EVENTS, HANDLER_IN_FLIGHT, HANDLER_THREADS, HANDLER_TIMEOUT_SECS,
    MAX_ATTEMPTS, MAX_BUFFERED_PER_PARTITION, MAX_IN_FLIGHT_PER_PARTITION, RESTART_LIMIT,
    RESTART_WINDOW_SECS, RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS, SHUTDOWN_TIMEOUT_SECS,
    STARTUP_TIMEOUT_SECS, TENANT_MAX_IN_FLIGHT, WORKER_HEARTBEAT_SECS,
};

/// Limits and intervals of the runtime; each bounded thing has its bound here.
#[derive(Debug, Clone)]
pub struct TuningSettings {
    pub embedded_partitions: u32,
    pub max_in_flight_per_partition: usize,
    /// Fetched records held per partition (waiting plus in flight); at least the in-flight window.
    pub max_buffered_per_partition: usize,
    pub commit_interval: Duration,
    pub handler_timeout: Duration,
    pub max_attempts: u32,
    pub retry_backoff_base: Duration,
    pub retry_backoff_max: Duration,
    pub restart_limit: u32,
    pub restart_window: Duration,
    pub shutdown_timeout: Duration,
    /// How long start-up waits for the database and the broker before it gives up.
    pub startup_timeout: Duration,
    /// Dead-letter cap: the role stops when at least `dlq_cap_ratio` of the last
    /// `dlq_cap_window` records of a partition were dead-lettered.
    pub dlq_cap_window: usize,
    pub dlq_cap_ratio: f64,
    /// In-flight records of one tenant per partition, so a burst cannot hold back others.
    pub tenant_max_in_flight: usize,
    /// Events whose effects may share one database transaction (1 = a transaction each).
    pub group_commit_max_events: usize,
    /// Records one handler actor works on at once, one at a time per key: tool calls overlap,
    /// and more attempts meet in each group commit.
    pub handler_in_flight: usize,
    /// Threads the handler actors of every role share.
    pub handler_threads: usize,
    /// Time between two heartbeats of this process's row in `workers`.
    pub worker_heartbeat: Duration,
}

impl TuningSettings {
    /// From the checked environment; HANDLER_THREADS unset is one per core the process may use.
    pub(super) fn read(c: &mut Checked) -> Self {
        Self {
            embedded_partitions: c.whole(&EMBEDDED_PARTITIONS),
            max_in_flight_per_partition: c.whole(&MAX_IN_FLIGHT_PER_PARTITION),
            max_buffered_per_partition: c.whole(&MAX_BUFFERED_PER_PARTITION),
            commit_interval: Duration::from_millis(c.whole(&COMMIT_INTERVAL_MS)),
            handler_timeout: Duration::from_secs(c.whole(&HANDLER_TIMEOUT_SECS)),
            max_attempts: c.whole(&MAX_ATTEMPTS),
            retry_backoff_base: Duration::from_millis(c.whole(&RETRY_BACKOFF_BASE_MS)),
            retry_backoff_max: Duration::from_millis(c.whole(&RETRY_BACKOFF_MAX_MS)),
            restart_limit: c.whole(&RESTART_LIMIT),
            restart_window: Duration::from_secs(c.whole(&RESTART_WINDOW_SECS)),
            shutdown_timeout: Duration::from_secs(c.whole(&SHUTDOWN_TIMEOUT_SECS)),
            startup_timeout: Duration::from_secs(c.whole(&STARTUP_TIMEOUT_SECS)),
            dlq_cap_window: c.whole(&DLQ_CAP_WINDOW),
            dlq_cap_ratio: c.fraction(&DLQ_CAP_RATIO),
            tenant_max_in_flight: c.whole(&TENANT_MAX_IN_FLIGHT),
            group_commit_max_events: c.whole(&GROUP_COMMIT_MAX_EVENTS),
            handler_in_flight: c.whole(&HANDLER_IN_FLIGHT),
            handler_threads: c
                .whole_if_set(&HANDLER_THREADS)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
            worker_heartbeat: Duration::from_secs(c.whole(&WORKER_HEARTBEAT_SECS)),
        }
    }
}
