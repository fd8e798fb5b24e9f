//! The operator mends a tenant whose pack was deployed late: its exceptions were dead-lettered
//! ("unknown tenant"), the pack arrives, and the operator replays one letter from its page and
//! the rest as a filtered set after a confirmation; each is then processed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use test_support::{binary, wait_for, Worker, CONFIG_DIR, GLOBEX, GLOBEX_KEY};

use crate::{api_get, console_worker, Browser, OPERATOR_KEY, PAGE_LIMIT};

const IDS: [&str; 3] = ["LATE-1", "LATE-2", "LATE-3"];

/// The packs without globex-markets' tenant file.
fn packs_without_globex(into: &Path) {
    let domains = into.join("domains");
    std::fs::create_dir_all(&domains).expect("a domains dir");
    std::fs::create_dir_all(into.join("tenants")).expect("a tenants dir");
    for entry in std::fs::read_dir(Path::new(CONFIG_DIR).join("domains")).expect("domains") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), domains.join(entry.file_name())).expect("copying a domain");
    }
    std::fs::copy(
        Path::new(CONFIG_DIR).join("tenants/acme-capital.toml"),
        into.join("tenants/acme-capital.toml"),
    )
    .expect("copying acme's pack");
}

/// Appends globex exceptions to the log with the `ingest` command (which knows every pack).
fn ingest_for_globex(data_dir: &Path) {
    let lines: Vec<String> = IDS
        .iter()
        .map(|id| format!(r#"{{"exceptionId":"{id}","exceptionType":"PRICE_MISMATCH","priceDiffBps":12,"currency":"EUR"}}"#))
        .collect();
    let file = data_dir.join("late.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("writing the file");
    let status = Command::new(binary())
        .args(["ingest", &file.display().to_string(), "--tenant", GLOBEX])
        .env("DATA_DIR", data_dir)
        .env("CONFIG_DIR", CONFIG_DIR)
        .env("NO_COLOR", "1")
        .status()
        .expect("running ingest");
    assert!(status.success(), "ingest failed");
}

async fn pending_letters(worker: &Worker) -> Vec<Value> {
    let (_, body) = api_get(worker, OPERATOR_KEY, "/v1/dead-letters?status=pending").await;
    body["dead_letters"].as_array().cloned().unwrap_or_default()
}

async fn wait_until_finished(worker: &Worker, id: &str) {
    let what = format!("{id} is processed");
    wait_for(&what, PAGE_LIMIT, async || {
        let (_, body) = api_get(worker, GLOBEX_KEY, &format!("/v1/exceptions/{id}")).await;
        // Through intake and past it (globex's price mismatches then wait for a person).
        matches!(body["status"].as_str(), Some(status) if status != "received" && status != "open")
    })
    .await;
}

#[actix_rt::test]
async fn the_operator_replays_dead_letters_one_and_a_filtered_set_and_they_are_processed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    // Arrange: globex's exceptions reach a deployment that does not know globex yet.
    let data = tempfile::tempdir().expect("a temp dir");
    let partial = tempfile::tempdir().expect("a temp dir");
    packs_without_globex(partial.path());
    ingest_for_globex(data.path());
    let mut before = console_worker(
        "no-globex",
        data.path(),
        &partial.path().display().to_string(),
    );
    before.wait_ready(PAGE_LIMIT).await;
    wait_for("three dead letters", PAGE_LIMIT, async || {
        pending_letters(&before).await.len() == IDS.len()
    })
    .await;
    let reason = pending_letters(&before).await[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("unknown tenant"), "reason: {reason}");
    before.terminate();
    before.wait_exit(Duration::from_secs(15)).await;
    // The pack is deployed: the same data, every pack.
    let worker = console_worker("with-globex", data.path(), CONFIG_DIR);
    worker.wait_ready(PAGE_LIMIT).await;
    let base = worker.url("");

    // Act 1: one letter, from its page.
    browser.sign_in(&base, OPERATOR_KEY).await;
    assert_eq!(browser.text("#count-dead-letters").await, "3");
    browser.goto(&format!("{base}/ui/dead-letters")).await;
    browser
        .find("#dead-letters tbody tr a")
        .await
        .click()
        .await
        .expect("opening a letter");
    browser
        .wait_for_text("#dead-letter-reason", "unknown tenant", None)
        .await;
    let message = browser.text("#dead-letter-message").await;
    assert!(
        message.contains("ExceptionIngested"),
        "the stored message is shown"
    );
    browser
        .find("#dead-letter-replay")
        .await
        .click()
        .await
        .expect("replaying");
    browser
        .wait_for_text("#dead-letter-status", "replayed", None)
        .await;
    wait_for(
        "one letter left of the first three",
        PAGE_LIMIT,
        async || pending_letters(&worker).await.len() == IDS.len() - 1,
    )
    .await;

    // Act 2: the rest, filtered by reason, after the confirmation counts them.
    browser
        .goto(&format!("{base}/ui/dead-letters?reason=unknown+tenant"))
        .await;
    browser
        .find("#bulk-replay")
        .await
        .click()
        .await
        .expect("asking to replay");
    browser
        .wait_for_text("#bulk-count", "2 pending dead letter(s) match", None)
        .await;
    browser
        .find("#bulk-confirm")
        .await
        .click()
        .await
        .expect("confirming");
    browser
        .wait_for_text("#bulk-done", "Replayed 2", None)
        .await;

    // Assert: every exception processed, no letter pending.
    for id in IDS {
        wait_until_finished(&worker, id).await;
    }
    assert!(pending_letters(&worker).await.is_empty());

    browser.close().await;
}
