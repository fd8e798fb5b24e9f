//! The runtime's limits and intervals: each bounded thing has its bound here.

use std::time::Duration;

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

impl Default for TuningSettings {
    fn default() -> Self {
        Self {
            embedded_partitions: 4,
            max_in_flight_per_partition: 64,
            max_buffered_per_partition: 512,
            commit_interval: Duration::from_millis(500),
            handler_timeout: Duration::from_secs(30),
            max_attempts: 5,
            retry_backoff_base: Duration::from_millis(100),
            retry_backoff_max: Duration::from_secs(10),
            restart_limit: 5,
            restart_window: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            startup_timeout: Duration::from_secs(60),
            dlq_cap_window: 200,
            dlq_cap_ratio: 0.95,
            tenant_max_in_flight: 16,
            group_commit_max_events: 32,
            handler_in_flight: 8,
            handler_threads: 2,
            worker_heartbeat: Duration::from_secs(10),
        }
    }
}
