//! Tool execution settings (allow-listed http hosts, retry budget, backoff) and the backoff delay.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::backoff::Backoff;

/// How tools are run; `Default` gives no allow-listed hosts, 3 attempts, 50ms..2s backoff and
/// a 200ms `delayed` profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSettings {
    /// Hosts that may be called over plain http (exact host match); https needs no listing.
    pub allowed_hosts: BTreeSet<String>,
    /// Attempts per execution, first included (0 is treated as 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles per attempt.
    pub backoff_base: Duration,
    /// Cap on the backoff before jitter.
    pub backoff_max: Duration,
    /// How long the `delayed` simulate profile sleeps (still bounded by the tool's timeout).
    pub delayed_profile_delay: Duration,
}

impl Default for ToolSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: BTreeSet::new(),
            max_attempts: 3,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            delayed_profile_delay: Duration::from_millis(200),
        }
    }
}

impl ToolSettings {
    /// The attempt budget, at least 1.
    pub fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// The pause after failed attempt `attempt` (from 1): the shared backoff with this
    /// tool's base and cap.
    pub fn backoff(&self, attempt: u32) -> Duration {
        Backoff::new(self.backoff_base, self.backoff_max).delay(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let settings = ToolSettings::default();
        assert!(settings.allowed_hosts.is_empty());
        assert_eq!(settings.max_attempts, 3);
        assert_eq!(settings.backoff_base, Duration::from_millis(50));
        assert_eq!(settings.backoff_max, Duration::from_secs(2));
        assert_eq!(settings.delayed_profile_delay, Duration::from_millis(200));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let settings = ToolSettings::default();
        for _ in 0..50 {
            let cases = [
                (1, 50),
                (2, 100),
                (3, 200),
                (6, 1600),
                (7, 2000),
                (40, 2000),
            ];
            for (attempt, full_ms) in cases {
                let delay = settings.backoff(attempt);
                let full = Duration::from_millis(full_ms);
                assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
            }
        }
    }

    #[test]
    fn zero_attempts_means_one_and_zero_backoff_is_zero() {
        let settings = ToolSettings {
            max_attempts: 0,
            backoff_base: Duration::ZERO,
            ..ToolSettings::default()
        };
        assert_eq!(settings.attempts(), 1);
        assert_eq!(settings.backoff(3), Duration::ZERO);
    }
}
