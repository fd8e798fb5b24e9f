//! A tenant's day in the console: sign in with the tenant key, find an exception by filter,
//! approve and complete the steps waiting for a person and watch it resolve; and what a tenant
//! must not see: another tenant's exception, the dead letters, the fleet.

use serde_json::json;
use test_support::{wait_for, ACME_KEY, GLOBEX_KEY};

use crate::{api_get, config_dir, console_worker, submit, wait_for_status, Browser, PAGE_LIMIT};

const SETTLE: &str = "UI-SETTLE-7";

async fn wait_for_step(worker: &test_support::Worker, step: usize, status: &str) {
    let what = format!("{SETTLE} step {step} is {status}");
    wait_for(&what, PAGE_LIMIT, async || {
        let (_, body) = api_get(worker, ACME_KEY, &format!("/v1/exceptions/{SETTLE}")).await;
        body["steps"][step - 1]["status"] == status
    })
    .await;
}

#[actix_rt::test]
async fn a_tenant_finds_an_exception_completes_its_steps_and_sees_it_resolve() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = console_worker("console", dir.path(), config_dir());
    worker.wait_ready(PAGE_LIMIT).await;
    let base = worker.url("");
    // Arrange: a settlement fail that needs a person, and two others to filter out.
    submit(&worker, ACME_KEY, json!({"exceptionId": SETTLE, "exceptionType": "SETTLEMENT_FAIL", "amount": 25_000_000, "currency": "USD"})).await;
    submit(&worker, ACME_KEY, json!({"exceptionId": "UI-PRICE-1", "exceptionType": "PRICE_MISMATCH", "priceDiffBps": 12, "currency": "GBP"})).await;
    submit(&worker, ACME_KEY, json!({"exceptionId": "UI-PRICE-2", "exceptionType": "PRICE_MISMATCH", "priceDiffBps": 14, "currency": "GBP"})).await;
    wait_for_step(&worker, 3, "waiting_person").await;

    // Act 1: sign in and filter by a piece of the id.
    browser.sign_in(&base, ACME_KEY).await;
    browser.goto(&format!("{base}/ui/exceptions")).await;
    browser
        .find("#q")
        .await
        .send_keys("settle-7")
        .await
        .expect("typing");
    browser
        .find("#apply-filters")
        .await
        .click()
        .await
        .expect("filtering");
    browser.find("#exceptions").await;

    // Assert 1: only the settlement fail is listed.
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#exceptions tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "the filter keeps one exception");
    assert!(browser.text("#exceptions").await.contains(SETTLE));

    // Act 2: open it, approve step 3 with a comment.
    browser
        .find(&format!("#exceptions a[href$='/{SETTLE}']"))
        .await
        .click()
        .await
        .expect("opening the exception");
    browser
        .find("#step-3 input[name=comment]")
        .await
        .send_keys("funding confirmed with treasury")
        .await
        .expect("typing a comment");
    browser
        .find("#complete-step-3")
        .await
        .click()
        .await
        .expect("completing step 3");
    browser.find("#completion-requested").await;
    wait_for_step(&worker, 4, "waiting_person").await;

    // Act 3: complete step 4 from a fresh page, then watch the page (it refreshes itself).
    let page = browser.client.current_url().await.expect("a URL");
    let page = page
        .as_str()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    browser.goto(&page).await;
    browser
        .find("#complete-step-4")
        .await
        .click()
        .await
        .expect("completing step 4");
    browser
        .wait_for_text("#exception-status", "resolved", None)
        .await;

    // Assert 2: the API agrees, with the person's comment on the record.
    wait_for_status(&worker, ACME_KEY, SETTLE, "resolved").await;
    let (_, shown) = api_get(&worker, ACME_KEY, &format!("/v1/exceptions/{SETTLE}")).await;
    assert_eq!(shown["steps"][2]["actor"], "console:acme-capital");
    let comment_recorded = shown["events"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|event| event["payload"]["comment"] == "funding confirmed with treasury");
    assert!(comment_recorded, "the comment travels with the completion");

    browser.close().await;
}

#[actix_rt::test]
async fn a_tenant_cannot_see_another_tenants_exception_the_dead_letters_or_the_fleet() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = console_worker("isolation", dir.path(), config_dir());
    worker.wait_ready(PAGE_LIMIT).await;
    let base = worker.url("");
    submit(&worker, ACME_KEY, json!({"exceptionId": "ACME-ONLY-1", "exceptionType": "PRICE_MISMATCH", "priceDiffBps": 12, "currency": "GBP"})).await;
    wait_for_status(&worker, ACME_KEY, "ACME-ONLY-1", "resolved").await;

    browser.sign_in(&base, GLOBEX_KEY).await;
    // Acme's exception by its address: not found, nothing of it shown.
    browser
        .goto(&format!("{base}/ui/exceptions/acme-capital/ACME-ONLY-1"))
        .await;
    browser
        .wait_for_text("main", "No such exception", None)
        .await;
    assert!(!browser.text("main").await.contains("PRICE_MISMATCH"));
    // Nor in the list, even when asked for by name.
    browser
        .goto(&format!("{base}/ui/exceptions?q=ACME-ONLY"))
        .await;
    browser.find("#no-exceptions").await;
    browser
        .goto(&format!("{base}/ui/exceptions?tenant=acme-capital"))
        .await;
    browser.wait_for_text("main", "its own tenant", None).await;
    // The operator's pages refuse a tenant, and the navigation does not offer them.
    for page in ["/ui/fleet", "/ui/dead-letters"] {
        browser.goto(&format!("{base}{page}")).await;
        browser
            .wait_for_text("main", "This page is for the operator key", None)
            .await;
    }
    let navigation = browser.text("header nav").await;
    assert!(!navigation.contains("Fleet") && !navigation.contains("Dead letters"));
    // The overview counts only the tenant's own exceptions.
    browser.goto(&format!("{base}/ui")).await;
    assert_eq!(browser.text("#count-resolved").await, "0");

    browser.close().await;
}
