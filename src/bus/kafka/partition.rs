//! One assigned Kafka partition as a `PartitionSource`: its split queue, the committed position,
//! and commits of the watermark's position (the next offset to read, Kafka's convention), refused
//! once the partition is no longer owned.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::FutureExt;
use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::bus::{BusError, PartitionSource, Record, TopicPartition};

/// Broker round trips (committed offsets, watermarks) give up after this long.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);
/// The partition's end offset is refreshed at most this often.
const END_OFFSET_REFRESH: Duration = Duration::from_secs(5);

pub struct KafkaPartition<C: ConsumerContext + 'static> {
    /// The broker's topic name (with the prefix) and partition.
    tp: TopicPartition,
    /// The topic as the roles know it (without the prefix).
    topic: Arc<str>,
    consumer: Arc<StreamConsumer<C>>,
    queue: tokio::sync::Mutex<StreamPartitionQueue<C>>,
    stray: Mutex<VecDeque<OwnedMessage>>,
    owned: AtomicBool,
    end_offset: AtomicI64,
    end_offset_read_at: Mutex<Option<Instant>>,
}

impl<C: ConsumerContext + 'static> KafkaPartition<C> {
    pub fn new(
        tp: TopicPartition,
        logical_topic: &str,
        consumer: Arc<StreamConsumer<C>>,
        queue: StreamPartitionQueue<C>,
    ) -> Self {
        Self {
            topic: Arc::from(logical_topic),
            tp,
            consumer,
            queue: tokio::sync::Mutex::new(queue),
            stray: Mutex::new(VecDeque::new()),
            owned: AtomicBool::new(true),
            end_offset: AtomicI64::new(0),
            end_offset_read_at: Mutex::new(None),
        }
    }

    /// After a revoke: no commit for this partition is allowed any more.
    pub fn disown(&self) {
        self.owned.store(false, Ordering::SeqCst);
    }

    pub fn push_stray(&self, message: OwnedMessage) {
        self.stray
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push_back(message);
    }

    fn record_of(&self, message: &impl Message) -> Record {
        Record {
            topic: self.topic.clone(),
            partition: self.tp.partition,
            offset: message.offset(),
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            payload: Arc::from(message.payload().unwrap_or_default()),
        }
    }

    fn take_stray(&self, max: usize) -> Vec<Record> {
        let mut stray = self
            .stray
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = stray.len().min(max);
        stray
            .drain(..count)
            .map(|message| self.record_of(&message))
            .collect()
    }

    fn single_partition(&self, offset: Offset) -> Result<TopicPartitionList, BusError> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.tp.topic, self.tp.partition, offset)?;
        Ok(tpl)
    }
}

#[async_trait]
impl<C: ConsumerContext + 'static> PartitionSource for KafkaPartition<C> {
    fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    async fn committed_position(&self) -> Result<i64, BusError> {
        let tpl = self.single_partition(Offset::Invalid)?;
        let consumer = self.consumer.clone();
        let committed =
            tokio::task::spawn_blocking(move || consumer.committed_offsets(tpl, BROKER_TIMEOUT))
                .await
                .map_err(|error| BusError::Io(error.to_string()))??;
        let position = committed
            .find_partition(&self.tp.topic, self.tp.partition)
            .and_then(|element| match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            });
        match position {
            Some(offset) => Ok(offset),
            // Nothing committed yet: reading starts at the earliest retained offset.
            None => {
                let (low, _high) = self.watermarks().await?;
                Ok(low)
            }
        }
    }

    async fn fetch(&self, _from: i64, max: usize, wait: Duration) -> Result<Vec<Record>, BusError> {
        let mut records = self.take_stray(max);
        if !records.is_empty() {
            return Ok(records);
        }
        let queue = self.queue.lock().await;
        let first = match tokio::time::timeout(wait, queue.recv()).await {
            Err(_elapsed) => return Ok(records),
            Ok(received) => received?,
        };
        records.push(self.record_of(&first));
        drop(first);
        while records.len() < max {
            match queue.recv().now_or_never() {
                Some(Ok(message)) => records.push(self.record_of(&message)),
                Some(Err(error)) => return Err(error.into()),
                None => break,
            }
        }
        Ok(records)
    }

    async fn commit(&self, position: i64) -> Result<(), BusError> {
        if !self.owned.load(Ordering::SeqCst) {
            return Err(BusError::NotOwned(self.tp.clone()));
        }
        // The committed offset is the next one to read: the watermark's position, as is.
        let tpl = self.single_partition(Offset::Offset(position))?;
        let consumer = self.consumer.clone();
        tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|error| BusError::Io(error.to_string()))??;
        Ok(())
    }

    async fn end_offset(&self) -> Result<i64, BusError> {
        let fresh = self
            .end_offset_read_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some_and(|at| at.elapsed() < END_OFFSET_REFRESH);
        if !fresh {
            let (_low, high) = self.watermarks().await?;
            self.end_offset.store(high, Ordering::SeqCst);
            *self
                .end_offset_read_at
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
        }
        Ok(self.end_offset.load(Ordering::SeqCst))
    }
}

impl<C: ConsumerContext + 'static> KafkaPartition<C> {
    async fn watermarks(&self) -> Result<(i64, i64), BusError> {
        let consumer = self.consumer.clone();
        let topic = self.tp.topic.clone();
        let partition = self.tp.partition;
        let watermarks = tokio::task::spawn_blocking(move || {
            consumer.fetch_watermarks(&topic, partition, BROKER_TIMEOUT)
        })
        .await
        .map_err(|error| BusError::Io(error.to_string()))??;
        Ok(watermarks)
    }
}
