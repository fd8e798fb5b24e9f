//! The handler actor: processes the records routed to it (one key always meets the same
//! actor), several at once when they belong to different keys and one at a time per key, so an
//! exception's events keep their order while I/O-bound work (a tool's HTTP call) overlaps.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{process, Handled, HandlerDeps, Process};
use crate::roles::Role;

/// A record waiting for its key to be free or for a free slot.
struct Queued {
    process: Process,
    answer: oneshot::Sender<Handled>,
}

pub struct EventHandler {
    role: Arc<dyn Role>,
    deps: Arc<HandlerDeps>,
    name: Arc<str>,
    /// Records processed at once, at most.
    max_in_flight: usize,
    /// Keys with a record in progress.
    busy_keys: HashSet<String>,
    waiting: VecDeque<Queued>,
    /// Counts started records, to name each one in liveness reports.
    started: u64,
}

impl EventHandler {
    pub fn new(
        role: Arc<dyn Role>,
        deps: Arc<HandlerDeps>,
        index: usize,
        max_in_flight: usize,
    ) -> Self {
        let name = Arc::from(format!("{}#{index}", role.name()));
        Self {
            role,
            deps,
            name,
            max_in_flight: max_in_flight.max(1),
            busy_keys: HashSet::new(),
            waiting: VecDeque::new(),
            started: 0,
        }
    }

    /// Starts waiting records, oldest first, whose key is free, while slots are free. A record
    /// whose key is busy keeps its place, and so does every later record of that key.
    fn start_ready(&mut self, ctx: &mut Context<Self>) {
        let mut index = 0;
        let mut passed_keys: HashSet<String> = HashSet::new();
        while self.busy_keys.len() < self.max_in_flight && index < self.waiting.len() {
            let key = key_of(&self.waiting[index].process);
            if self.busy_keys.contains(&key) || passed_keys.contains(&key) {
                passed_keys.insert(key);
                index += 1;
                continue;
            }
            let Some(queued) = self.waiting.remove(index) else {
                break;
            };
            self.start(queued, key, ctx);
        }
    }

    fn start(&mut self, queued: Queued, key: String, ctx: &mut Context<Self>) {
        self.busy_keys.insert(key.clone());
        self.started += 1;
        let slot_name: Arc<str> = if self.max_in_flight == 1 {
            self.name.clone()
        } else {
            Arc::from(format!("{}/{}", self.name, self.started))
        };
        let role = self.role.clone();
        let deps = self.deps.clone();
        let work = async move {
            let handled = process(role.as_ref(), &deps, &queued.process.0, &slot_name).await;
            deps.runtime.health.handler_idle(&slot_name);
            (handled, queued.answer)
        };
        ctx.spawn(
            work.into_actor(self)
                .map(move |(handled, answer), handler, ctx| {
                    handler.busy_keys.remove(&key);
                    let _gone = answer.send(handled);
                    handler.start_ready(ctx);
                }),
        );
    }
}

fn key_of(process: &Process) -> String {
    process.0.key.clone().unwrap_or_default()
}

impl Actor for EventHandler {
    type Context = Context<Self>;
}

/// Stops the handler; records in progress are abandoned (their offsets stay uncommitted).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

impl actix::Handler<Stop> for EventHandler {
    type Result = ();

    fn handle(&mut self, _stop: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl actix::Handler<Process> for EventHandler {
    type Result = ResponseFuture<Option<Handled>>;

    fn handle(&mut self, process: Process, ctx: &mut Self::Context) -> Self::Result {
        let (answer, answered) = oneshot::channel();
        self.waiting.push_back(Queued { process, answer });
        self.start_ready(ctx);
        Box::pin(async move { answered.await.ok() })
    }
}
