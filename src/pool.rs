//! The handler pool of one role: CONCURRENCY handler actors, on the process's shared handler
//! threads.
//! Routing is by a stable hash of the key, so one exception's events always meet the same
//! handler. A handler whose actor died is restarted on its arbiter; past the restart limit in
//! the restart window the role is marked failed (liveness goes red) instead of spinning.

use std::sync::{Arc, Mutex};

use actix::prelude::*;

use crate::handler::{EventHandler, HandlerDeps, Stop};
use crate::handler_threads::HandlerThreads;
use crate::model::RoleName;
use crate::restart_budget::RestartBudget;
use crate::roles::Role;
use crate::routing::slot_for;

struct Slot {
    arbiter: ArbiterHandle,
    address: Addr<EventHandler>,
}

pub struct HandlerPool {
    role: Arc<dyn Role>,
    deps: Arc<HandlerDeps>,
    threads: Arc<HandlerThreads>,
    slots: Mutex<Vec<Slot>>,
    restarts: Mutex<RestartBudget>,
}

impl HandlerPool {
    pub fn start(
        role: Arc<dyn Role>,
        deps: Arc<HandlerDeps>,
        threads: Arc<HandlerThreads>,
        concurrency: usize,
    ) -> Arc<Self> {
        let slots = (0..concurrency.max(1))
            .map(|index| {
                let arbiter = threads.next();
                let address = start_handler(&arbiter, role.clone(), deps.clone(), index);
                Slot { arbiter, address }
            })
            .collect::<Vec<_>>();
        deps.runtime
            .metrics
            .handler_actors
            .with_label_values(&[role.name().as_str()])
            .set(slots.len() as i64);
        Arc::new(Self {
            role,
            restarts: Mutex::new(RestartBudget::from_tuning(&deps.runtime.tuning)),
            deps,
            threads,
            slots: Mutex::new(slots),
        })
    }

    pub fn role_name(&self) -> RoleName {
        self.role.name()
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
            slot.arbiter = self.threads.live(&slot.arbiter);
            slot.address =
                start_handler(&slot.arbiter, self.role.clone(), self.deps.clone(), index);
        }
        slot.address.clone()
    }

    fn note_restart(&self, index: usize) {
        let role = self.role.name();
        tracing::warn!(role = %role, handler = index, "Handler actor stopped; restarting it.");
        // Past the budget the role is marked failed; the handler is restarted all the same, and
        // failing liveness brings the process down.
        let _within_budget = self
            .restarts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .charge(role.as_str(), "handler", &self.deps.runtime, |budget| {
                budget.exhausted("handler")
            });
    }

    /// Stops handler `index` as a crash would; the next record routed to it restarts it
    /// (counted against the role's restart budget).
    pub fn stop_handler(&self, index: usize) {
        if let Some(slot) = self.lock_slots().get(index) {
            let _stopping = slot.address.try_send(Stop);
        }
    }

    /// Stops every handler (the threads they run on are the overseer's to stop).
    pub fn stop(&self) {
        for slot in self.lock_slots().iter() {
            let _stopping = slot.address.try_send(Stop);
        }
        self.deps
            .runtime
            .metrics
            .handler_actors
            .with_label_values(&[self.role.name().as_str()])
            .set(0);
    }
}

fn start_handler(
    arbiter: &ArbiterHandle,
    role: Arc<dyn Role>,
    deps: Arc<HandlerDeps>,
    index: usize,
) -> Addr<EventHandler> {
    let max_in_flight = deps.runtime.tuning.handler_in_flight;
    EventHandler::start_in_arbiter(arbiter, move |_ctx| {
        EventHandler::new(role, deps, index, max_in_flight)
    })
}
