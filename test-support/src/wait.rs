//! The one wait loop of the tests: poll a condition until it holds, or fail naming it.

use std::time::{Duration, Instant};

/// How long `wait_until` waits: ample for the in-process app on the embedded bus.
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);
/// Polls come about this many times over a wait's limit, within the bounds below.
const POLLS_PER_LIMIT: u32 = 500;
const FASTEST_POLL: Duration = Duration::from_millis(20);
const SLOWEST_POLL: Duration = Duration::from_millis(100);

/// `wait_for` with the default limit, WAIT_LIMIT (10 s).
pub async fn wait_until(what: &str, check: impl AsyncFnMut() -> bool) {
    wait_for(what, WAIT_LIMIT, check).await;
}

/// Polls `check` until it holds; panics after `limit` naming what was awaited. A short wait
/// polls often (every 20 ms for 10 s), a long one, often across processes or a broker, less
/// (every 100 ms from 50 s on).
pub async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let step = (limit / POLLS_PER_LIMIT).clamp(FASTEST_POLL, SLOWEST_POLL);
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting until {what}"
        );
        actix_rt::time::sleep(step).await;
    }
}
