//! `exception-worker bench`: ingests N exceptions across tenants through every role (or, with
//! `--baseline`, through a trivial relay), waits until each is terminal, and prints one JSON
//! line with throughput, latency quantiles, peak RSS and CPU time. It runs on the embedded
//! default (a fresh SQLite file) or on the Kafka and database the environment names.

pub mod baseline;
mod load;
pub mod measure;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::app::{App, AppOptions};
use crate::config::Settings;
use crate::model::RoleName;
use crate::packs::Packs;

/// How far each exception is carried before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Through intake only (ExceptionNormalized).
    Intake,
    /// Through intake, triage and policy (PolicyEvaluationCompleted).
    Policy,
    /// Through every role, until resolved or escalated.
    Terminal,
    /// The trivial relay (--baseline).
    Baseline,
}

impl Stage {
    pub fn roles(self) -> Vec<RoleName> {
        match self {
            Stage::Intake | Stage::Baseline => vec![RoleName::Intake],
            Stage::Policy => vec![RoleName::Intake, RoleName::Triage, RoleName::Policy],
            Stage::Terminal => RoleName::ALL
                .into_iter()
                .filter(|role| *role != RoleName::SlaMonitor)
                .collect(),
        }
    }

    /// The event that marks an exception done at this stage; None for the terminal status.
    pub fn end_event(self) -> Option<&'static str> {
        match self {
            Stage::Intake => Some(crate::model::event_types::EXCEPTION_NORMALIZED),
            Stage::Policy => Some(crate::model::event_types::POLICY_EVALUATION_COMPLETED),
            Stage::Baseline => Some(baseline::BASELINE_EVENT),
            Stage::Terminal => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Policy => "policy",
            Stage::Terminal => "terminal",
            Stage::Baseline => "baseline",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub exceptions: usize,
    /// Exceptions per second to ingest; 0 ingests everything at once.
    pub rate: f64,
    pub stage: Stage,
    /// Ingest and measure only: the roles run in other processes (horizontal scaling runs).
    pub external_workers: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub mode: &'static str,
    /// Worker processes measured; 1 when the roles ran in the bench process.
    pub external_workers: bool,
    pub bus: &'static str,
    pub database: &'static str,
    pub concurrency: usize,
    pub exceptions: usize,
    pub seconds: f64,
    pub exceptions_per_second: f64,
    pub stage_events: u64,
    pub stage_events_per_second: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
    pub latency_ms_p99: f64,
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
    /// Mean events per database transaction of the handlers (group commit).
    pub events_per_commit: f64,
}

pub async fn run(
    mut settings: Settings,
    packs: Arc<Packs>,
    options: BenchOptions,
) -> anyhow::Result<BenchReport> {
    settings.roles = if options.external_workers {
        Vec::new()
    } else {
        options.stage.roles()
    };
    settings.run_migrations = true;
    let mut app_options = AppOptions {
        listener: Some(TcpListener::bind("127.0.0.1:0").context("Failed to bind a port")?),
        ..AppOptions::default()
    };
    if options.stage == Stage::Baseline {
        app_options.roles = vec![Arc::new(baseline::BaselineRelay)];
    }
    let bus = if settings.kafka.is_some() {
        "kafka"
    } else {
        "embedded"
    };
    let database = if settings.uses_sqlite() {
        "sqlite"
    } else {
        "postgres"
    };
    let concurrency = settings.concurrency;
    let roles = settings.roles.clone();
    let app = App::build(settings, packs.clone(), app_options).await?;
    if !options.external_workers {
        load::wait_until_assigned(&app, &roles, options.timeout).await?;
    }
    let cpu_before = measure::cpu_seconds().unwrap_or(0.0);
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let started = Instant::now();
    load::ingest(&app, &packs, &run_id, &options).await?;
    let outcome = load::wait_until_terminal(
        &app,
        &run_id,
        options.exceptions,
        options.stage,
        options.timeout,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = measure::cpu_seconds().unwrap_or(0.0) - cpu_before;
    let commits = &app.runtime.metrics.group_commit_events;
    let events_per_commit = commits.get_sample_sum() / (commits.get_sample_count().max(1) as f64);
    let measured = match outcome {
        Ok(()) => load::measure(&app, &run_id, options.stage).await,
        Err(error) => Err(error),
    };
    app.shutdown().await;
    let measured = measured?;
    let mut latencies = measured.latencies_ms;
    latencies.sort_by(f64::total_cmp);
    Ok(BenchReport {
        mode: options.stage.as_str(),
        external_workers: options.external_workers,
        bus,
        database,
        concurrency,
        exceptions: options.exceptions,
        seconds: round(seconds, 3),
        exceptions_per_second: round(options.exceptions as f64 / seconds, 1),
        stage_events: measured.stage_events,
        stage_events_per_second: round(measured.stage_events as f64 / seconds, 1),
        latency_ms_p50: round(measure::quantile(&latencies, 0.50), 1),
        latency_ms_p95: round(measure::quantile(&latencies, 0.95), 1),
        latency_ms_p99: round(measure::quantile(&latencies, 0.99), 1),
        peak_rss_mib: round(
            measure::peak_rss_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0),
            1,
        ),
        cpu_seconds: round(cpu_seconds, 2),
        events_per_commit: round(events_per_commit, 1),
    })
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}
