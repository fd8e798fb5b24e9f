//! Waking the embedded bus's consumers: a generation per partition, bumped when a commit
//! appended to it. Commits of this process bump it directly; on Postgres, commits of other
//! processes arrive as NOTIFY messages (sent by the append, delivered at commit) and bump it
//! too, so a consumer in another process waits for no poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::bus::TopicPartition;

/// The NOTIFY channel of appends to the embedded log on Postgres; the payload is
/// `{instance}/{topic}/{partition}`.
pub const CHANNEL: &str = "exception_worker_log";

/// A generation per partition, observed by that partition's consumers.
#[derive(Default)]
pub struct Signals(Mutex<HashMap<TopicPartition, watch::Sender<u64>>>);

impl Signals {
    fn sender(&self, tp: &TopicPartition) -> watch::Sender<u64> {
        let mut senders = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        senders
            .entry(tp.clone())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    pub fn receiver(&self, tp: &TopicPartition) -> watch::Receiver<u64> {
        self.sender(tp).subscribe()
    }

    /// Something was appended to `tp`: wake its consumers.
    pub fn bump(&self, tp: &TopicPartition) {
        self.sender(tp).send_modify(|generation| *generation += 1);
    }
}

/// Listens for other processes' appends on Postgres and bumps their partitions; reconnects
/// (after a pause) when the connection drops. Runs until the process ends.
pub async fn listen_for_other_processes(url: String, instance: String, signals: Arc<Signals>) {
    loop {
        match sea_orm::sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::warn!(%error, "Could not listen for appends of other processes.");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(notification) => {
                                if let Some(tp) =
                                    foreign_partition(notification.payload(), &instance)
                                {
                                    signals.bump(&tp);
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "Lost the connection listening for appends; reconnecting.");
                                break;
                            }
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "Could not connect to listen for appends of other processes.");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The partition a NOTIFY payload names, unless this process sent it (it woke its consumers
/// already).
fn foreign_partition(payload: &str, instance: &str) -> Option<TopicPartition> {
    let (sender, rest) = payload.split_once('/')?;
    if sender == instance {
        return None;
    }
    let (topic, partition) = rest.rsplit_once('/')?;
    Some(TopicPartition {
        topic: topic.to_owned(),
        partition: partition.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_other_processes_notifications_wake_a_partition() {
        let tp = foreign_partition("other-1/exceptions.ingested/3", "me").unwrap();
        assert_eq!(tp.topic, "exceptions.ingested");
        assert_eq!(tp.partition, 3);
        assert!(foreign_partition("me/exceptions.ingested/3", "me").is_none());
        assert!(foreign_partition("garbage", "me").is_none());
    }

    #[test]
    fn a_bump_wakes_the_partitions_receivers() {
        let signals = Signals::default();
        let tp = TopicPartition {
            topic: "t".into(),
            partition: 0,
        };
        let receiver = signals.receiver(&tp);
        assert!(!receiver.has_changed().unwrap());
        signals.bump(&tp);
        assert!(receiver.has_changed().unwrap());
    }
}
