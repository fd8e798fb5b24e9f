//! Settings groups small enough to need no module of their own: the HTTP surface's limits and
//! the SLA monitor's schedule.

use std::time::Duration;

/// What a stranger on the HTTP port can cost: connections, bodies in flight and how long a body
/// may take to arrive.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// A request body must arrive whole within this time (counted from the first byte read).
    pub body_timeout: Duration,
    /// Request bodies read at once; a request beyond it is refused with 503 and Retry-After.
    pub max_concurrent_bodies: usize,
    /// Open connections per HTTP worker thread.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_timeout: Duration::from_secs(10),
            max_concurrent_bodies: 64,
            max_connections: 256,
        }
    }
}

/// The SLA monitor's schedule and threshold.
#[derive(Debug, Clone)]
pub struct SlaSettings {
    pub check_interval: Duration,
    /// Fraction of the SLA window after which an exception is flagged imminent.
    pub imminent_threshold: f64,
}
