//! Hostile-input property tests: the envelope decoder, the pack rule evaluator and the
//! raw-payload normaliser never panic, never allocate without bound, and give a reason for every
//! rejection. Pure functions only: no database, broker or network.

mod envelope;
mod limits;
mod normalize;
mod rules;
mod strategies;

use proptest::test_runner::Config;

/// The shared proptest configuration: `cases` per property and no regression files, so a
/// run leaves the tree clean (a real failure prints its minimal input instead).
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
