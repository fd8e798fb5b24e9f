//! The benchmark's load and its readings: exceptions that end resolved or escalated without a
//! person (auto-approved playbooks with a tool call, and unclassifiable ones), ingested at a
//! rate or all at once, then polled until terminal; latencies come from database timestamps.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::{BenchOptions, Stage};
use crate::app::App;
use crate::ingest;
use crate::model::RoleName;
use crate::packs::Packs;
use crate::store::statement;

const BATCH: usize = 200;

pub async fn wait_until_assigned(
    app: &App,
    roles: &[RoleName],
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let assigned = roles.iter().all(|role| {
            app.runtime
                .metrics
                .assigned_partitions
                .with_label_values(&[role.as_str()])
                .get()
                > 0
        });
        if assigned && app.runtime.health.readiness().ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "roles were not assigned partitions within {}s",
                timeout.as_secs()
            );
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A raw exception that needs no person: a small settlement fail (auto-approved into a
/// playbook whose tool call succeeds, then resolved) or an unclassifiable error (escalated),
/// alternating.
fn payload(run_id: &str, index: usize) -> serde_json::Value {
    let exception_id = format!("bench-{run_id}-{index}");
    if index.is_multiple_of(2) {
        json!({"exceptionId": exception_id, "exceptionType": "SETTLEMENT_FAIL", "amount": 500_000,
               "currency": "USD", "sourceSystem": "BENCH", "isin": "US0378331005"})
    } else {
        json!({"exceptionId": exception_id, "error": "unrecognised feed error", "sourceSystem": "BENCH"})
    }
}

pub async fn ingest(
    app: &App,
    packs: &Packs,
    run_id: &str,
    options: &BenchOptions,
) -> anyhow::Result<()> {
    let tenant = packs
        .tenant("acme-capital")
        .context("the benchmark needs the acme-capital tenant pack")?;
    let pii = packs.pii_keys(tenant);
    let started = Instant::now();
    let mut index = 0;
    while index < options.exceptions {
        // At a rate, append every 20 ms so the load is smooth rather than bursts of a batch.
        let batch = if options.rate > 0.0 {
            ((options.rate / 50.0).ceil() as usize).clamp(1, BATCH)
        } else {
            BATCH
        };
        let count = batch.min(options.exceptions - index);
        let mut envelopes = Vec::with_capacity(count);
        for offset in 0..count {
            let raw = payload(run_id, index + offset).to_string();
            envelopes.push(
                ingest::prepare(&tenant.tenant_id, pii, raw.as_bytes(), chrono::Utc::now())
                    .map_err(anyhow::Error::msg)?,
            );
        }
        ingest::append(&app.runtime.db, app.runtime.bus.as_ref(), envelopes).await?;
        index += count;
        if options.rate > 0.0 {
            let due = Duration::from_secs_f64(index as f64 / options.rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                actix_rt::time::sleep(wait).await;
            }
        }
    }
    Ok(())
}

async fn count(app: &App, sql: &str, run_id: &str) -> anyhow::Result<i64> {
    let pattern = format!("bench-{run_id}-%");
    let row = app
        .runtime
        .db
        .query_one_raw(statement(&app.runtime.db, sql, vec![pattern.into()]))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

fn done_sql(stage: Stage) -> String {
    match stage.end_event() {
        Some(event_type) => format!(
            "SELECT COUNT(*) AS n FROM events WHERE event_type = '{event_type}' AND exception_id LIKE $1"
        ),
        None => "SELECT COUNT(*) AS n FROM exceptions WHERE status IN ('resolved', 'escalated') AND exception_id LIKE $1"
            .to_owned(),
    }
}

pub async fn wait_until_terminal(
    app: &App,
    run_id: &str,
    expected: usize,
    stage: Stage,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let sql = done_sql(stage);
    let bar = crate::progress::bar(expected as u64, "done");
    loop {
        let done = count(app, &sql, run_id).await?;
        bar.set_position(u64::try_from(done).unwrap_or_default());
        if done >= i64::try_from(expected).unwrap_or(i64::MAX) {
            bar.finish_and_clear();
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "only {done} of {expected} exceptions were terminal after {}s",
                timeout.as_secs()
            );
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

pub struct Measured {
    pub latencies_ms: Vec<f64>,
    pub stage_events: u64,
}

pub async fn measure(app: &App, run_id: &str, stage: Stage) -> anyhow::Result<Measured> {
    let end_sql = if let Some(event_type) = stage.end_event() {
        format!(
            "SELECT i.created_at AS started, o.created_at AS ended FROM events i JOIN events o
             ON o.exception_id = i.exception_id AND o.event_type = '{event_type}'
             WHERE i.event_type = 'ExceptionIngested' AND i.exception_id LIKE $1"
        )
    } else {
        "SELECT i.created_at AS started, x.updated_at AS ended FROM events i JOIN exceptions x
         ON x.exception_id = i.exception_id
         WHERE i.event_type = 'ExceptionIngested' AND i.exception_id LIKE $1"
            .to_owned()
    };
    let pattern = format!("bench-{run_id}-%");
    let rows = app
        .runtime
        .db
        .query_all_raw(statement(&app.runtime.db, &end_sql, vec![pattern.into()]))
        .await?;
    let mut latencies_ms = Vec::with_capacity(rows.len());
    for row in rows {
        let started: chrono::DateTime<chrono::Utc> = row.try_get("", "started")?;
        let ended: chrono::DateTime<chrono::Utc> = row.try_get("", "ended")?;
        latencies_ms.push((ended - started).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    let stage_sql = "SELECT COUNT(*) AS n FROM events WHERE exception_id LIKE $1 AND event_type <> 'ExceptionIngested'";
    let stage_events = u64::try_from(count(app, stage_sql, run_id).await?).unwrap_or(0);
    Ok(Measured {
        latencies_ms,
        stage_events,
    })
}
