//! Liveness and readiness state shared by the actors and the HTTP probes.
//! Liveness fails only when the process is wedged (a stale poll loop, a handler stuck past its
//! timeout, a role past its restart limit); readiness follows start-up, subscription, database
//! reachability, whether the database takes writes (a full disk), and draining.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Default)]
struct Beats {
    /// Last tick of each poll loop, by name ("triage exceptions.normalized/2").
    poll_loops: BTreeMap<String, Instant>,
    /// Handlers busy with one event, by name, since when.
    busy_handlers: BTreeMap<String, Instant>,
    failed_roles: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<HealthInner>,
}

#[derive(Debug)]
struct HealthInner {
    started: AtomicBool,
    /// What start-up is waiting for, while it waits.
    startup_stage: Mutex<Option<String>>,
    expected_subscriptions: AtomicUsize,
    subscriptions: AtomicUsize,
    database_reachable: AtomicBool,
    /// When the database was last found unreachable.
    database_unreachable_at: Mutex<Option<Instant>>,
    /// Why the database takes no writes (a full disk), while it does not.
    storage_problem: Mutex<Option<String>>,
    broker_reachable: AtomicBool,
    draining: AtomicBool,
    beats: Mutex<Beats>,
    poll_stale_after: Duration,
    handler_stuck_after: Duration,
}

/// A probe's answer: whether it passes and, when not, why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProbeReport {
    pub ok: bool,
    pub reasons: Vec<String>,
}

impl Health {
    pub fn new(poll_stale_after: Duration, handler_stuck_after: Duration) -> Self {
        Self {
            inner: Arc::new(HealthInner {
                started: AtomicBool::new(false),
                startup_stage: Mutex::new(None),
                expected_subscriptions: AtomicUsize::new(usize::MAX),
                subscriptions: AtomicUsize::new(0),
                database_reachable: AtomicBool::new(false),
                database_unreachable_at: Mutex::new(None),
                storage_problem: Mutex::new(None),
                broker_reachable: AtomicBool::new(true),
                draining: AtomicBool::new(false),
                beats: Mutex::new(Beats::default()),
                poll_stale_after,
                handler_stuck_after,
            }),
        }
    }

    fn beats(&self) -> std::sync::MutexGuard<'_, Beats> {
        self.inner
            .beats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_started(&self) {
        self.set_startup_stage(None);
        self.inner.started.store(true, Ordering::SeqCst);
    }

    /// Records what start-up is waiting for (readiness names it), or None when it waits for
    /// nothing.
    pub fn set_startup_stage(&self, stage: Option<String>) {
        *self
            .inner
            .startup_stage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = stage;
    }

    /// How many role consumers must subscribe before the process is ready.
    pub fn expect_subscriptions(&self, count: usize) {
        self.inner
            .expected_subscriptions
            .store(count, Ordering::SeqCst);
    }

    /// One role consumer joined its group.
    pub fn subscription_ready(&self) {
        self.inner.subscriptions.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_database_reachable(&self, reachable: bool) {
        if !reachable {
            *self
                .inner
                .database_unreachable_at
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
        }
        self.inner
            .database_reachable
            .store(reachable, Ordering::SeqCst);
    }

    /// Whether the database was found unreachable at `since` or later: an attempt that waited
    /// through an outage timed out because of it, even when the database is back by the time
    /// anyone asks.
    pub fn database_unreachable_since(&self, since: Instant) -> bool {
        self.inner
            .database_unreachable_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some_and(|seen| seen >= since)
    }

    /// Records why the database takes no writes, or None once it does again.
    pub fn set_storage_problem(&self, problem: Option<String>) {
        *self
            .inner
            .storage_problem
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = problem;
    }

    /// Why the database takes no writes, if it does not.
    pub fn storage_problem(&self) -> Option<String> {
        self.inner
            .storage_problem
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn set_broker_reachable(&self, reachable: bool) {
        self.inner
            .broker_reachable
            .store(reachable, Ordering::SeqCst);
    }

    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    pub fn poll_tick(&self, loop_name: &str) {
        self.beats()
            .poll_loops
            .insert(loop_name.to_owned(), Instant::now());
    }

    pub fn poll_loop_ended(&self, loop_name: &str) {
        self.beats().poll_loops.remove(loop_name);
    }

    pub fn handler_busy(&self, handler_name: &str) {
        self.beats()
            .busy_handlers
            .insert(handler_name.to_owned(), Instant::now());
    }

    pub fn handler_idle(&self, handler_name: &str) {
        self.beats().busy_handlers.remove(handler_name);
    }

    pub fn role_failed(&self, role: &str, reason: String) {
        self.beats().failed_roles.insert(role.to_owned(), reason);
    }

    pub fn liveness(&self) -> ProbeReport {
        let now = Instant::now();
        let beats = self.beats();
        let mut reasons = Vec::new();
        for (name, tick) in &beats.poll_loops {
            let silent_for = now.duration_since(*tick);
            if silent_for > self.inner.poll_stale_after {
                reasons.push(format!(
                    "poll loop {name} has not ticked for {}s",
                    silent_for.as_secs()
                ));
            }
        }
        for (name, since) in &beats.busy_handlers {
            let busy_for = now.duration_since(*since);
            if busy_for > self.inner.handler_stuck_after {
                reasons.push(format!(
                    "handler {name} stuck on one event for {}s",
                    busy_for.as_secs()
                ));
            }
        }
        for (role, reason) in &beats.failed_roles {
            reasons.push(format!("role {role} failed: {reason}"));
        }
        ProbeReport {
            ok: reasons.is_empty(),
            reasons,
        }
    }

    pub fn readiness(&self) -> ProbeReport {
        let mut reasons = Vec::new();
        if !self.inner.started.load(Ordering::SeqCst) {
            let stage = self
                .inner
                .startup_stage
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            reasons.push(match stage {
                Some(stage) => format!("starting: {stage}"),
                None => "starting".to_owned(),
            });
        }
        let expected = self.inner.expected_subscriptions.load(Ordering::SeqCst);
        if self.inner.subscriptions.load(Ordering::SeqCst) < expected {
            reasons.push("not subscribed".to_owned());
        }
        if !self.inner.database_reachable.load(Ordering::SeqCst) {
            reasons.push("database unreachable".to_owned());
        } else if let Some(problem) = self.storage_problem() {
            reasons.push(format!("database takes no writes: {problem}"));
        }
        if !self.inner.broker_reachable.load(Ordering::SeqCst) {
            reasons.push("broker unreachable".to_owned());
        }
        if self.is_draining() {
            reasons.push("draining".to_owned());
        }
        ProbeReport {
            ok: reasons.is_empty(),
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_start_subscription_database_and_draining() {
        let health = Health::new(Duration::from_secs(30), Duration::from_secs(60));
        assert_eq!(
            health.readiness().reasons,
            vec!["starting", "not subscribed", "database unreachable"]
        );
        health.set_started();
        health.expect_subscriptions(1);
        health.subscription_ready();
        health.set_database_reachable(true);
        assert!(health.readiness().ok);
        health.set_storage_problem(Some("database or disk is full".into()));
        assert_eq!(
            health.readiness().reasons,
            vec!["database takes no writes: database or disk is full"]
        );
        assert!(
            health.liveness().ok,
            "a full disk is not a liveness failure"
        );
        health.set_storage_problem(None);
        assert!(health.readiness().ok);
        health.set_draining();
        assert_eq!(health.readiness().reasons, vec!["draining"]);
        assert!(health.liveness().ok, "draining is not a liveness failure");
    }

    #[test]
    fn a_stale_poll_loop_or_stuck_handler_fails_liveness() {
        let health = Health::new(Duration::from_millis(0), Duration::from_millis(0));
        health.poll_tick("intake exceptions.ingested/0");
        health.handler_busy("intake#0");
        std::thread::sleep(Duration::from_millis(5));
        let report = health.liveness();
        assert!(!report.ok);
        assert_eq!(report.reasons.len(), 2, "{:?}", report.reasons);
        health.poll_loop_ended("intake exceptions.ingested/0");
        health.handler_idle("intake#0");
        assert!(health.liveness().ok);
    }

    #[test]
    fn an_outage_is_remembered_after_the_database_is_back() {
        let health = Health::new(Duration::from_secs(30), Duration::from_secs(60));
        let before = Instant::now();
        assert!(!health.database_unreachable_since(before));
        health.set_database_reachable(false);
        health.set_database_reachable(true);
        assert!(health.database_unreachable_since(before));
        assert!(!health.database_unreachable_since(Instant::now()));
    }

    #[test]
    fn a_failed_role_fails_liveness_but_not_an_outage() {
        let health = Health::new(Duration::from_secs(30), Duration::from_secs(60));
        health.set_database_reachable(false);
        assert!(health.liveness().ok);
        health.role_failed("triage", "restart limit reached".into());
        assert!(!health.liveness().reasons.is_empty());
    }
}
