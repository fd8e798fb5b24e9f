//! Group commit: the attempts of several handlers share one database transaction, so a burst of
//! events pays for one commit (and, on SQLite, one WAL append of the hot pages) instead of one
//! each. Idempotency stays per event: an attempt's claim and effects are reported done only
//! after the transaction holding them committed, and a failed commit fails every member, which
//! each retries on its own.
//!
//! Members run straight in the shared transaction while attempts succeed. The first failure
//! rolls the batch back, its other members run again at once (uncounted), and the lane turns
//! careful for a while: each member then runs in a savepoint of its own, so a poison flood
//! costs one savepoint per event instead of a batch per failure.
//!
//! Batching costs no latency when idle: the attempt that finds nobody queued behind it commits
//! at once. Under load the batch grows while attempts queue, up to `max_events`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::sync::{oneshot, Mutex};

use super::failure::AttemptFailure;
use crate::metrics::Metrics;
use crate::routing::slot_for;

/// How long a member waits for someone else to commit its batch before committing it itself
/// (only reached when the attempt queued behind it was cancelled).
const LINGER: Duration = Duration::from_millis(20);

/// How long a lane keeps savepoints after a member failed.
const CAREFUL_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// What the work of an attempt did to the transaction.
pub enum Effects<T> {
    /// Wrote what must be committed; the value is returned once it is.
    Written(T),
    /// Wrote nothing (e.g. a duplicate). The value is still returned only after the batch
    /// committed, since the decision may rest on writes of other members of the batch.
    Unchanged(T),
}

/// How a batch ended for one member.
#[derive(Debug)]
enum Verdict {
    Committed,
    /// The batch was rolled back through no fault of this member: run again.
    RunAgain,
    Failed(AttemptFailure),
}

enum Pass<T> {
    Done(Result<T, AttemptFailure>),
    RunAgain,
}

/// Where the attempts of one database meet; share it behind an `Arc`.
pub struct GroupCommit {
    db: DatabaseConnection,
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

struct Batch {
    id: u64,
    txn: DatabaseTransaction,
    members: Vec<oneshot::Sender<Verdict>>,
    /// A member's work was cut off (its future dropped) straight in the transaction: what it
    /// wrote is unknown, so nothing in the batch may commit.
    torn: bool,
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
    /// writer); `max_events` caps a batch (1 gives every event its own transaction).
    pub fn new(db: DatabaseConnection, lanes: usize, max_events: usize, metrics: Metrics) -> Self {
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
            lanes,
            max_events: max_events.max(1),
            metrics,
        }
    }

    /// Runs `work` in the shared transaction of the lane `lane_key` picks and returns once that
    /// transaction committed. An error from `work` undoes only its own writes and returns at
    /// once. `work` may run more than once: when another member's failure rolled the batch
    /// back, it runs again in the next one.
    pub async fn run<T, F>(&self, lane_key: &str, mut work: F) -> Result<T, AttemptFailure>
    where
        F: AsyncFnMut(&DatabaseTransaction) -> Result<Effects<T>, AttemptFailure>,
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
        F: AsyncFnMut(&DatabaseTransaction) -> Result<Effects<T>, AttemptFailure>,
    {
        lane.queued.fetch_add(1, Ordering::SeqCst);
        let mut open = lane.open.lock().await;
        lane.queued.fetch_sub(1, Ordering::SeqCst);
        if open.as_ref().is_some_and(|batch| batch.torn) {
            abort(open.take(), || Verdict::RunAgain).await;
        }
        let batch = match open.as_mut() {
            Some(batch) => batch,
            None => match self.db.begin().await {
                Ok(txn) => open.insert(Batch {
                    id: lane.next_batch.fetch_add(1, Ordering::Relaxed),
                    txn,
                    members: Vec::new(),
                    torn: false,
                }),
                Err(error) => return Pass::Done(Err(error.into())),
            },
        };
        let batch_id = batch.id;
        let value = if lane.careful() {
            match in_savepoint(batch, work).await {
                Ok(Ok(value)) => value,
                Ok(Err(failure)) => {
                    // Nothing of this member stays in the batch, but the batch must not stay
                    // open with nobody to commit it: on SQLite it holds the only writer
                    // connection, which the dead-letter path is about to need.
                    let nobody_else = open.as_ref().is_some_and(|batch| batch.members.is_empty())
                        || lane.queued.load(Ordering::SeqCst) == 0;
                    if nobody_else {
                        let _settled = self.commit(open.take(), 0).await;
                    }
                    return Pass::Done(Err(failure));
                }
                Err(broken) => {
                    // A savepoint that cannot be released or rolled back leaves the transaction
                    // in an unknown state: nobody in it can be committed.
                    let verdict = broken.clone();
                    abort(open.take(), move || Verdict::Failed(verdict.clone())).await;
                    return Pass::Done(Err(broken));
                }
            }
        } else {
            batch.torn = true;
            let result = work(&batch.txn).await;
            batch.torn = false;
            match result {
                Ok(Effects::Written(value) | Effects::Unchanged(value)) => value,
                Err(failure) => {
                    lane.turn_careful();
                    abort(open.take(), || Verdict::RunAgain).await;
                    return Pass::Done(Err(failure));
                }
            }
        };
        let Some(batch) = open.as_mut() else {
            return Pass::RunAgain;
        };
        if batch.members.len() + 1 >= self.max_events || lane.queued.load(Ordering::SeqCst) == 0 {
            return match self.commit(open.take(), 1).await {
                Verdict::Committed => Pass::Done(Ok(value)),
                Verdict::RunAgain => Pass::RunAgain,
                Verdict::Failed(failure) => Pass::Done(Err(failure)),
            };
        }
        let (done, mut verdict) = oneshot::channel();
        batch.members.push(done);
        drop(open);
        loop {
            match tokio::time::timeout(LINGER, &mut verdict).await {
                Ok(Ok(Verdict::Committed)) => return Pass::Done(Ok(value)),
                Ok(Ok(Verdict::Failed(failure))) => return Pass::Done(Err(failure)),
                // Abandoned (the committer was cut off) or rolled back: running again is safe,
                // the claim tells a committed first run.
                Ok(Ok(Verdict::RunAgain) | Err(_)) => return Pass::RunAgain,
                Err(_lingered) => {
                    let mut open = lane.open.lock().await;
                    if open.as_ref().is_some_and(|batch| batch.id == batch_id) {
                        // Our own verdict arrives through the channel, like everyone's.
                        let _ = self.commit(open.take(), 0).await;
                    }
                }
            }
        }
    }

    /// Commits the batch (or aborts it, when torn) and tells every member how it ended;
    /// `committer` is 1 when the caller has work in the batch without being among its members.
    async fn commit(&self, batch: Option<Batch>, committer: usize) -> Verdict {
        let Some(batch) = batch else {
            return Verdict::RunAgain;
        };
        if batch.torn {
            abort(Some(batch), || Verdict::RunAgain).await;
            return Verdict::RunAgain;
        }
        let size = batch.members.len() + committer;
        let result = batch.txn.commit().await.map_err(AttemptFailure::from);
        if size > 0 {
            self.metrics.group_commit_events.observe(size as f64);
        }
        for member in batch.members {
            let verdict = match &result {
                Ok(()) => Verdict::Committed,
                Err(failure) => Verdict::Failed(failure.clone()),
            };
            let _gone = member.send(verdict);
        }
        match result {
            Ok(()) => Verdict::Committed,
            Err(failure) => Verdict::Failed(failure),
        }
    }
}

/// Runs `work` in a savepoint of the batch. The outer error is a savepoint that could not be
/// released or rolled back; the inner one is the work's own failure (its writes undone).
async fn in_savepoint<T, F>(
    batch: &mut Batch,
    work: &mut F,
) -> Result<Result<T, AttemptFailure>, AttemptFailure>
where
    F: AsyncFnMut(&DatabaseTransaction) -> Result<Effects<T>, AttemptFailure>,
{
    // Until the savepoint is settled, a cut-off member must not let the batch commit.
    batch.torn = true;
    let savepoint = batch.txn.begin().await?;
    let result = match work(&savepoint).await {
        Ok(Effects::Written(value)) => {
            savepoint.commit().await?;
            Ok(Ok(value))
        }
        Ok(Effects::Unchanged(value)) => {
            savepoint.rollback().await?;
            Ok(Ok(value))
        }
        Err(failure) => {
            savepoint.rollback().await?;
            Ok(Err(failure))
        }
    };
    batch.torn = false;
    result
}

/// Rolls the batch back and gives every member the verdict `verdict` makes.
async fn abort(batch: Option<Batch>, verdict: impl Fn() -> Verdict) {
    let Some(batch) = batch else {
        return;
    };
    if let Err(error) = batch.txn.rollback().await {
        tracing::warn!(%error, "Rolling back a group commit batch failed.");
    }
    for member in batch.members {
        let _gone = member.send(verdict());
    }
}
