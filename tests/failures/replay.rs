//! Replaying every dead letter after the cause is fixed: a deployment serving only acme
//! dead-letters globex's events (the reason says TENANT_ALLOWLIST); restarted with both tenants
//! allowed, an operator replays every dead letter (half through the API, the rest with
//! `exception-worker dlq replay --all`); each is processed exactly once, every dead letter is
//! marked replayed, and a second replay is refused: no loop.

use std::process::{Command, Output};
use std::time::Duration;

use exception_worker::model::event_types;
use test_support::readers::{count, processed_by};
use test_support::{wait_for, Cluster, Producer, GLOBEX};

use crate::support::{
    dead_letter_count, events_of_type, letters, operator_key_sha256, Proc, OPERATOR_KEY, PIPELINE,
};

/// Exceptions produced, alternating acme and globex.
const N: usize = 40;
const LIMIT: Duration = Duration::from_secs(90);
const BINARY: &str = env!("CARGO_BIN_EXE_exception-worker");

/// Runs `exception-worker dlq <args>` to completion with the test's environment.
fn dlq(cluster: &Cluster, args: &[&str]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .envs(std::env::var("PATH").map(|path| ("PATH".to_owned(), path)))
        .envs(cluster.env())
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .arg("dlq")
        .args(args);
    command.output().expect("Failed to run the dlq command")
}

async fn replay_over_api(worker: &Proc, id: i64, key: Option<&str>) -> u16 {
    let mut request =
        reqwest::Client::new().post(worker.url(&format!("/v1/dead-letters/{id}/replay")));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request
        .send()
        .await
        .expect("Failed to POST a replay")
        .status()
        .as_u16()
}

#[actix_rt::test]
async fn replaying_every_dead_letter_after_the_fix_processes_them_once() {
    let Some(cluster) = Cluster::start("replay").await else {
        return;
    };
    // Arrange: globex is not served; its half of the stream is dead-lettered.
    let mut producer = Producer::open(&cluster).await;
    let db = producer.db.clone();
    let misconfigured = Proc::spawn(
        "acme-only",
        &cluster,
        &[("TENANT_ALLOWLIST", "acme-capital")],
        PIPELINE,
    );
    producer.append(N).await;
    let half = (N / 2) as i64;
    wait_for(
        "globex is dead-lettered, acme processed",
        LIMIT,
        async || dead_letter_count(&db).await == half && processed_by(&db, "policy").await == half,
    )
    .await;
    for letter in letters(&db).await {
        assert!(
            letter.reason.contains(&format!(
                "tenant '{GLOBEX}' is not served by this deployment (TENANT_ALLOWLIST)"
            )),
            "{letter:?}"
        );
        assert_eq!(letter.class, "permanent");
    }
    misconfigured.worker.terminate();
    let mut misconfigured = misconfigured;
    misconfigured
        .worker
        .wait_exit(Duration::from_secs(30))
        .await;

    // Act: the fix, then a replay of everything.
    let sha = operator_key_sha256();
    let env = [
        ("TENANT_ALLOWLIST", "acme-capital,globex-markets"),
        ("OPERATOR_API_KEY_SHA256", sha.as_str()),
    ];
    let fixed = Proc::spawn("both-tenants", &cluster, &env, PIPELINE);
    fixed.wait_ready(LIMIT).await;
    let ids: Vec<i64> = letters(&db).await.iter().map(|letter| letter.id).collect();
    assert_eq!(
        replay_over_api(&fixed, ids[0], None).await,
        401,
        "a replay without the operator key"
    );
    assert_eq!(
        replay_over_api(&fixed, ids[0], Some("acme-demo-key")).await,
        403,
        "a tenant key is no operator key"
    );
    for id in &ids[..ids.len() / 2] {
        assert_eq!(replay_over_api(&fixed, *id, Some(OPERATOR_KEY)).await, 202);
    }
    let output = dlq(&cluster, &["replay", "--all"]);
    assert!(
        output.status.success(),
        "dlq replay --all: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replayed = String::from_utf8_lossy(&output.stdout).lines().count();
    assert_eq!(
        replayed,
        ids.len() - ids.len() / 2,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    // Assert: each globex exception processed once, through every role.
    let n = N as i64;
    wait_for(
        "every replayed event went through the pipeline",
        LIMIT,
        async || processed_by(&db, "policy").await >= n,
    )
    .await;
    for role in ["intake", "triage", "policy"] {
        assert_eq!(processed_by(&db, role).await, n, "{role}");
    }
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM exceptions", vec![]).await,
        n
    );
    assert_eq!(
        events_of_type(&db, event_types::EXCEPTION_NORMALIZED).await,
        n
    );
    assert_eq!(
        events_of_type(&db, event_types::POLICY_EVALUATION_COMPLETED).await,
        n
    );
    let letters_now = letters(&db).await;
    assert_eq!(
        letters_now.len(),
        ids.len(),
        "a replay came back as a dead letter"
    );
    assert!(
        letters_now.iter().all(|letter| letter.status == "replayed"),
        "{letters_now:?}"
    );
    // The replay re-published the original event under its id: two log rows per dead letter.
    let sql = r#"SELECT COUNT(*) AS n FROM events e JOIN dead_letters d ON d.event_id = e.event_id
                 WHERE e.event_type = 'ExceptionIngested' AND e.replay_count = 1"#;
    assert_eq!(count(&db, sql, vec![]).await, ids.len() as i64);

    // A second replay is refused, through the API and the command line alike.
    assert_eq!(
        replay_over_api(&fixed, ids[0], Some(OPERATOR_KEY)).await,
        409
    );
    let again = dlq(&cluster, &["replay", &ids[1].to_string()]);
    assert!(
        !again.status.success(),
        "a replayed dead letter was replayed again"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not pending"),
        "{again:?}"
    );
    let all_again = dlq(&cluster, &["replay", "--all"]);
    assert!(
        all_again.status.success() && all_again.stdout.is_empty(),
        "{all_again:?}"
    );
    actix_rt::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        processed_by(&db, "intake").await,
        n,
        "no loop: nothing new was processed"
    );
    assert_eq!(dead_letter_count(&db).await, ids.len() as i64);
    let unpublished = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";
    assert_eq!(count(&db, unpublished, vec![]).await, 0);
    producer.close().await;
}
