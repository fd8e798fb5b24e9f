//! `exception-worker ingest FILE --tenant T`: two passes over the file, so memory stays bounded
//! however long it is. The first checks every line (nothing is appended when one is bad); the
//! second appends in batches, one transaction each. Standard input cannot be read twice, so it
//! is spooled to a temporary file first.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::app::{instance_id, open_bus, open_database};
use crate::command_error::CommandError;
use crate::config::Settings;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::packs::Packs;
use crate::{ingest, progress};

/// Lines appended per transaction.
const BATCH: usize = 500;
/// Bad lines reported, at most (the count is always given).
const REPORTED_PROBLEMS: usize = 100;

pub async fn ingest_file(
    settings: Settings,
    packs: Packs,
    file: PathBuf,
    tenant: String,
) -> Result<(), CommandError> {
    let Some(tenant_pack) = packs.tenant(&tenant) else {
        let known: Vec<&str> = packs.tenant_ids().collect();
        return Err(CommandError::BadInput(format!(
            "unknown tenant '{tenant}' (known: {})",
            known.join(", ")
        )));
    };
    let pii_keys = packs.pii_keys(tenant_pack);
    let (mut source, name) = open_source(&file)?;
    let now = chrono::Utc::now();

    // Pass 1: every line is checked; nothing is kept.
    let mut problems = Vec::new();
    let mut bad_lines = 0usize;
    let mut total = 0u64;
    for_each_line(&mut source, &name, |number, line| {
        total += 1;
        if let Err(reason) = ingest::prepare(&tenant, pii_keys, line.as_bytes(), now) {
            bad_lines += 1;
            if problems.len() < REPORTED_PROBLEMS {
                problems.push(format!("{name}:{number}: {reason}"));
            }
        }
        Ok(())
    })?;
    if bad_lines > 0 {
        let more = bad_lines - problems.len();
        let tail = if more > 0 {
            format!("\n... and {more} more")
        } else {
            String::new()
        };
        return Err(CommandError::BadInput(format!(
            "nothing was ingested; {bad_lines} line(s) are invalid:\n{}{tail}",
            problems.join("\n")
        )));
    }

    // Pass 2: append in batches.
    source
        .rewind()
        .with_context(|| format!("Failed to reread {name}"))?;
    let db = open_database(&settings).await?;
    let metrics = Metrics::new().context("Failed to register metrics")?;
    let health = Health::new(Duration::from_secs(60), Duration::from_secs(60));
    let bus = open_bus(&settings, &db, &metrics, &health, &instance_id()).await?;
    let bar = progress::bar(total, "ingesting");
    let mut deliveries = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = BufReader::new(&mut source).lines();
    let stdout = std::io::stdout();
    loop {
        let line = lines
            .next()
            .transpose()
            .with_context(|| format!("Failed to read {name}"))?;
        let finished = line.is_none();
        if let Some(line) = line.filter(|line| !line.trim().is_empty()) {
            let envelope = ingest::prepare(&tenant, pii_keys, line.as_bytes(), now)
                .map_err(|reason| anyhow::anyhow!("{name} changed while it was read: {reason}"))?;
            batch.push(envelope);
        }
        if batch.len() == BATCH || (finished && !batch.is_empty()) {
            let appended = batch.len() as u64;
            let (accepted, delivery) =
                ingest::append(&db, bus.as_ref(), std::mem::take(&mut batch))
                    .await
                    .context("Failed to append exceptions")?;
            let mut out = stdout.lock();
            for accepted in accepted {
                let line = serde_json::to_string(&accepted).context("Failed to encode a line")?;
                writeln!(out, "{line}").context("Failed to write to stdout")?;
            }
            deliveries.push(delivery);
            bar.inc(appended);
        }
        if finished {
            break;
        }
    }
    bar.finish_and_clear();
    for delivery in deliveries {
        delivery.wait().await;
    }
    bus.close(settings.tuning.shutdown_timeout).await;
    tracing::info!(total, tenant = %tenant, "Exceptions ingested.");
    Ok(())
}

/// The file to read twice, and the name to report: `-` is standard input, spooled first.
fn open_source(file: &Path) -> anyhow::Result<(File, String)> {
    if file.as_os_str() != "-" {
        let opened =
            File::open(file).with_context(|| format!("Failed to open {}", file.display()))?;
        return Ok((opened, file.display().to_string()));
    }
    let mut spool = tempfile::tempfile().context("Failed to create a temporary file")?;
    std::io::copy(&mut std::io::stdin().lock(), &mut spool)
        .context("Failed to read standard input")?;
    spool
        .rewind()
        .context("Failed to rewind the spooled input")?;
    Ok((spool, "stdin".to_owned()))
}

/// Calls `visit` with each non-blank line and its 1-based number.
fn for_each_line(
    source: &mut File,
    name: &str,
    mut visit: impl FnMut(usize, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for (index, line) in BufReader::new(source).lines().enumerate() {
        let line = line.with_context(|| format!("Failed to read {name}"))?;
        if !line.trim().is_empty() {
            visit(index + 1, &line)?;
        }
    }
    Ok(())
}
