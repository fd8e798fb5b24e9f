//! Start-up while a dependency may be down: the database and the broker are asked again and
//! again, a little less often each time, until they answer or STARTUP_TIMEOUT_SECS runs out.
//! Meanwhile readiness names what start-up waits for, one warning is logged every few seconds,
//! and the error at the end names the endpoint that never answered.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::health::Health;

/// The first pause between two attempts; it doubles up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// At most one warning per dependency in this time.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Why start-up gave up.
#[derive(Debug, thiserror::Error)]
#[error("{what} did not answer within {} (STARTUP_TIMEOUT_SECS); last error: {last_error}", seconds(.bound))]
pub struct StartupTimedOut {
    pub what: String,
    pub bound: Duration,
    pub last_error: String,
}

fn seconds(duration: &Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// The one deadline every wait of a start-up shares.
#[derive(Debug, Clone, Copy)]
pub struct StartupDeadline {
    started: Instant,
    bound: Duration,
}

impl StartupDeadline {
    pub fn new(bound: Duration) -> Self {
        Self {
            started: Instant::now(),
            bound,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.bound.saturating_sub(self.started.elapsed())
    }

    /// Runs `attempt` until it succeeds or the deadline passes. `what` names the dependency
    /// and its endpoint ("the broker at 127.0.0.1:9092 (KAFKA_BOOTSTRAP_SERVERS)").
    pub async fn wait_for<T, E, F, Fut>(
        &self,
        health: &Health,
        what: &str,
        mut attempt: F,
    ) -> Result<T, StartupTimedOut>
    where
        E: std::fmt::Display,
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut pause = FIRST_PAUSE;
        let mut warned_at: Option<Instant> = None;
        let mut last_error: Option<String> = None;
        health.set_startup_stage(Some(format!("waiting for {what}")));
        loop {
            let remaining = self.remaining();
            match tokio::time::timeout(remaining, attempt(remaining)).await {
                Ok(Ok(value)) => {
                    health.set_startup_stage(None);
                    if warned_at.is_some() {
                        tracing::info!(dependency = what, "Answered; start-up goes on.");
                    }
                    return Ok(value);
                }
                Ok(Err(error)) => last_error = Some(format!("{error:#}")),
                // An attempt cut short by the deadline says less than the one before it.
                Err(_elapsed) => {
                    last_error.get_or_insert_with(|| "no answer".to_owned());
                }
            }
            let last_error = last_error.clone().unwrap_or_default();
            health.set_startup_stage(Some(format!("waiting for {what}: {last_error}")));
            let remaining = self.remaining();
            if remaining.is_zero() {
                return Err(StartupTimedOut {
                    what: what.to_owned(),
                    bound: self.bound,
                    last_error,
                });
            }
            if warned_at.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                warned_at = Some(Instant::now());
                tracing::warn!(
                    dependency = what,
                    error = %last_error,
                    gives_up_in_secs = remaining.as_secs(),
                    "Waiting for a dependency; readiness is false meanwhile."
                );
            }
            tokio::time::sleep(pause.min(remaining)).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> Health {
        Health::new(Duration::from_secs(30), Duration::from_secs(30))
    }

    #[actix_rt::test]
    async fn a_dependency_that_answers_late_is_waited_for() {
        let deadline = StartupDeadline::new(Duration::from_secs(5));
        let mut calls = 0;
        let answered = deadline
            .wait_for(&health(), "the test dependency", |_remaining| {
                calls += 1;
                let call = calls;
                async move {
                    if call < 3 {
                        Err("refused")
                    } else {
                        Ok(call)
                    }
                }
            })
            .await;
        assert_eq!(answered.expect("an answer"), 3);
    }

    #[actix_rt::test]
    async fn a_dependency_that_never_answers_is_named_with_its_last_error() {
        let health = health();
        let deadline = StartupDeadline::new(Duration::from_millis(600));
        let started = Instant::now();
        let outcome: Result<(), _> = deadline
            .wait_for(&health, "the broker at 127.0.0.1:1", |_remaining| async {
                Err::<(), _>("connection refused")
            })
            .await;
        let error = outcome.expect_err("a timeout").to_string();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            error.contains("the broker at 127.0.0.1:1 did not answer within 0.6s")
                && error.contains("connection refused"),
            "{error}"
        );
        let readiness = health.readiness();
        assert!(
            readiness.reasons.iter().any(|reason| reason
                == "starting: waiting for the broker at 127.0.0.1:1: connection refused"),
            "{:?}",
            readiness.reasons
        );
    }
}
