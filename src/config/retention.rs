//! How long finished work is kept: the retention settings and their bounds. Processed-event
//! claims must outlive any redelivery (the broker's retention, 7 days by default on Kafka), so
//! their window has a floor of one day; the others may be 0 (removed at the next pass).

use std::time::Duration;

use super::env::EnvVars;
use super::parse::parse_in_range;

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

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            processed_claims: Duration::from_secs(14 * DAY),
            published_events: Duration::from_secs(7 * DAY),
            closed_dead_letters: Duration::from_secs(30 * DAY),
            finished_exceptions: Duration::from_secs(90 * DAY),
            interval: Duration::from_secs(3600),
            batch_size: 1000,
        }
    }
}

fn days(problems: &mut Vec<String>, name: &str, raw: &str, floor: u64) -> Duration {
    Duration::from_secs(parse_in_range(problems, name, raw, floor, 36_500) * DAY)
}

pub fn parse(env: &EnvVars, problems: &mut Vec<String>) -> RetentionSettings {
    RetentionSettings {
        processed_claims: days(
            problems,
            "RETENTION_PROCESSED_CLAIMS_DAYS",
            &env.retention_processed_claims_days,
            1,
        ),
        published_events: days(
            problems,
            "RETENTION_PUBLISHED_EVENTS_DAYS",
            &env.retention_published_events_days,
            0,
        ),
        closed_dead_letters: days(
            problems,
            "RETENTION_CLOSED_DEAD_LETTERS_DAYS",
            &env.retention_closed_dead_letters_days,
            0,
        ),
        finished_exceptions: days(
            problems,
            "RETENTION_FINISHED_EXCEPTIONS_DAYS",
            &env.retention_finished_exceptions_days,
            0,
        ),
        interval: Duration::from_secs(parse_in_range(
            problems,
            "RETENTION_INTERVAL_SECS",
            &env.retention_interval_secs,
            1,
            DAY,
        )),
        batch_size: parse_in_range(
            problems,
            "RETENTION_BATCH_SIZE",
            &env.retention_batch_size,
            1,
            100_000,
        ),
    }
}
