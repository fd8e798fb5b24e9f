//! Marking published rows: the broker's acknowledgements arrive per row; the marker gathers the
//! rows' sequence numbers and marks them with one UPDATE per batch, off the publishing path. A
//! row whose mark is lost (a crash) is published again by the sweeper; consumers dedupe it.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::bus::outbox;
use crate::metrics::Metrics;

/// Sequence numbers marked per UPDATE batch, at most.
const BATCH: usize = 2000;

enum Command {
    Mark(Vec<i64>),
    /// Answer once everything sent before is marked (or could not be).
    Flush(oneshot::Sender<()>),
}

/// The handle of the marking task.
#[derive(Clone)]
pub struct Marker {
    commands: mpsc::UnboundedSender<Command>,
}

impl Marker {
    /// Starts the marking task on the current runtime.
    pub fn start(db: DatabaseConnection, metrics: Metrics) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(db, metrics, receiver));
        Self { commands }
    }

    pub fn mark(&self, seqs: Vec<i64>) {
        if !seqs.is_empty() {
            let _stopped = self.commands.send(Command::Mark(seqs));
        }
    }

    /// Waits up to `deadline` until every row handed over so far is marked.
    pub async fn flush(&self, deadline: Duration) {
        let (done, flushed) = oneshot::channel();
        if self.commands.send(Command::Flush(done)).is_ok() {
            let _in_time = tokio::time::timeout(deadline, flushed).await;
        }
    }
}

async fn run(
    db: DatabaseConnection,
    metrics: Metrics,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut pending: Vec<i64> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut received = Vec::new();
    let mut failures = 0u32;
    loop {
        if pending.is_empty() && waiting.is_empty() {
            if commands.recv_many(&mut received, 64).await == 0 {
                return;
            }
        } else {
            // Take whatever else has arrived meanwhile, without waiting.
            while let Ok(command) = commands.try_recv() {
                received.push(command);
            }
        }
        for command in received.drain(..) {
            match command {
                Command::Mark(seqs) => pending.extend(seqs),
                Command::Flush(done) => waiting.push(done),
            }
        }
        let batch: Vec<i64> = pending.drain(..pending.len().min(BATCH)).collect();
        if !batch.is_empty() {
            match outbox::mark_published(&db, &batch, Utc::now()).await {
                Ok(()) => {
                    failures = 0;
                    metrics.outbox_published.inc_by(batch.len() as u64);
                }
                Err(error) => {
                    failures += 1;
                    let delay = Duration::from_millis(50 * u64::from(failures.min(20)));
                    tracing::warn!(%error, rows = batch.len(), retry_in_ms = delay.as_millis() as u64,
                        "Could not mark published rows; retrying.");
                    pending.splice(0..0, batch);
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
        }
        if pending.is_empty() {
            for done in waiting.drain(..) {
                let _gone = done.send(());
            }
        }
    }
}
