//! `exception-worker dlq ...`: list, show, replay and discard dead letters from the command line.

use std::time::Duration;

use anyhow::Context;

use crate::app::{instance_id, open_bus, open_database};
use crate::config::{DlqCommand, Settings};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::replay::replay_dead_letter;
use crate::store::{dead_letters, replay};

/// Dead letters replayed by `replay --all` in one run, at most.
const REPLAY_ALL_LIMIT: u64 = 100_000;

pub async fn run(settings: Settings, command: DlqCommand) -> anyhow::Result<()> {
    let db = open_database(&settings).await?;
    match command {
        DlqCommand::List { status, limit } => {
            for letter in dead_letters::list_with_status(&db, status.stored(), limit).await? {
                println!("{}", serde_json::to_string(&letter)?);
            }
        }
        DlqCommand::Show { id } => {
            let letter = replay::show(&db, id)
                .await?
                .with_context(|| format!("dead letter {id} not found"))?;
            println!("{}", serde_json::to_string_pretty(&letter)?);
        }
        DlqCommand::Discard { id } => {
            replay::discard(&db, id, chrono::Utc::now()).await?;
            println!("{{\"discarded\":{id}}}");
        }
        DlqCommand::Replay { id, all } => {
            let metrics = Metrics::new().context("Failed to register metrics")?;
            let health = Health::new(Duration::from_secs(60), Duration::from_secs(60));
            let bus = open_bus(&settings, &db, &metrics, &health, &instance_id()).await?;
            let ids = match (id, all) {
                (Some(id), _) => vec![id],
                (None, true) => replay::pending_ids(&db, REPLAY_ALL_LIMIT).await?,
                (None, false) => anyhow::bail!("give a dead letter id, or --all"),
            };
            let bar = crate::progress::bar(ids.len() as u64, "replaying");
            let mut deliveries = Vec::with_capacity(ids.len());
            for id in &ids {
                deliveries
                    .push(replay_dead_letter(&db, bus.as_ref(), *id, chrono::Utc::now()).await?);
                println!("{{\"replayed\":{id}}}");
                bar.inc(1);
            }
            bar.finish_and_clear();
            for delivery in deliveries {
                delivery.wait().await;
            }
            bus.close(settings.tuning.shutdown_timeout).await;
        }
    }
    Ok(())
}
