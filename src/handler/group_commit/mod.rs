//! Group commit: the attempts of several handlers share one database transaction, so a burst of
//! events pays for one commit instead of one each, and their idempotency claims and emitted
//! events are written with one multi-row statement each when the batch commits, instead of
//! statements per event. Idempotency stays per event: an attempt is reported done only after
//! the transaction holding its claim and effects committed, and a failed commit fails every
//! member, which each retries on its own.
//!
//! Members run straight in the shared transaction while attempts succeed, claiming at commit:
//! if a claim then turns out to be taken (a redelivered event), or a member fails, the batch is
//! rolled back, its members run again at once (uncounted), and the lane turns careful for a
//! while: each member then claims first and runs in a savepoint of its own, so a poison flood
//! or a redelivery storm costs one savepoint per event instead of a batch per event. A member
//! that failed without its claim is run again carefully before its failure is reported, so a
//! duplicate is never mistaken for a failure.
//!
//! Batching costs no latency when idle: the attempt that finds nobody queued behind it commits
//! at once. Under load the batch grows while attempts queue, up to `max_events`.

mod batch;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::sync::{oneshot, Mutex};

use self::batch::{in_savepoint, rows_of, Batch, Flush, MemberRows, Verdict, Waiting};
use super::failure::AttemptFailure;
use crate::bus::{Appended, Bus, LogRow};
use crate::metrics::Metrics;
use crate::routing::slot_for;
use crate::store::processed::ClaimKey;

/// How long a member waits for someone else to commit its batch before committing it itself
/// (only reached when the attempt queued behind it was cancelled).
const LINGER: Duration = Duration::from_millis(20);

/// How long a lane keeps savepoints after a member failed.
const CAREFUL_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Whether the work claims its event itself, first, or leaves the claim to the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claiming {
    /// Claim first, in the work: a duplicate is found before any effect.
    InWork,
    /// Return the claim with the effects; it is inserted when the batch commits, and a taken
    /// claim rolls the batch back.
    AtCommit,
}

/// What the work of an attempt did to the transaction.
pub enum Effects<T> {
    /// Wrote what must be committed; `claim` is the claim to insert at commit (under
    /// `Claiming::AtCommit`), `rows` the events it emits.
    Written {
        value: T,
        claim: Option<ClaimKey>,
        rows: Vec<LogRow>,
    },
    /// Wrote nothing (e.g. a duplicate). The value is still returned only after the batch
    /// committed, since the decision may rest on writes of other members of the batch.
    Unchanged(T),
}

/// A committed attempt: its value and the rows it emitted, as appended.
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub appended: Appended,
}

enum Pass<T> {
    Done(Result<Committed<T>, AttemptFailure>),
    RunAgain,
}

/// Where the attempts of one database meet; share it behind an `Arc`.
pub struct GroupCommit {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    lanes: Vec<Lane>,
    max_events: usize,
    metrics: Metrics,
}

/// One open transaction at a time, and the attempts queued for it.
struct Lane {
    open: Mutex<Option<Batch>>,
    queued: AtomicUsize,
    next_batch: AtomicU64,
    careful_until: StdMutex<Option<Instant>>,
}

impl Lane {
    fn careful(&self) -> bool {
        let until = self
            .careful_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    fn turn_careful(&self) {
        *self
            .careful_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some(Instant::now() + CAREFUL_AFTER_FAILURE);
    }
}

impl GroupCommit {
    /// `lanes` open transactions may be in progress at once (1 on SQLite, which has one
    /// writer); `max_events` caps a batch (1 gives every event its own transaction). The rows
    /// members emit are appended through `bus`.
    pub fn new(
        db: DatabaseConnection,
        bus: Arc<dyn Bus>,
        lanes: usize,
        max_events: usize,
        metrics: Metrics,
    ) -> Self {
        let lanes = (0..lanes.max(1))
            .map(|_| Lane {
                open: Mutex::new(None),
                queued: AtomicUsize::new(0),
                next_batch: AtomicU64::new(0),
                careful_until: StdMutex::new(None),
            })
            .collect();
        Self {
            db,
            bus,
            lanes,
            max_events: max_events.max(1),
            metrics,
        }
    }

    /// Runs `work` in the shared transaction of the lane `lane_key` picks and returns once that
    /// transaction committed, with the rows the work emitted as appended. An error from `work`
    /// undoes only its own writes. `work` may run more than once: when another member's failure
    /// rolled the batch back, it runs again in the next one.
    pub async fn run<T, F>(
        &self,
        lane_key: &str,
        mut work: F,
    ) -> Result<Committed<T>, AttemptFailure>
    where
        F: AsyncFnMut(&DatabaseTransaction, Claiming) -> Result<Effects<T>, AttemptFailure>,
    {
        let lane = &self.lanes[slot_for(lane_key, self.lanes.len())];
        loop {
            match self.pass(lane, &mut work).await {
                Pass::Done(result) => return result,
                Pass::RunAgain => self.metrics.group_commit_reruns.inc(),
            }
        }
    }

    async fn pass<T, F>(&self, lane: &Lane, work: &mut F) -> Pass<T>
    where
        F: AsyncFnMut(&DatabaseTransaction, Claiming) -> Result<Effects<T>, AttemptFailure>,
    {
        lane.queued.fetch_add(1, Ordering::SeqCst);
        let mut open = lane.open.lock().await;
        lane.queued.fetch_sub(1, Ordering::SeqCst);
        if open.as_ref().is_some_and(|batch| batch.torn) {
            if let Some(torn) = open.take() {
                torn.abort(|| Verdict::RunAgain).await;
            }
        }
        let batch = match open.as_mut() {
            Some(batch) => batch,
            None => match self.db.begin().await {
                Ok(txn) => open.insert(Batch::new(
                    lane.next_batch.fetch_add(1, Ordering::Relaxed),
                    txn,
                )),
                Err(error) => return Pass::Done(Err(error.into())),
            },
        };
        let batch_id = batch.id;
        let (value, rows) = if lane.careful() {
            match in_savepoint(batch, self.bus.as_ref(), work).await {
                Ok(Ok(done)) => done,
                Ok(Err(failure)) => {
                    // Nothing of this member stays in the batch, but the batch must not stay
                    // open with nobody to commit it: on SQLite it holds the only writer
                    // connection, which the dead-letter path is about to need.
                    let nobody_else = open.as_ref().is_some_and(|batch| batch.members.is_empty())
                        || lane.queued.load(Ordering::SeqCst) == 0;
                    if nobody_else {
                        let _settled = self.commit(lane, open.take(), None).await;
                    }
                    return Pass::Done(Err(failure));
                }
                Err(broken) => {
                    // A savepoint that cannot be released or rolled back leaves the transaction
                    // in an unknown state: nobody in it can be committed.
                    let verdict = broken.clone();
                    if let Some(batch) = open.take() {
                        batch.abort(move || Verdict::Failed(verdict.clone())).await;
                    }
                    return Pass::Done(Err(broken));
                }
            }
        } else {
            batch.torn = true;
            let result = work(&batch.txn, Claiming::AtCommit).await;
            batch.torn = false;
            match result {
                Ok(Effects::Written { value, claim, rows }) => (value, batch.defer(claim, rows)),
                Ok(Effects::Unchanged(value)) => (value, batch.defer(None, Vec::new())),
                Err(_failure) => {
                    // Ran without its claim: run it again, claiming first, before reporting.
                    lane.turn_careful();
                    if let Some(batch) = open.take() {
                        batch.abort(|| Verdict::RunAgain).await;
                    }
                    return Pass::RunAgain;
                }
            }
        };
        let Some(batch) = open.as_mut() else {
            return Pass::RunAgain;
        };
        if batch.members.len() + 1 >= self.max_events || lane.queued.load(Ordering::SeqCst) == 0 {
            return match self.commit(lane, open.take(), Some(rows)).await {
                Verdict::Committed(appended) => Pass::Done(Ok(Committed { value, appended })),
                Verdict::RunAgain => Pass::RunAgain,
                Verdict::Failed(failure) => Pass::Done(Err(failure)),
            };
        }
        let (done, mut verdict) = oneshot::channel();
        batch.members.push(Waiting {
            verdict: done,
            rows,
        });
        drop(open);
        loop {
            match tokio::time::timeout(LINGER, &mut verdict).await {
                Ok(Ok(Verdict::Committed(appended))) => {
                    return Pass::Done(Ok(Committed { value, appended }))
                }
                Ok(Ok(Verdict::Failed(failure))) => return Pass::Done(Err(failure)),
                // Abandoned (the committer was cut off) or rolled back: running again is safe,
                // the claim tells a committed first run.
                Ok(Ok(Verdict::RunAgain) | Err(_)) => return Pass::RunAgain,
                Err(_lingered) => {
                    let mut open = lane.open.lock().await;
                    if open.as_ref().is_some_and(|batch| batch.id == batch_id) {
                        // Our own verdict arrives through the channel, like everyone's.
                        let _ = self.commit(lane, open.take(), None).await;
                    }
                }
            }
        }
    }

    /// Writes the batch's deferred claims and rows, commits it (or aborts it, when torn or a
    /// claim was taken) and tells every member how it ended; `committer` holds the rows of the
    /// caller when it has work in the batch without being among its members.
    async fn commit(
        &self,
        lane: &Lane,
        batch: Option<Batch>,
        committer: Option<MemberRows>,
    ) -> Verdict {
        let Some(mut batch) = batch else {
            return Verdict::RunAgain;
        };
        if batch.torn {
            batch.abort(|| Verdict::RunAgain).await;
            return Verdict::RunAgain;
        }
        let appended = match batch.flush(self.bus.as_ref()).await {
            Ok(Flush::Written(appended)) => appended,
            Ok(Flush::Duplicate) => {
                lane.turn_careful();
                batch.abort(|| Verdict::RunAgain).await;
                return Verdict::RunAgain;
            }
            Err(failure) => {
                let verdict = failure.clone();
                batch.abort(move || Verdict::Failed(verdict.clone())).await;
                return Verdict::Failed(failure);
            }
        };
        let size = batch.members.len() + usize::from(committer.is_some());
        let result = batch.txn.commit().await.map_err(AttemptFailure::from);
        if size > 0 {
            self.metrics.group_commit_events.observe(size as f64);
        }
        for member in batch.members {
            let verdict = match &result {
                Ok(()) => Verdict::Committed(rows_of(&appended, member.rows)),
                Err(failure) => Verdict::Failed(failure.clone()),
            };
            let _gone = member.verdict.send(verdict);
        }
        match (result, committer) {
            (Ok(()), Some(rows)) => Verdict::Committed(rows_of(&appended, rows)),
            (Ok(()), None) => Verdict::Committed(Appended::default()),
            (Err(failure), _) => Verdict::Failed(failure),
        }
    }
}
