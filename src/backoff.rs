//! Exponential backoff with "equal jitter", the one used for every retry (handler attempts,
//! fetches, restarts, tool calls): after failed attempt `n` (from 1) the pause is a uniform
//! pick in `[cap/2, cap]`, where `cap = base * 2^(n-1)` up to `max`. The jitter keeps many
//! retries after one outage from arriving together; the floor keeps a retry from coming at once.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The pause after failed attempt `attempt` (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let cap = self.base.saturating_mul(1_u32 << exponent).min(self.max);
        let cap_nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        let half = cap_nanos / 2;
        Duration::from_nanos(half + rand::rng().random_range(0..=cap_nanos - half))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_within_its_jitter_and_is_capped() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..50 {
            for (attempt, low, high) in [(1, 50, 100), (3, 200, 400), (40, 500, 1000)] {
                let pause = backoff.delay(attempt);
                assert!(
                    pause >= Duration::from_millis(low) && pause <= Duration::from_millis(high),
                    "attempt {attempt}: {pause:?}"
                );
            }
        }
    }

    #[test]
    fn a_zero_base_means_no_pause() {
        assert_eq!(
            Backoff::new(Duration::ZERO, Duration::ZERO).delay(3),
            Duration::ZERO
        );
    }
}
