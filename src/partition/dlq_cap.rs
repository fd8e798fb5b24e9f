//! The dead-letter cap: when a bug or a bad deploy makes nearly every message fail, stopping
//! the role (liveness red) is better than dead-lettering the whole stream. It trips when at
//! least `ratio` of the last `window` outcomes of a partition were dead letters.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct DeadLetterCap {
    recent: VecDeque<bool>,
    window: usize,
    ratio: f64,
    dead_in_window: usize,
}

impl DeadLetterCap {
    pub fn new(window: usize, ratio: f64) -> Self {
        Self {
            recent: VecDeque::with_capacity(window.max(1)),
            window: window.max(1),
            ratio,
            dead_in_window: 0,
        }
    }

    /// Records one outcome; true when the cap trips.
    pub fn record(&mut self, dead_lettered: bool) -> bool {
        self.recent.push_back(dead_lettered);
        self.dead_in_window += usize::from(dead_lettered);
        if self.recent.len() > self.window {
            let oldest = self.recent.pop_front().unwrap_or(false);
            self.dead_in_window -= usize::from(oldest);
        }
        self.recent.len() == self.window
            && self.dead_in_window as f64 >= self.ratio * self.window as f64
    }

    pub fn dead_in_window(&self) -> usize {
        self.dead_in_window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_only_on_a_full_window_over_the_ratio() {
        let mut cap = DeadLetterCap::new(10, 0.9);
        for _ in 0..8 {
            assert!(!cap.record(true));
        }
        assert!(!cap.record(false));
        assert!(cap.record(true), "9 of 10 dead");
    }

    #[test]
    fn a_mixed_stream_never_trips() {
        let mut cap = DeadLetterCap::new(20, 0.95);
        for index in 0..10_000 {
            assert!(!cap.record(index % 2 == 0));
        }
        assert_eq!(cap.dead_in_window(), 10);
    }
}
