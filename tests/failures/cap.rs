//! The dead-letter cap: a bad deploy (here TENANT_ALLOWLIST leaves out the only tenant that
//! sends) makes every message fail. With DLQ_CAP_WINDOW=20 the role stops and liveness goes red
//! naming the cap, instead of dead-lettering the whole stream; what was not dead-lettered stays
//! uncommitted, so a restart with the config fixed processes it, and nothing is lost.

use std::collections::HashSet;
use std::time::Duration;

use exception_worker::model::topics;
use futures::future::join_all;
use test_support::readers::processed_by;
use test_support::{ingested, wait_for, Cluster, Producer, RawProducer, GLOBEX};

use crate::support::{dead_letter_count, exception_ids, letters, Proc};

const N: usize = 1000;
const WINDOW: usize = 20;
const PARTITIONS: usize = 6;
/// TENANT_MAX_IN_FLIGHT's default: what one tenant may have in its handlers per partition.
const TENANT_MAX_IN_FLIGHT: usize = 16;
/// The cap trips once one partition's last WINDOW outcomes are dead letters; every partition
/// then stops fetching and dispatching, and only what is already in a handler still finishes.
/// So each partition adds at most a window plus its in-flight records.
const MAX_DEAD_LETTERS: usize = PARTITIONS * (WINDOW + TENANT_MAX_IN_FLIGHT);
const LIMIT: Duration = Duration::from_secs(90);

#[actix_rt::test]
async fn the_dead_letter_cap_stops_the_role() {
    let Some(cluster) = Cluster::start("dlq_cap").await else {
        return;
    };
    // Arrange
    let producer = Producer::open(&cluster).await;
    let raw = RawProducer::new(&cluster);
    let window = WINDOW.to_string();
    let env = [
        ("TENANT_ALLOWLIST", "acme-capital"),
        ("DLQ_CAP_WINDOW", window.as_str()),
    ];
    let bad_deploy = Proc::spawn("bad-deploy", &cluster, &env, "intake");
    bad_deploy.wait_ready(LIMIT).await;

    // Act: an all-globex stream, every message of which the bad deploy refuses.
    let ids: Vec<String> = (0..N).map(|n| format!("CAPPED-{n:04}")).collect();
    for chunk in ids.chunks(200) {
        join_all(chunk.iter().map(|id| {
            let envelope = ingested(GLOBEX, id);
            let raw = raw.clone();
            async move { raw.send_envelope(topics::INGESTED, &envelope).await }
        }))
        .await;
    }

    // Assert: liveness names the cap, and dead-lettering stops well short of the stream.
    let mut body = String::new();
    wait_for(
        "/healthz is 503 with the dead-letter cap",
        LIMIT,
        async || match bad_deploy.get("/healthz").await {
            Some((503, text)) => {
                body = text;
                true
            }
            _ => false,
        },
    )
    .await;
    assert!(
        body.contains("role intake failed: dead-letter cap"),
        "{body}"
    );
    actix_rt::time::sleep(Duration::from_secs(3)).await;
    let dead = dead_letter_count(&producer.db).await;
    actix_rt::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        dead_letter_count(&producer.db).await,
        dead,
        "dead-lettering went on after the cap"
    );
    eprintln!("dead-letter cap: {dead} of {N} dead-lettered before the role stopped (bound {MAX_DEAD_LETTERS})");
    assert!(dead as usize <= MAX_DEAD_LETTERS, "{dead} dead letters");
    assert_eq!(processed_by(&producer.db, "intake").await, 0);
    assert!(
        bad_deploy.alive(),
        "the process stays up for its orchestrator to restart it"
    );
    let mut bad_deploy = bad_deploy;
    bad_deploy.worker.terminate();
    bad_deploy.worker.wait_exit(Duration::from_secs(30)).await;

    // Nothing lost: with the config fixed, everything not dead-lettered is processed, once.
    let fixed = Proc::spawn(
        "fixed",
        &cluster,
        &[("TENANT_ALLOWLIST", "acme-capital,globex-markets")],
        "intake",
    );
    let rest = (N as i64) - dead;
    wait_for("the fixed deploy processed the rest", LIMIT, async || {
        processed_by(&producer.db, "intake").await >= rest
    })
    .await;
    actix_rt::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(processed_by(&producer.db, "intake").await, rest);
    assert_eq!(dead_letter_count(&producer.db).await, dead);
    let processed = exception_ids(&producer.db, GLOBEX).await;
    let dead_lettered: HashSet<String> = letters(&producer.db)
        .await
        .into_iter()
        .filter_map(|letter| letter.exception_id)
        .collect();
    assert!(
        processed.is_disjoint(&dead_lettered),
        "an exception both processed and dead-lettered"
    );
    let all: HashSet<String> = processed.union(&dead_lettered).cloned().collect();
    assert_eq!(
        all,
        ids.into_iter().collect::<HashSet<_>>(),
        "an exception was lost"
    );
    assert!(matches!(fixed.get("/healthz").await, Some((200, _))));
    producer.close().await;
}
