//! The one restart policy of the actor tree: a child that stopped on its own (a handler actor,
//! a partition worker, a maintenance actor) is restarted while its role has restarted fewer than
//! RESTART_LIMIT children within the last RESTART_WINDOW_SECS; past that the role is marked
//! failed (liveness goes red, `role_failed` is 1) instead of restarting forever.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::TuningSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::runtime::Runtime;

#[derive(Debug)]
pub struct RestartBudget {
    limit: u32,
    window: Duration,
    recent: VecDeque<Instant>,
}

impl RestartBudget {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            recent: VecDeque::new(),
        }
    }

    pub fn from_tuning(tuning: &TuningSettings) -> Self {
        Self::new(tuning.restart_limit, tuning.restart_window)
    }

    /// Records a restart at `now`; true while the restarts within the window stay within the
    /// limit.
    pub fn spend(&mut self, now: Instant) -> bool {
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|at| now.duration_since(*at) > self.window)
        {
            self.recent.pop_front();
        }
        self.recent.len() as u32 <= self.limit
    }

    /// Counts one stopped `kind` child of `role` in `actor_restarts_total` and against the
    /// budget. Past the budget the role is marked failed, for the reason `why` gives, and the
    /// answer is false: do not restart it.
    pub fn charge(
        &mut self,
        role: &str,
        kind: &str,
        runtime: &Runtime,
        why: impl FnOnce(&Self) -> String,
    ) -> bool {
        let metrics = &runtime.metrics;
        metrics.restarts.with_label_values(&[role, kind]).inc();
        if self.spend(Instant::now()) {
            return true;
        }
        fail_role(role, why(self), metrics, &runtime.health);
        false
    }

    /// Restarts within the window (the backoff grows with it).
    pub fn recent(&self) -> u32 {
        self.recent.len() as u32
    }

    /// Why the role failed, for liveness and the log.
    pub fn exhausted(&self, what: &str) -> String {
        format!(
            "{} {what} restarts within {}s (RESTART_LIMIT {})",
            self.recent.len(),
            self.window.as_secs(),
            self.limit
        )
    }
}

/// Marks `role` failed: the log line, the `role_failed` gauge and liveness.
pub fn fail_role(role: &str, reason: String, metrics: &Metrics, health: &Health) {
    tracing::error!(role, %reason, "Role hit its restart limit; liveness is failing.");
    metrics.role_failed.with_label_values(&[role]).set(1);
    health.role_failed(role, reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_within_the_window_are_counted_and_old_ones_forgotten() {
        let mut budget = RestartBudget::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert!(budget.spend(start));
        assert!(budget.spend(start + Duration::from_secs(1)));
        assert!(
            !budget.spend(start + Duration::from_secs(2)),
            "a third within 60 s"
        );
        assert_eq!(budget.recent(), 3);
        // Two minutes later the old ones have left the window.
        assert!(budget.spend(start + Duration::from_secs(130)));
        assert_eq!(budget.recent(), 1);
        assert!(budget
            .exhausted("handler")
            .starts_with("1 handler restarts within 60s"));
    }
}
