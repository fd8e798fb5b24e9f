//! The README's pictures of the console: the operator's overview and an exception's page, with
//! a few exceptions of the sample file behind them. The pages are checked in every run; the
//! PNG files are written only when CONSOLE_SCREENSHOTS_DIR names a folder
//! (scripts/console-screenshots.sh sets it to docs/images).

use serde_json::{json, Value};
use test_support::{ACME_KEY, PROJECT_DIR};

use crate::{
    config_dir, console_worker, submit, wait_for_status, Browser, OPERATOR_KEY, PAGE_LIMIT,
};

async fn save(browser: &Browser, name: &str) {
    let Ok(dir) = std::env::var("CONSOLE_SCREENSHOTS_DIR") else {
        return;
    };
    let png = browser.client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    let path = std::path::Path::new(&dir).join(name);
    std::fs::write(&path, png).expect("writing the screenshot");
    eprintln!("wrote {}", path.display());
}

#[actix_rt::test]
async fn the_overview_and_an_exception_page_render_with_data() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = console_worker("screenshots", dir.path(), config_dir());
    worker.wait_ready(PAGE_LIMIT).await;
    let base = worker.url("");
    let samples = std::fs::read_to_string(format!(
        "{PROJECT_DIR}/config/samples/acme-exceptions.jsonl"
    ))
    .expect("the sample file");
    let mut last = None;
    for line in samples.lines().filter(|line| !line.trim().is_empty()) {
        let body: Value = serde_json::from_str(line).expect("a sample line");
        last = body["exceptionId"].as_str().map(str::to_owned).or(last);
        submit(&worker, ACME_KEY, body).await;
    }
    let settle = "SETTLE-SCREENSHOT-1";
    submit(&worker, ACME_KEY, json!({"exceptionId": settle, "exceptionType": "SETTLEMENT_FAIL", "amount": 25_000_000, "currency": "USD"})).await;
    wait_for_status(&worker, ACME_KEY, settle, "in_progress").await;
    if let Some(last) = last {
        let what = format!("{last} is through intake");
        test_support::wait_for(&what, PAGE_LIMIT, async || {
            let (status, _) =
                crate::api_get(&worker, ACME_KEY, &format!("/v1/exceptions/{last}")).await;
            status == 200
        })
        .await;
    }

    browser.sign_in(&base, OPERATOR_KEY).await;
    browser.find("#count-in_progress").await;
    assert_ne!(browser.text("#count-in_progress").await, "0");
    // The fleet's heartbeats have reported the roles' work: intake handled every exception.
    browser.find("#role-intake svg.spark").await;
    browser.find("#role-playbook").await;
    assert!(browser.text("#roles").await.contains("intake"));
    save(&browser, "console-overview.png").await;

    browser
        .goto(&format!("{base}/ui/exceptions/acme-capital/{settle}"))
        .await;
    browser
        .wait_for_text("#steps", "waiting_person", None)
        .await;
    assert!(browser
        .text("#timeline")
        .await
        .contains("ExceptionIngested"));
    save(&browser, "console-exception.png").await;

    browser.close().await;
}
