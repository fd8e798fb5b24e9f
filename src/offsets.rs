//! The offset watermark of one partition assignment: which offset may be committed, given that
//! handlers finish out of order. Invariant: the committable offset never passes an offset that
//! was dispatched and has not completed, and it follows the Kafka convention (the offset of the
//! next record to read, i.e. last contiguous completed offset + 1).

use std::collections::BTreeSet;

/// Tracks dispatched and completed offsets for one (topic, partition) assignment.
#[derive(Debug, Clone)]
pub struct Watermark {
    /// Offsets dispatched to a handler and not yet completed.
    pending: BTreeSet<i64>,
    /// The position to commit when nothing is pending: one past the highest dispatched offset,
    /// or the starting position when nothing has been dispatched yet.
    next_after_dispatched: i64,
    revoked: bool,
}

/// Why a watermark refused an operation. Each one is a bug in the caller, never data loss.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatermarkError {
    #[error("offset {offset} dispatched out of order (next expected at or after {expected})")]
    OutOfOrderDispatch { offset: i64, expected: i64 },
    #[error("offset {0} completed but was never dispatched or already completed")]
    UnknownCompletion(i64),
    #[error("the assignment was revoked")]
    Revoked,
}

impl Watermark {
    /// A watermark for an assignment that starts reading at `start_offset` (the committed position).
    pub fn new(start_offset: i64) -> Self {
        Self {
            pending: BTreeSet::new(),
            next_after_dispatched: start_offset,
            revoked: false,
        }
    }

    /// Records that `offset` was handed to a handler. Offsets must increase; gaps are allowed
    /// (compacted topics and transaction markers leave holes in Kafka offsets).
    pub fn dispatch(&mut self, offset: i64) -> Result<(), WatermarkError> {
        if self.revoked {
            return Err(WatermarkError::Revoked);
        }
        if offset < self.next_after_dispatched {
            return Err(WatermarkError::OutOfOrderDispatch {
                offset,
                expected: self.next_after_dispatched,
            });
        }
        self.pending.insert(offset);
        self.next_after_dispatched = offset + 1;
        Ok(())
    }

    /// Records that the handler finished `offset` (its effect is durable).
    pub fn complete(&mut self, offset: i64) -> Result<(), WatermarkError> {
        if self.revoked {
            return Err(WatermarkError::Revoked);
        }
        if self.pending.remove(&offset) {
            Ok(())
        } else {
            Err(WatermarkError::UnknownCompletion(offset))
        }
    }

    /// The position that is safe to commit now: the lowest pending offset, or one past the
    /// highest dispatched offset when nothing is pending.
    pub fn committable(&self) -> i64 {
        self.pending
            .first()
            .copied()
            .unwrap_or(self.next_after_dispatched)
    }

    /// Number of dispatched offsets still waiting for their handler.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Distance between the highest dispatched offset and the committable position: how much
    /// would be redelivered if the process died now.
    pub fn gap(&self) -> i64 {
        self.next_after_dispatched - self.committable()
    }

    /// The position to start reading from after everything dispatched so far.
    pub fn next_to_dispatch(&self) -> i64 {
        self.next_after_dispatched
    }

    /// Ends the assignment: returns the final committable position and refuses any later
    /// dispatch, completion or commit, so a stale completion can never move a new owner's offset.
    pub fn revoke(&mut self) -> i64 {
        let position = self.committable();
        self.revoked = true;
        self.pending.clear();
        position
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_watermark_commits_its_start() {
        let watermark = Watermark::new(42);
        assert_eq!(watermark.committable(), 42);
        assert_eq!(watermark.gap(), 0);
    }

    #[test]
    fn in_order_completion_advances_one_past_the_last() {
        let mut watermark = Watermark::new(0);
        for offset in 0..3 {
            watermark.dispatch(offset).unwrap();
        }
        for offset in 0..3 {
            watermark.complete(offset).unwrap();
        }
        assert_eq!(watermark.committable(), 3);
    }

    #[test]
    fn out_of_order_completion_holds_at_the_lowest_pending() {
        let mut watermark = Watermark::new(10);
        for offset in 10..15 {
            watermark.dispatch(offset).unwrap();
        }
        watermark.complete(12).unwrap();
        watermark.complete(14).unwrap();
        assert_eq!(watermark.committable(), 10);
        watermark.complete(10).unwrap();
        assert_eq!(watermark.committable(), 11);
        watermark.complete(11).unwrap();
        assert_eq!(watermark.committable(), 13);
        watermark.complete(13).unwrap();
        assert_eq!(watermark.committable(), 15);
        assert_eq!(watermark.in_flight(), 0);
    }

    #[test]
    fn gaps_in_offsets_do_not_block_the_watermark() {
        let mut watermark = Watermark::new(5);
        watermark.dispatch(5).unwrap();
        watermark.dispatch(8).unwrap();
        watermark.dispatch(20).unwrap();
        watermark.complete(8).unwrap();
        watermark.complete(5).unwrap();
        assert_eq!(watermark.committable(), 20);
        watermark.complete(20).unwrap();
        assert_eq!(watermark.committable(), 21);
    }

    #[test]
    fn every_completion_order_of_five_offsets_ends_at_the_same_position() {
        let offsets = [0_i64, 1, 2, 3, 4];
        let mut order = offsets;
        let mut permutations = 0;
        permute(&mut order, 0, &mut |completion_order| {
            permutations += 1;
            let mut watermark = Watermark::new(0);
            for offset in offsets {
                watermark.dispatch(offset).unwrap();
            }
            let mut done = BTreeSet::new();
            for &offset in completion_order {
                watermark.complete(offset).unwrap();
                done.insert(offset);
                let expected = (0..5).find(|o| !done.contains(o)).unwrap_or(5);
                assert_eq!(
                    watermark.committable(),
                    expected,
                    "order {completion_order:?}"
                );
            }
        });
        assert_eq!(permutations, 120);
    }

    fn permute(items: &mut [i64; 5], start: usize, visit: &mut dyn FnMut(&[i64])) {
        if start == items.len() {
            visit(items);
            return;
        }
        for index in start..items.len() {
            items.swap(start, index);
            permute(items, start + 1, visit);
            items.swap(start, index);
        }
    }

    #[test]
    fn dispatch_must_increase() {
        let mut watermark = Watermark::new(3);
        watermark.dispatch(3).unwrap();
        assert_eq!(
            watermark.dispatch(3),
            Err(WatermarkError::OutOfOrderDispatch {
                offset: 3,
                expected: 4
            })
        );
        assert_eq!(
            watermark.dispatch(1),
            Err(WatermarkError::OutOfOrderDispatch {
                offset: 1,
                expected: 4
            })
        );
    }

    #[test]
    fn unknown_or_double_completion_is_refused() {
        let mut watermark = Watermark::new(0);
        watermark.dispatch(0).unwrap();
        assert_eq!(
            watermark.complete(7),
            Err(WatermarkError::UnknownCompletion(7))
        );
        watermark.complete(0).unwrap();
        assert_eq!(
            watermark.complete(0),
            Err(WatermarkError::UnknownCompletion(0))
        );
    }

    #[test]
    fn revoke_returns_the_safe_position_and_freezes_the_watermark() {
        let mut watermark = Watermark::new(0);
        for offset in 0..4 {
            watermark.dispatch(offset).unwrap();
        }
        watermark.complete(0).unwrap();
        watermark.complete(2).unwrap();
        assert_eq!(watermark.revoke(), 1);
        assert!(watermark.is_revoked());
        assert_eq!(watermark.complete(1), Err(WatermarkError::Revoked));
        assert_eq!(watermark.dispatch(9), Err(WatermarkError::Revoked));
    }

    #[test]
    fn gap_measures_what_a_crash_would_redeliver() {
        let mut watermark = Watermark::new(100);
        for offset in 100..110 {
            watermark.dispatch(offset).unwrap();
        }
        watermark.complete(105).unwrap();
        assert_eq!(watermark.gap(), 10);
        for offset in 100..105 {
            watermark.complete(offset).unwrap();
        }
        assert_eq!(watermark.gap(), 4);
        assert_eq!(watermark.next_to_dispatch(), 110);
    }
}
