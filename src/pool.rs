//! The handler pool of one role: CONCURRENCY handler actors, each on its own arbiter (thread).
//! Routing is by a stable hash of the key, so one exception's events always meet the same
//! handler. A handler whose actor died is restarted on its arbiter; past the restart limit in
//! the restart window the role is marked failed (liveness goes red) instead of spinning.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix::prelude::*;

use crate::handler::{EventHandler, HandlerDeps};
use crate::model::RoleName;
use crate::roles::Role;
use crate::routing::slot_for;

struct Slot {
    arbiter: Arbiter,
    address: Addr<EventHandler>,
}

pub struct HandlerPool {
    role: Arc<dyn Role>,
    deps: Arc<HandlerDeps>,
    slots: Mutex<Vec<Slot>>,
    restarts: Mutex<VecDeque<Instant>>,
}

impl HandlerPool {
    pub fn start(role: Arc<dyn Role>, deps: Arc<HandlerDeps>, concurrency: usize) -> Arc<Self> {
        let slots = (0..concurrency.max(1))
            .map(|index| {
                let arbiter = Arbiter::new();
                let address = start_handler(&arbiter, role.clone(), deps.clone(), index);
                Slot { arbiter, address }
            })
            .collect::<Vec<_>>();
        deps.metrics
            .handler_actors
            .with_label_values(&[role.name().as_str()])
            .set(slots.len() as i64);
        Arc::new(Self {
            role,
            deps,
            slots: Mutex::new(slots),
            restarts: Mutex::new(VecDeque::new()),
        })
    }

    pub fn size(&self) -> usize {
        self.lock_slots().len()
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The handler for `key`, restarting it first if its actor has stopped.
    pub fn route(&self, key: &str) -> Addr<EventHandler> {
        let mut slots = self.lock_slots();
        let index = slot_for(key, slots.len());
        let slot = &mut slots[index];
        if !slot.address.connected() {
            self.note_restart(index);
            slot.address =
                start_handler(&slot.arbiter, self.role.clone(), self.deps.clone(), index);
        }
        slot.address.clone()
    }

    fn note_restart(&self, index: usize) {
        let role = self.role.name();
        let tuning = &self.deps.tuning;
        self.deps
            .metrics
            .restarts
            .with_label_values(&[role.as_str(), "handler"])
            .inc();
        tracing::warn!(role = %role, handler = index, "Handler actor stopped; restarting it.");
        let mut restarts = self
            .restarts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        restarts.push_back(now);
        while restarts
            .front()
            .is_some_and(|at| now.duration_since(*at) > tuning.restart_window)
        {
            restarts.pop_front();
        }
        if restarts.len() as u32 > tuning.restart_limit {
            let reason = format!(
                "{} handler restarts within {}s",
                restarts.len(),
                tuning.restart_window.as_secs()
            );
            tracing::error!(role = %role, %reason, "Role hit its restart limit; liveness is failing.");
            self.deps
                .metrics
                .role_failed
                .with_label_values(&[role.as_str()])
                .set(1);
            self.deps.health.role_failed(role.as_str(), reason);
        }
    }

    /// Stops every handler and its arbiter thread.
    pub fn stop(&self) {
        for slot in self.lock_slots().iter() {
            slot.arbiter.stop();
        }
        self.deps
            .metrics
            .handler_actors
            .with_label_values(&[self.role.name().as_str()])
            .set(0);
    }
}

fn start_handler(
    arbiter: &Arbiter,
    role: Arc<dyn Role>,
    deps: Arc<HandlerDeps>,
    index: usize,
) -> Addr<EventHandler> {
    // Tool calls wait on other services: each tool handler keeps several in flight.
    let max_in_flight = match role.name() {
        RoleName::Tool => deps.tuning.tool_calls_in_flight,
        _ => 1,
    };
    EventHandler::start_in_arbiter(&arbiter.handle(), move |_ctx| {
        EventHandler::new(role, deps, index, max_in_flight)
    })
}
