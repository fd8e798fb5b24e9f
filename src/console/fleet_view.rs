//! The fleet as the console shows it: the registry's rows read as views, and per role the
//! fleet's throughput, processing time, backlog and in-flight events, added up over the
//! processes that still beat.

use std::collections::BTreeMap;

use chrono::Utc;
use maud::{html, Markup};
use sea_orm::DbErr;

use crate::activity::{fleet_activity, FleetActivity};
use crate::fleet::WorkerView;
use crate::http::HttpState;

/// Every registered process, by instance id.
pub async fn processes(state: &HttpState) -> Result<Vec<WorkerView>, DbErr> {
    crate::fleet::processes(&state.runtime.db).await
}

/// One role across the fleet.
#[derive(Debug, Clone, Default)]
pub struct RoleSummary {
    pub processes: usize,
    /// Records behind on the role's partitions (None when no partition has reported yet).
    pub backlog: Option<i64>,
    pub in_flight: i64,
    pub activity: Option<FleetActivity>,
}

/// Per role, over the processes that still beat.
pub fn by_role(processes: &[WorkerView]) -> BTreeMap<String, RoleSummary> {
    let live: Vec<&WorkerView> = processes.iter().filter(|process| !process.stale).collect();
    let mut roles: BTreeMap<String, RoleSummary> = BTreeMap::new();
    for process in &live {
        for role in &process.roles {
            roles.entry(role.clone()).or_default().processes += 1;
        }
        for partition in &process.partitions {
            if let Some(lag) = partition.lag {
                let summary = roles.entry(partition.role.clone()).or_default();
                summary.backlog = Some(summary.backlog.unwrap_or(0) + lag);
            }
        }
        for (role, in_flight) in &process.in_flight {
            roles.entry(role.clone()).or_default().in_flight += in_flight;
        }
    }
    let samples = live.iter().flat_map(|process| process.activity.iter());
    for (role, activity) in fleet_activity(samples, Utc::now()) {
        roles.entry(role).or_default().activity = Some(activity);
    }
    roles
}

/// A small line chart of `values` (an SVG, no script, no inline style).
pub fn sparkline(values: &[f64], label: &str) -> Markup {
    const WIDTH: f64 = 180.0;
    const HEIGHT: f64 = 28.0;
    let top = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let step = WIDTH / (values.len().max(2) - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let x = index as f64 * step;
            let y = HEIGHT - 2.0 - (value / top) * (HEIGHT - 4.0);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg.spark width="180" height="28" viewBox="0 0 180 28" role="img" aria-label=(label) {
            line x1="0" y1="27" x2="180" y2="27" {}
            polyline points=(points.join(" ")) {}
        }
    }
}
