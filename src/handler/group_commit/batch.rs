//! One open transaction of a lane and what its members left for the commit: their idempotency
//! claims and the rows they emit, written with one multi-row statement each when the batch
//! commits, then the verdict each member waits for.

use std::ops::Range;

use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::oneshot;

use crate::bus::{Appended, Bus, LogRow};
use crate::handler::failure::AttemptFailure;
use crate::store::processed::{self, ClaimKey};

/// How a batch ended for one member.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Committed; the rows this member emitted, as appended.
    Committed(Appended),
    /// The batch was rolled back through no fault of this member: run again.
    RunAgain,
    Failed(AttemptFailure),
}

/// Where a member's emitted rows are.
#[derive(Debug)]
pub(super) enum MemberRows {
    /// In the batch's pending rows, to be appended at commit.
    Deferred(Range<usize>),
    /// Appended already, in the member's own savepoint.
    Appended(Appended),
}

/// A member waiting for the batch's verdict.
pub(super) struct Waiting {
    pub verdict: oneshot::Sender<Verdict>,
    pub rows: MemberRows,
}

pub(super) struct Batch {
    pub id: u64,
    pub txn: DatabaseTransaction,
    pub members: Vec<Waiting>,
    /// A member's work was cut off (its future dropped) straight in the transaction: what it
    /// wrote is unknown, so nothing in the batch may commit.
    pub torn: bool,
    /// Claims of the members that ran without claiming first, inserted at commit.
    pub claims: Vec<ClaimKey>,
    /// Rows the members emitted, appended at commit in the members' order.
    pub pending: Vec<LogRow>,
}

/// What writing a batch's deferred claims and rows found.
pub(super) enum Flush {
    Written(Appended),
    /// A deferred claim was taken already: one member's event was a duplicate, and its work
    /// must not commit.
    Duplicate,
}

impl Batch {
    pub fn new(id: u64, txn: DatabaseTransaction) -> Self {
        Self {
            id,
            txn,
            members: Vec::new(),
            torn: false,
            claims: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Keeps a member's claim and rows for the commit; returns where its rows are.
    pub fn defer(&mut self, claim: Option<ClaimKey>, rows: Vec<LogRow>) -> MemberRows {
        self.claims.extend(claim);
        let start = self.pending.len();
        self.pending.extend(rows);
        MemberRows::Deferred(start..self.pending.len())
    }

    /// Inserts the deferred claims (one statement) and appends the pending rows (one statement
    /// per log partition plus one), in the batch's transaction.
    pub async fn flush(&mut self, bus: &dyn Bus) -> Result<Flush, AttemptFailure> {
        if !self.claims.is_empty() {
            let claimed = processed::claim_many(&self.txn, &self.claims).await?;
            if claimed < self.claims.len() {
                return Ok(Flush::Duplicate);
            }
        }
        let rows = std::mem::take(&mut self.pending);
        Ok(Flush::Written(bus.append(&self.txn, rows).await?))
    }

    /// Rolls the batch back and gives every member the verdict `verdict` makes.
    pub async fn abort(self, verdict: impl Fn() -> Verdict) {
        if let Err(error) = self.txn.rollback().await {
            tracing::warn!(%error, "Rolling back a group commit batch failed.");
        }
        for member in self.members {
            let _gone = member.verdict.send(verdict());
        }
    }
}

/// The rows `rows` names out of what the batch appended.
pub(super) fn rows_of(appended: &Appended, rows: MemberRows) -> Appended {
    match rows {
        MemberRows::Appended(own) => own,
        MemberRows::Deferred(range) => Appended {
            rows: appended
                .rows
                .get(range)
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
        },
    }
}

/// Runs `work` in a savepoint of the batch, claiming in the work and appending its rows in the
/// savepoint. The outer error is a savepoint that could not be released or rolled back; the
/// inner one is the work's own failure (its writes undone).
pub(super) async fn in_savepoint<T, F>(
    batch: &mut Batch,
    bus: &dyn Bus,
    work: &mut F,
) -> Result<Result<(T, MemberRows), AttemptFailure>, AttemptFailure>
where
    F: AsyncFnMut(
        &DatabaseTransaction,
        super::Claiming,
    ) -> Result<super::Effects<T>, AttemptFailure>,
{
    // Until the savepoint is settled, a cut-off member must not let the batch commit.
    batch.torn = true;
    let savepoint = batch.txn.begin().await?;
    let result = match work(&savepoint, super::Claiming::InWork).await {
        Ok(super::Effects::Written { value, claim, rows }) => {
            let appended = async {
                if let Some(claim) = claim {
                    processed::claim_many(&savepoint, std::slice::from_ref(&claim)).await?;
                }
                bus.append(&savepoint, rows).await
            }
            .await;
            match appended {
                Ok(appended) => {
                    savepoint.commit().await?;
                    Ok(Ok((value, MemberRows::Appended(appended))))
                }
                Err(error) => {
                    savepoint.rollback().await?;
                    Ok(Err(error.into()))
                }
            }
        }
        Ok(super::Effects::Unchanged(value)) => {
            savepoint.rollback().await?;
            Ok(Ok((value, MemberRows::Appended(Appended::default()))))
        }
        Err(failure) => {
            savepoint.rollback().await?;
            Ok(Err(failure))
        }
    };
    batch.torn = false;
    result
}
