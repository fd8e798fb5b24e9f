//! What a partition worker tells the fleet registry about itself: its committed position, the
//! lag behind the partition's end, and its records in the handlers.

use actix::prelude::*;

use super::PartitionWorker;
use crate::fleet::PartitionState;

/// Asks a partition worker for its state.
#[derive(Message)]
#[rtype(result = "PartitionState")]
pub struct ReportState;

impl actix::Handler<ReportState> for PartitionWorker {
    type Result = MessageResult<ReportState>;

    fn handle(&mut self, _message: ReportState, _ctx: &mut Self::Context) -> Self::Result {
        let tp = self.source.topic_partition();
        // Before the committed position is read, `committed` is a placeholder.
        let known = self.watermark.is_some();
        MessageResult(PartitionState {
            role: self.role.as_str().to_owned(),
            topic: tp.topic.clone(),
            partition: tp.partition,
            committed_offset: known.then_some(self.committed),
            lag: self
                .last_end
                .filter(|_| known)
                .map(|end| (end - self.committed).max(0)),
            in_flight: Some(self.dispatched as u64),
        })
    }
}
