//! Settings groups small enough to need no module of their own: the HTTP surface's limits and
//! the SLA monitor's schedule.

use std::time::Duration;

use super::checked::Checked;
use super::table::{
    HTTP_BODY_TIMEOUT_SECS, HTTP_MAX_CONCURRENT_BODIES, HTTP_MAX_CONNECTIONS,
    SLA_CHECK_INTERVAL_SECS, SLA_IMMINENT_THRESHOLD,
};

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

impl HttpSettings {
    pub(super) fn read(c: &mut Checked) -> Self {
        Self {
            body_timeout: Duration::from_secs(c.whole(&HTTP_BODY_TIMEOUT_SECS)),
            max_concurrent_bodies: c.whole(&HTTP_MAX_CONCURRENT_BODIES),
            max_connections: c.whole(&HTTP_MAX_CONNECTIONS),
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

impl SlaSettings {
    pub(super) fn read(c: &mut Checked) -> Self {
        Self {
            check_interval: Duration::from_secs(c.whole(&SLA_CHECK_INTERVAL_SECS)),
            imminent_threshold: c.fraction(&SLA_IMMINENT_THRESHOLD),
        }
    }
}
