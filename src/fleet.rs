//! The fleet's shapes, in one place: what a process's heartbeat records about itself
//! (`WorkerState`, kept as JSON in `workers.state`) and what GET /v1/workers answers
//! (`WorkerList` of `WorkerView`). Plain serde structs, so every reader of the `workers` table
//! shares them, and how a row reads as a view: its age and whether it is stale.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::workers;

pub use crate::activity::ActivitySample;
use serde::{Deserialize, Serialize};

/// A row is stale once this many of its heartbeat intervals pass without a beat.
pub const STALE_AFTER_BEATS: u32 = 3;

/// One partition held by one of the process's roles, as its partition worker reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartitionState {
    pub role: String,
    pub topic: String,
    pub partition: i32,
    /// The last committed position (the next offset to read); None until the worker has read
    /// it from the bus.
    pub committed_offset: Option<i64>,
    /// Records between the committed position and the end of the partition; None until first
    /// measured (at the first commit interval).
    pub lag: Option<i64>,
    /// Records of this partition dispatched to handlers and not yet acknowledged; None when the
    /// worker did not answer in time.
    pub in_flight: Option<u64>,
}

/// What a heartbeat records of the process's roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerState {
    /// Every partition the consumer roles hold, by role, topic and partition.
    pub partitions: Vec<PartitionState>,
    /// Events dispatched to handlers and not yet acknowledged, per consumer role.
    pub in_flight: BTreeMap<String, i64>,
    /// Roles that hit their restart limit or dead-letter cap and stopped.
    pub failed_roles: Vec<String>,
    /// Per beat of the last few minutes, the events each role handled and the time they took.
    #[serde(default)]
    pub activity: Vec<ActivitySample>,
}

/// One process of the fleet, as GET /v1/workers shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerView {
    pub instance_id: String,
    pub host: String,
    pub version: String,
    pub git_commit: String,
    pub roles: Vec<String>,
    pub concurrency: i32,
    /// `embedded` or `kafka`.
    pub backend: String,
    /// The process's WORKER_HEARTBEAT_SECS.
    pub heartbeat_secs: i32,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    /// Seconds since the last heartbeat, by the clock of the process answering.
    pub heartbeat_age_secs: f64,
    /// True once `STALE_AFTER_BEATS` heartbeat intervals passed without a beat: the process is
    /// most likely gone without its graceful shutdown.
    pub stale: bool,
    pub partitions: Vec<PartitionState>,
    pub in_flight: BTreeMap<String, i64>,
    pub failed_roles: Vec<String>,
    /// Per beat of the last few minutes, the events each role handled and the time they took.
    pub activity: Vec<ActivitySample>,
}

/// The answer of GET /v1/workers: every registered process, by instance id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerList {
    pub workers: Vec<WorkerView>,
}

/// Every registered process, by instance id, as seen now.
pub async fn processes(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<WorkerView>, sea_orm::DbErr> {
    let now = Utc::now();
    Ok(crate::store::workers::list(db)
        .await?
        .into_iter()
        .map(|row| WorkerView::from_row(row, now))
        .collect())
}

impl WorkerView {
    /// The view of a `workers` row at `now`. A JSON column that does not parse (a row written
    /// by another version) reads as empty, with a warning, rather than hiding the process.
    pub fn from_row(row: workers::Model, now: DateTime<Utc>) -> Self {
        let roles = parse_or_default::<Vec<String>>(&row.instance_id, "roles", &row.roles);
        let state = parse_or_default::<WorkerState>(&row.instance_id, "state", &row.state);
        let age = (now - row.heartbeat_at).num_milliseconds().max(0);
        let stale_after = i64::from(row.heartbeat_secs.max(1)) * i64::from(STALE_AFTER_BEATS);
        WorkerView {
            heartbeat_age_secs: age as f64 / 1000.0,
            stale: age > stale_after * 1000,
            instance_id: row.instance_id,
            host: row.host,
            version: row.version,
            git_commit: row.git_commit,
            roles,
            concurrency: row.concurrency,
            backend: row.backend,
            heartbeat_secs: row.heartbeat_secs,
            started_at: row.started_at,
            heartbeat_at: row.heartbeat_at,
            partitions: state.partitions,
            in_flight: state.in_flight,
            failed_roles: state.failed_roles,
            activity: state.activity,
        }
    }
}

fn parse_or_default<T: serde::de::DeserializeOwned + Default>(
    instance_id: &str,
    column: &str,
    json: &str,
) -> T {
    serde_json::from_str(json).unwrap_or_else(|error| {
        tracing::warn!(instance_id, column, %error, "A workers row does not parse; shown empty.");
        T::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(heartbeat_at: DateTime<Utc>, state: &str) -> workers::Model {
        workers::Model {
            instance_id: "host-1-7-abcdef01".into(),
            host: "host-1".into(),
            version: "0.1.0".into(),
            git_commit: "unknown".into(),
            roles: r#"["intake"]"#.into(),
            concurrency: 2,
            backend: "embedded".into(),
            heartbeat_secs: 10,
            started_at: heartbeat_at,
            heartbeat_at,
            state: state.into(),
        }
    }

    #[test]
    fn a_row_turns_stale_after_three_intervals_without_a_beat() {
        let beat = Utc::now();
        let fresh = WorkerView::from_row(row(beat, "{}"), beat + chrono::Duration::seconds(30));
        let silent = WorkerView::from_row(row(beat, "{}"), beat + chrono::Duration::seconds(31));
        assert!(!fresh.stale, "30 s is three intervals, not more");
        assert!(silent.stale);
        assert_eq!(silent.heartbeat_age_secs, 31.0);
    }

    #[test]
    fn the_state_reads_back_and_a_broken_one_reads_empty() {
        let beat = Utc::now();
        let state = WorkerState {
            partitions: vec![PartitionState {
                role: "intake".into(),
                topic: "exceptions.ingested".into(),
                partition: 3,
                committed_offset: Some(12),
                lag: Some(4),
                in_flight: Some(1),
            }],
            in_flight: BTreeMap::from([("intake".to_owned(), 1)]),
            failed_roles: vec!["intake".into()],
            activity: vec![ActivitySample {
                at: beat,
                roles: BTreeMap::from([(
                    "intake".to_owned(),
                    crate::activity::RoleWork {
                        handled: 5,
                        seconds: 0.25,
                    },
                )]),
            }],
        };
        let json = serde_json::to_string(&state).expect("state serialises");
        let view = WorkerView::from_row(row(beat, &json), beat);
        assert_eq!(view.partitions, state.partitions);
        assert_eq!(view.in_flight, state.in_flight);
        assert_eq!(view.failed_roles, state.failed_roles);
        assert_eq!(view.activity, state.activity);
        assert_eq!(view.roles, vec!["intake".to_owned()]);
        let broken = WorkerView::from_row(row(beat, "not json"), beat);
        assert!(broken.partitions.is_empty());
        assert_eq!(broken.instance_id, "host-1-7-abcdef01");
    }
}
