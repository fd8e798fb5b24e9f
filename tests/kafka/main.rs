//! The Kafka integration tests: the real binary (as child processes) and the in-process app on
//! a real Kafka-protocol broker (TEST_KAFKA_BOOTSTRAP_SERVERS, provisioned by scripts/test.sh)
//! and a fresh Postgres database per test (TEST_DATABASE_URL). Every test uses its own topic
//! prefix and consumer group, so tests sharing one broker never see each other's messages.
//! Without a broker or a database the tests print a skip note and pass, except under CI=true,
//! where they fail. Quiet unless TEST_LOG is set; a failing test prints its children's logs. The
//! harness (cluster share, child processes, producers, readers) is the test-support crate's.

mod end_to_end;
mod fleet;
mod offsets;
mod scaling;
mod shutdown;
mod sweeper;
