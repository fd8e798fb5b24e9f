//! One role's consumer group membership: the consumer, its rebalance callbacks and the thread
//! that keeps polling the main queue (so callbacks fire while partition queues are split off).
//! On assign, each partition's queue is split off and handed to a partition worker; on revoke,
//! the callback waits (bounded) until the workers drained and committed, so no offset is ever
//! committed for a partition after another member may own it.

use std::collections::HashMap;
use std::sync::{mpsc as std_mpsc, Arc, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::{ClientContext, Message, TopicPartitionList};
use tokio::sync::{mpsc, oneshot};

use super::base_config;
use super::partition::KafkaPartition;
use crate::bus::{AssignmentEvent, BusError, PartitionSource, TopicPartition};
use crate::config::KafkaSettings;
use crate::health::Health;
use crate::metrics::Metrics;

pub type GroupConsumer = StreamConsumer<GroupContext>;

pub struct GroupContext {
    role: String,
    topic_prefix: String,
    events: mpsc::UnboundedSender<AssignmentEvent>,
    consumer: OnceLock<Weak<GroupConsumer>>,
    owned: Mutex<HashMap<TopicPartition, Arc<KafkaPartition<GroupContext>>>>,
    drain_deadline: Duration,
    metrics: Metrics,
}

impl GroupContext {
    fn owned(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<TopicPartition, Arc<KafkaPartition<GroupContext>>>> {
        self.owned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self, kind: &str) {
        self.metrics
            .rebalances
            .with_label_values(&[&self.role, kind])
            .inc();
    }

    fn assign(&self, tpl: &TopicPartitionList) {
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            tracing::error!(role = %self.role, "Assignment arrived before the consumer was ready.");
            return;
        };
        let mut sources: Vec<Arc<dyn PartitionSource>> = Vec::new();
        for element in tpl.elements() {
            let tp = TopicPartition {
                topic: element.topic().to_owned(),
                partition: element.partition(),
            };
            match consumer.split_partition_queue(&tp.topic, tp.partition) {
                Some(queue) => {
                    let logical = tp
                        .topic
                        .strip_prefix(&self.topic_prefix)
                        .unwrap_or(&tp.topic);
                    let partition = Arc::new(KafkaPartition::new(
                        tp.clone(),
                        logical,
                        consumer.clone(),
                        queue,
                    ));
                    self.owned().insert(tp, partition.clone());
                    sources.push(partition);
                }
                None => {
                    tracing::error!(role = %self.role, partition = %tp, "Could not split the partition queue.")
                }
            }
        }
        tracing::info!(role = %self.role, partitions = sources.len(), "Partitions assigned.");
        let _consumer_gone = self.events.send(AssignmentEvent::Assigned(sources));
    }

    fn revoke(&self, tpl: &TopicPartitionList) {
        let partitions: Vec<TopicPartition> = tpl
            .elements()
            .iter()
            .map(|element| TopicPartition {
                topic: element.topic().to_owned(),
                partition: element.partition(),
            })
            .collect();
        tracing::info!(role = %self.role, partitions = partitions.len(), "Partitions revoked; draining.");
        let (done, drained) = std_mpsc::sync_channel(1);
        let revoked = AssignmentEvent::Revoked {
            partitions: partitions.clone(),
            done,
        };
        if self.events.send(revoked).is_ok() && drained.recv_timeout(self.drain_deadline).is_err() {
            tracing::warn!(role = %self.role, "Drain on revoke did not finish in time; uncommitted records will be redelivered.");
        }
        let mut owned = self.owned();
        for tp in &partitions {
            if let Some(partition) = owned.remove(tp) {
                partition.disown();
            }
        }
    }

    /// A message that reached the main queue (before its partition queue was split): hand it
    /// to the partition so it is not lost.
    fn stray(&self, message: rdkafka::message::OwnedMessage) {
        let tp = TopicPartition {
            topic: message.topic().to_owned(),
            partition: message.partition(),
        };
        match self.owned().get(&tp) {
            Some(partition) => partition.push_stray(message),
            None => tracing::warn!(role = %self.role, partition = %tp, offset = message.offset(),
                "Message for an unowned partition on the main queue; it will be redelivered to its owner."),
        }
    }
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                self.count("revoke");
                self.revoke(tpl);
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(error) => {
                self.count("error");
                tracing::warn!(role = %self.role, %error, "Rebalance error.");
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            self.count("assign");
            self.assign(tpl);
        }
    }
}

/// Keeps the poll thread of one group; closing it leaves the group.
pub struct GroupHandle {
    role: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl GroupHandle {
    /// Stops polling and closes the consumer on its own thread, waiting at most `deadline`.
    pub async fn close(mut self, deadline: Duration) {
        if let Some(stop) = self.stop.take() {
            let _thread_gone = stop.send(());
        }
        let Some(thread) = self.thread.take() else {
            return;
        };
        let joined = tokio::task::spawn_blocking(move || thread.join());
        match tokio::time::timeout(deadline, joined).await {
            Ok(_) => tracing::info!(role = %self.role, "Consumer closed."),
            Err(_) => {
                tracing::warn!(role = %self.role, "Consumer close did not finish in time; exiting anyway.")
            }
        }
    }
}

pub fn join(
    settings: &KafkaSettings,
    role: &str,
    group: &str,
    topics: &[&'static str],
    metrics: Metrics,
    health: Health,
    drain_deadline: Duration,
) -> Result<(GroupHandle, mpsc::UnboundedReceiver<AssignmentEvent>), BusError> {
    let (events, receiver) = mpsc::unbounded_channel();
    let context = GroupContext {
        role: role.to_owned(),
        topic_prefix: settings.topic_prefix.clone(),
        events,
        consumer: OnceLock::new(),
        owned: Mutex::new(HashMap::new()),
        drain_deadline,
        metrics,
    };
    let mut config = base_config(settings);
    config
        .set("group.id", group)
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    if !settings.client_properties.contains_key("auto.offset.reset") {
        config.set("auto.offset.reset", "earliest");
    }
    let consumer: Arc<GroupConsumer> = Arc::new(config.create_with_context(context)?);
    let _set_once = consumer.context().consumer.set(Arc::downgrade(&consumer));
    let physical: Vec<String> = topics
        .iter()
        .map(|topic| super::physical_topic(settings, topic))
        .collect();
    let physical: Vec<&str> = physical.iter().map(String::as_str).collect();
    consumer.subscribe(&physical)?;
    let (stop, stopped) = oneshot::channel();
    let loop_name = format!("{role} main-queue");
    let thread = std::thread::Builder::new()
        .name(format!("kafka-{role}"))
        .spawn(move || poll_main_queue(consumer, stopped, health, loop_name))
        .map_err(|error| BusError::Io(error.to_string()))?;
    Ok((
        GroupHandle {
            role: role.to_owned(),
            stop: Some(stop),
            thread: Some(thread),
        },
        receiver,
    ))
}

/// Polls the main queue until told to stop; rebalance callbacks run here, on this thread, so
/// they may block while partition workers drain on the actor threads.
fn poll_main_queue(
    consumer: Arc<GroupConsumer>,
    mut stopped: oneshot::Receiver<()>,
    health: Health,
    loop_name: String,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "Could not start the consumer poll thread.");
            return;
        }
    };
    runtime.block_on(async {
        let mut heartbeat = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = heartbeat.tick() => health.poll_tick(&loop_name),
                received = consumer.recv() => match received {
                    Ok(message) => consumer.context().stray(message.detach()),
                    Err(error) => {
                        tracing::warn!(%error, "Consumer error.");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    });
    health.poll_loop_ended(&loop_name);
    // Unsubscribing revokes what is left (the workers are already drained), then the last
    // reference drops and closes the consumer here, off the actor threads.
    consumer.unsubscribe();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline
        && consumer
            .assignment()
            .map(|tpl| tpl.count() > 0)
            .unwrap_or(false)
    {
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await;
        });
    }
    // Partitions hold the consumer; drop them so this last reference closes it here.
    consumer.context().owned().clear();
}
