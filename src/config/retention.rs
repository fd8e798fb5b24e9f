//! How long finished work is kept: the retention settings. Processed-event claims must outlive
//! any redelivery (the broker's retention, 7 days by default on Kafka), so the settings table
//! gives their window a floor of one day; the others may be 0 (removed at the next pass).

use std::time::Duration;

use super::checked::Checked;
use super::table::{
    RETENTION_BATCH_SIZE, RETENTION_CLOSED_DEAD_LETTERS_DAYS, RETENTION_FINISHED_EXCEPTIONS_DAYS,
    RETENTION_INTERVAL_SECS, RETENTION_PROCESSED_CLAIMS_DAYS, RETENTION_PUBLISHED_EVENTS_DAYS,
};

const DAY: u64 = 86_400;

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Claims in `processed_events`: a redelivery within this window is still a duplicate.
    pub processed_claims: Duration,
    /// Published events (Kafka outbox rows) and embedded log events every group has read.
    pub published_events: Duration,
    /// Dead letters once replayed or discarded.
    pub closed_dead_letters: Duration,
    /// Resolved or escalated exceptions, with their steps, tool executions and feedback.
    pub finished_exceptions: Duration,
    /// Time between maintenance passes.
    pub interval: Duration,
    /// Rows removed per statement (one short transaction each).
    pub batch_size: u64,
}

impl RetentionSettings {
    pub(super) fn read(c: &mut Checked) -> Self {
        let mut days = |setting| Duration::from_secs(c.whole::<u64>(setting) * DAY);
        Self {
            processed_claims: days(&RETENTION_PROCESSED_CLAIMS_DAYS),
            published_events: days(&RETENTION_PUBLISHED_EVENTS_DAYS),
            closed_dead_letters: days(&RETENTION_CLOSED_DEAD_LETTERS_DAYS),
            finished_exceptions: days(&RETENTION_FINISHED_EXCEPTIONS_DAYS),
            interval: Duration::from_secs(c.whole(&RETENTION_INTERVAL_SECS)),
            batch_size: c.whole(&RETENTION_BATCH_SIZE),
        }
    }
}
