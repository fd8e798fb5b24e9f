//! What each process reports of its recent work in its heartbeat, and how the console adds the
//! fleet's reports up. Each beat records, per role, the events handled since the previous beat
//! and the time they took (from the `event_processing_seconds` histogram); a process keeps the
//! last few minutes of beats in its `workers` row, so any process can draw the whole fleet's
//! throughput and processing time without a metrics server.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::model::RoleName;

/// How much history a process keeps: five minutes at the default 10-second heartbeat.
pub const KEPT_SAMPLES: usize = 30;
/// The width of one bar of the console's charts.
pub const BUCKET_SECS: i64 = 10;
/// How far back the console's charts go.
pub const WINDOW_SECS: i64 = 300;

/// One role's work between two beats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleWork {
    /// Events handled (processed, duplicate or dead-lettered).
    pub handled: u64,
    /// Seconds from dispatch to acknowledgement, summed over those events.
    pub seconds: f64,
}

/// The work of every role of one process between its previous beat and `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivitySample {
    pub at: DateTime<Utc>,
    pub roles: BTreeMap<String, RoleWork>,
}

/// A process's running record: the totals at the last beat and the samples kept.
#[derive(Debug, Default)]
pub struct ActivityRecorder {
    totals: BTreeMap<String, RoleWork>,
    samples: VecDeque<ActivitySample>,
}

impl ActivityRecorder {
    /// Takes a sample of `roles` from the metrics at `at`; answers the samples kept, oldest
    /// first. The first beat records totals only.
    pub fn sample(
        &mut self,
        metrics: &Metrics,
        roles: &[RoleName],
        at: DateTime<Utc>,
    ) -> Vec<ActivitySample> {
        let first = self.totals.is_empty();
        let mut work = BTreeMap::new();
        for role in roles {
            let histogram = metrics
                .processing_seconds
                .with_label_values(&[role.as_str()]);
            let total = RoleWork {
                handled: histogram.get_sample_count(),
                seconds: histogram.get_sample_sum(),
            };
            let before = self.totals.insert(role.as_str().to_owned(), total);
            let before = before.unwrap_or_default();
            work.insert(
                role.as_str().to_owned(),
                RoleWork {
                    handled: total.handled.saturating_sub(before.handled),
                    seconds: (total.seconds - before.seconds).max(0.0),
                },
            );
        }
        if !first {
            self.samples.push_back(ActivitySample { at, roles: work });
            while self.samples.len() > KEPT_SAMPLES {
                self.samples.pop_front();
            }
        }
        self.samples.iter().cloned().collect()
    }
}

/// One role's work across the fleet, in `BUCKET_SECS` buckets over the last `WINDOW_SECS`.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetActivity {
    /// Events per second, oldest bucket first.
    pub per_second: Vec<f64>,
    /// Mean processing time in milliseconds per bucket (None where nothing was handled).
    pub mean_ms: Vec<Option<f64>>,
}

impl FleetActivity {
    /// Events per second over the last minute.
    pub fn recent_rate(&self) -> f64 {
        let last: Vec<f64> = self.per_second.iter().rev().take(6).copied().collect();
        last.iter().sum::<f64>() / last.len().max(1) as f64
    }

    /// Mean processing time over the last minute, weighted by the events of each bucket.
    pub fn recent_mean_ms(&self) -> Option<f64> {
        let (events, weighted) = self
            .per_second
            .iter()
            .zip(&self.mean_ms)
            .rev()
            .take(6)
            .filter_map(|(rate, mean)| mean.map(|mean| (rate * BUCKET_SECS as f64, mean)))
            .fold((0.0, 0.0), |(events, sum), (count, mean)| {
                (events + count, sum + count * mean)
            });
        (events > 0.0).then(|| weighted / events)
    }
}

/// Adds up every process's samples per role, as of `now`.
pub fn fleet_activity<'a>(
    samples: impl IntoIterator<Item = &'a ActivitySample>,
    now: DateTime<Utc>,
) -> BTreeMap<String, FleetActivity> {
    let buckets = (WINDOW_SECS / BUCKET_SECS) as usize;
    let width = Duration::seconds(BUCKET_SECS);
    let end = now.duration_trunc(width).unwrap_or(now) + width;
    let start = end - Duration::seconds(WINDOW_SECS);
    let mut sums: BTreeMap<String, Vec<RoleWork>> = BTreeMap::new();
    for sample in samples {
        if sample.at < start || sample.at >= end {
            continue;
        }
        let index = ((sample.at - start).num_seconds() / BUCKET_SECS) as usize;
        for (role, work) in &sample.roles {
            let row = sums
                .entry(role.clone())
                .or_insert_with(|| vec![RoleWork::default(); buckets]);
            if let Some(bucket) = row.get_mut(index) {
                bucket.handled += work.handled;
                bucket.seconds += work.seconds;
            }
        }
    }
    sums.into_iter()
        .map(|(role, row)| {
            let activity = FleetActivity {
                per_second: row
                    .iter()
                    .map(|work| work.handled as f64 / BUCKET_SECS as f64)
                    .collect(),
                mean_ms: row
                    .iter()
                    .map(|work| {
                        (work.handled > 0).then(|| work.seconds * 1000.0 / work.handled as f64)
                    })
                    .collect(),
            };
            (role, activity)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: DateTime<Utc>, role: &str, handled: u64, seconds: f64) -> ActivitySample {
        ActivitySample {
            at,
            roles: BTreeMap::from([(role.to_owned(), RoleWork { handled, seconds })]),
        }
    }

    #[test]
    fn two_processes_add_up_per_bucket_and_old_samples_fall_out() {
        let now = Utc::now();
        let samples = [
            sample(now, "triage", 50, 1.0),
            sample(now, "triage", 30, 3.0),
            sample(
                now - Duration::seconds(WINDOW_SECS + 20),
                "triage",
                999,
                1.0,
            ),
        ];
        let activity = fleet_activity(&samples, now);
        let triage = &activity["triage"];
        assert_eq!(
            triage.per_second.len(),
            (WINDOW_SECS / BUCKET_SECS) as usize
        );
        assert_eq!(triage.per_second.last().copied(), Some(8.0));
        assert_eq!(triage.mean_ms.last().copied().flatten(), Some(50.0));
        assert_eq!(
            triage.per_second.iter().sum::<f64>(),
            8.0,
            "the old sample is outside"
        );
    }

    #[test]
    fn the_recorder_reports_work_since_the_previous_beat() {
        let metrics = Metrics::new().expect("metrics");
        let mut recorder = ActivityRecorder::default();
        let roles = [RoleName::Triage];
        let now = Utc::now();
        assert!(
            recorder.sample(&metrics, &roles, now).is_empty(),
            "the first beat sets totals"
        );
        for _ in 0..3 {
            metrics
                .processing_seconds
                .with_label_values(&["triage"])
                .observe(0.02);
        }
        let samples = recorder.sample(&metrics, &roles, now + Duration::seconds(10));
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].roles["triage"].handled, 3);
        let samples = recorder.sample(&metrics, &roles, now + Duration::seconds(20));
        assert_eq!(samples[1].roles["triage"].handled, 0);
    }
}
