//! Start-up while a dependency is down: the probes answer at once, /readyz names what the
//! process waits for, and after STARTUP_TIMEOUT_SECS it exits with one line naming the
//! endpoint, without a flood of client-library logs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use test_support::{wait_for, Worker, CONFIG_DIR};

const BOUND_SECS: u64 = 6;

fn environment(data: &tempfile::TempDir, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let database_url = format!("sqlite://{}/t.db?mode=rwc", data.path().display());
    let mut vars = HashMap::from([
        ("CONFIG_DIR".to_owned(), CONFIG_DIR.to_owned()),
        ("DATABASE_URL".to_owned(), database_url),
        ("WORKER_TYPE".to_owned(), "intake".to_owned()),
        ("STARTUP_TIMEOUT_SECS".to_owned(), BOUND_SECS.to_string()),
    ]);
    vars.extend(
        extra
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    vars
}

/// Starts the worker, checks the probes while it waits, and returns its log after it gave up.
async fn start_and_give_up(vars: HashMap<String, String>, endpoint: &str) -> String {
    // Act
    let started = Instant::now();
    let mut worker = Worker::start("waiting", vars, &[]);
    wait_for("/healthz answers", Duration::from_secs(2), async || {
        matches!(worker.get("/healthz").await, Some((200, _)))
    })
    .await;

    // Assert: not ready, and the reason names the endpoint.
    let mut readiness = None;
    wait_for(
        "/readyz names the endpoint",
        Duration::from_secs(3),
        async || {
            readiness = worker.get("/readyz").await;
            readiness
                .as_ref()
                .is_some_and(|(_, body)| body.contains(endpoint))
        },
    )
    .await;
    let (status, body) = readiness.expect("a readiness answer");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("starting: waiting for"), "{body}");

    // Assert: it gives up within the bound, with one line that names the endpoint.
    let exit = worker.wait_exit(Duration::from_secs(BOUND_SECS + 10)).await;
    assert!(!exit.success());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(BOUND_SECS + 5),
        "took {took:?} with STARTUP_TIMEOUT_SECS={BOUND_SECS}"
    );
    let log = worker.log();
    let fatal: Vec<&str> = log
        .lines()
        .filter(|line| line.starts_with("exception-worker failed"))
        .collect();
    assert_eq!(fatal.len(), 1, "{log}");
    assert!(
        fatal[0].contains(endpoint)
            && fatal[0].contains(&format!("did not answer within {BOUND_SECS}.0s")),
        "{}",
        fatal[0]
    );
    log
}

#[actix_rt::test]
async fn an_unreachable_broker_is_named_and_bounds_the_start() {
    let data = tempfile::tempdir().expect("a temp dir");
    let vars = environment(&data, &[("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")]);
    let log = start_and_give_up(vars, "the broker at 127.0.0.1:1 (KAFKA_BOOTSTRAP_SERVERS)").await;
    let noisy = log
        .lines()
        .filter(|line| {
            line.contains("rdkafka") && (line.contains("ERROR") || line.contains("WARN"))
        })
        .count();
    assert_eq!(noisy, 0, "client-library noise:\n{log}");
    let waits = log
        .lines()
        .filter(|line| line.contains("Waiting for a dependency"))
        .count();
    assert!(
        (1..=2).contains(&waits),
        "one warning per 10 s, not one per attempt:\n{log}"
    );
}

#[actix_rt::test]
async fn an_unreachable_database_is_named_and_bounds_the_start() {
    let data = tempfile::tempdir().expect("a temp dir");
    let url = "postgres://postgres@127.0.0.1:1/nowhere";
    let vars = environment(&data, &[("DATABASE_URL", url)]);
    start_and_give_up(vars, &format!("the database at {url} (DATABASE_URL)")).await;
}
