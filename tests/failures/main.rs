//! The failure tests: things broken on purpose, on a real Kafka-protocol broker
//! (TEST_KAFKA_BOOTSTRAP_SERVERS) and Postgres (TEST_DATABASE_URL), with the real binary as
//! child processes. A private Postgres (initdb + pg_ctl) and a private tansu
//! broker are started for the outage tests, so the shared ones are never stopped or frozen.
//! Without a broker or a database the tests print a skip note and pass, except under CI=true,
//! where they fail. Quiet unless TEST_LOG is set; a failing test prints its children's logs. The
//! shared harness (cluster share, child processes, producers, readers) is the test-support
//! crate's.

mod private_broker;
mod private_postgres;
mod support;

mod cap;
mod fairness;
mod hostile;
mod isolation;
mod outages;
mod replay;
