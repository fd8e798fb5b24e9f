//! Bulk actions on the pending dead letters a filter chooses: count them (a dry run), replay
//! them (each through `replay_dead_letter`, so each event is re-published exactly once, in its
//! own transaction), or discard them. Letters are taken oldest first in batches, and only those
//! that existed when the action began: a replay that fails again becomes a new letter, which
//! the same run leaves alone rather than replaying in a loop.

use chrono::{DateTime, Utc};
use futures::future::join_all;
use sea_orm::{DatabaseConnection, DbErr};

use crate::bus::Bus;
use crate::replay::replay_dead_letter;
use crate::store::dead_letter_listing::{self, DeadLetterFilter};
use crate::store::replay::ReplayError;

/// Dead letters taken per batch.
const BATCH: u64 = 100;

/// A bulk action stopped by the database, after acting on `done` letters.
#[derive(Debug, thiserror::Error)]
#[error("the database failed after {done} dead letter(s): {source}")]
pub struct BulkError {
    pub done: u64,
    #[source]
    pub source: DbErr,
}

fn failed(done: u64) -> impl FnOnce(DbErr) -> BulkError {
    move |source| BulkError { done, source }
}

/// How many pending dead letters match `filter`: what a replay or discard would act on now.
pub async fn count(db: &DatabaseConnection, filter: &DeadLetterFilter) -> Result<u64, DbErr> {
    let up_to = dead_letter_listing::newest_id(db).await?;
    dead_letter_listing::count_pending(db, filter, up_to).await
}

/// Walks the pending letters matching `filter` that exist when it starts, oldest first, a batch
/// of ids at a time; `act` handles one batch (given how many were done before it) and answers
/// how many it acted on.
async fn each_batch(
    db: &DatabaseConnection,
    filter: &DeadLetterFilter,
    mut act: impl AsyncFnMut(Vec<i64>, u64) -> Result<u64, BulkError>,
) -> Result<u64, BulkError> {
    let up_to = dead_letter_listing::newest_id(db)
        .await
        .map_err(failed(0))?;
    let (mut after, mut done) = (0, 0);
    loop {
        let ids = dead_letter_listing::pending_ids(db, filter, after, up_to, BATCH)
            .await
            .map_err(failed(done))?;
        let Some(&last) = ids.last() else {
            return Ok(done);
        };
        done += act(ids, done).await?;
        after = last;
    }
}

/// Replays every pending dead letter matching `filter`; answers how many were replayed (a
/// letter another operator replayed or discarded meanwhile is skipped). Each batch's events
/// are on the bus before the next batch starts.
pub async fn replay(
    db: &DatabaseConnection,
    bus: &dyn Bus,
    filter: &DeadLetterFilter,
    now: DateTime<Utc>,
) -> Result<u64, BulkError> {
    each_batch(db, filter, async |ids, before| {
        let mut done = 0;
        let mut deliveries = Vec::with_capacity(ids.len());
        for id in ids {
            match replay_dead_letter(db, bus, id, now).await {
                Ok(delivery) => {
                    done += 1;
                    deliveries.push(delivery.wait());
                }
                Err(ReplayError::NotFound(_) | ReplayError::NotPending { .. }) => {}
                Err(ReplayError::Database(source)) => {
                    return Err(BulkError {
                        done: before + done,
                        source,
                    })
                }
            }
        }
        join_all(deliveries).await;
        Ok(done)
    })
    .await
}

/// Discards every pending dead letter matching `filter`; answers how many were discarded.
pub async fn discard(
    db: &DatabaseConnection,
    filter: &DeadLetterFilter,
    now: DateTime<Utc>,
) -> Result<u64, BulkError> {
    each_batch(db, filter, async |ids, before| {
        dead_letter_listing::discard(db, &ids, now)
            .await
            .map_err(failed(before))
    })
    .await
}
