//! The threads handler actors run on: a small set shared by every role of the process (one per
//! core by default, HANDLER_THREADS), each an actix arbiter. Handler actors are units of
//! concurrency, not threads: with one thread per actor a two-core machine ran 28 threads and
//! spent its time switching between them.

use std::sync::Mutex;

use actix::{Arbiter, ArbiterHandle};

pub struct HandlerThreads {
    arbiters: Mutex<Vec<Arbiter>>,
    next: std::sync::atomic::AtomicUsize,
}

impl HandlerThreads {
    pub fn start(count: usize) -> Self {
        Self {
            arbiters: Mutex::new((0..count.max(1)).map(|_| Arbiter::new()).collect()),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arbiter>> {
        self.arbiters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The thread for the next handler, round robin.
    pub fn next(&self) -> ArbiterHandle {
        let arbiters = self.lock();
        let index = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % arbiters.len();
        arbiters[index].handle()
    }

    /// A live thread for a restarted handler: `previous` if it still runs, else a new thread
    /// in its place.
    pub fn live(&self, previous: &ArbiterHandle) -> ArbiterHandle {
        if previous.spawn(async {}) {
            return previous.clone();
        }
        let mut arbiters = self.lock();
        let fresh = Arbiter::new();
        let handle = fresh.handle();
        if let Some(dead) = arbiters
            .iter_mut()
            .find(|arbiter| !arbiter.handle().spawn(async {}))
        {
            *dead = fresh;
        } else {
            arbiters.push(fresh);
        }
        handle
    }

    /// Stops every thread (after the handlers are done).
    pub fn stop(&self) {
        for arbiter in self.lock().iter() {
            arbiter.stop();
        }
    }
}
