//! Tenant isolation in the console, page by page: a tenant's session sees its own exceptions
//! only (another tenant's is "not found" by its address and absent from lists and counts), and
//! every operator page and action refuses it.

use test_support::{on_both_backends, wait_until, Backend, TestDb, ACME_KEY, GLOBEX_KEY};

use crate::console_session::{csrf_token, get, post, settlement_waiting, sign_in, spawn};

on_both_backends!(a_tenant_sees_its_own_tenant_only_on_every_page);

/// The number on the overview's card for `status`.
fn card(page: &str, status: &str) -> i64 {
    let marker = format!(r#"id="count-{status}">"#);
    let start = page.find(&marker).expect("a card") + marker.len();
    page[start..]
        .split('<')
        .next()
        .and_then(|number| number.parse().ok())
        .expect("a number")
}

async fn a_tenant_sees_its_own_tenant_only_on_every_page(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: an acme exception waiting for a person, a globex one.
    let app = spawn(&test_db).await;
    settlement_waiting(&app, "ACME-ISO-1").await;
    let body = r#"{"exceptionId":"GLOBEX-ISO-1","exceptionType":"PRICE_MISMATCH","priceDiffBps":12,"currency":"EUR"}"#;
    assert_eq!(
        app.post_exception(Some(GLOBEX_KEY), body)
            .await
            .status()
            .as_u16(),
        202
    );
    wait_until("globex's exception is through intake", async || {
        let (_, shown) = app
            .get_json(Some(GLOBEX_KEY), "/v1/exceptions/GLOBEX-ISO-1")
            .await;
        shown["status"]
            .as_str()
            .is_some_and(|status| status != "received")
    })
    .await;
    let globex = sign_in(&app, GLOBEX_KEY).await;
    let acme = sign_in(&app, ACME_KEY).await;
    let (_, _, page) = get(&app, &globex, "/ui").await;
    let token = csrf_token(&page);

    // Pages of exceptions: acme's is not found for globex, and absent from its list.
    let (status, _, page) = get(&app, &globex, "/ui/exceptions/acme-capital/ACME-ISO-1").await;
    assert_eq!(status, 404);
    assert!(!page.contains("SETTLEMENT_FAIL"));
    let (status, _, page) = get(&app, &globex, "/ui/exceptions").await;
    assert_eq!(status, 200);
    assert!(page.contains("GLOBEX-ISO-1") && !page.contains("ACME-ISO-1"));
    let (status, _, _) = get(&app, &globex, "/ui/exceptions?tenant=acme-capital").await;
    assert_eq!(status, 400);
    let (status, _, page) = get(&app, &globex, "/ui/exceptions?q=ACME-ISO").await;
    assert_eq!(status, 200);
    assert!(page.contains("No exceptions match"));
    // Acme's own view of the same pages.
    let (status, _, page) = get(&app, &acme, "/ui/exceptions/acme-capital/ACME-ISO-1").await;
    assert_eq!(status, 200);
    assert!(page.contains("complete-step-3"));
    let (status, _, _) = get(&app, &acme, "/ui/exceptions/globex-markets/GLOBEX-ISO-1").await;
    assert_eq!(status, 404);

    // Acme's step cannot be completed by globex, even with globex's own valid token.
    let complete = "/ui/exceptions/acme-capital/ACME-ISO-1/steps/3/complete";
    let (status, _) = post(&app, &globex, complete, &[("csrf_token", &token)]).await;
    assert_eq!(status, 403);

    // The overview counts globex's exceptions only, and shows no dead-letter count.
    let (_, _, page) = get(&app, &globex, "/ui/overview/panel").await;
    let statuses = ["open", "analyzing", "in_progress", "resolved", "escalated"];
    let counted: i64 = statuses.iter().map(|status| card(&page, status)).sum();
    assert_eq!(counted, 1, "globex's one exception, not acme's: {page}");
    assert!(!page.contains("count-dead-letters"));

    // Every operator page and action refuses a tenant.
    for path in ["/ui/dead-letters", "/ui/dead-letters/1", "/ui/fleet"] {
        let (status, _, page) = get(&app, &globex, path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("This page is for the operator key"), "{path}");
    }
    for path in [
        "/ui/dead-letters/1/replay",
        "/ui/dead-letters/1/discard",
        "/ui/dead-letters/bulk",
    ] {
        let fields = [
            ("csrf_token", token.as_str()),
            ("action", "replay"),
            ("confirmed", "yes"),
        ];
        let (status, _) = post(&app, &globex, path, &fields).await;
        assert_eq!(status, 403, "{path}");
    }
    let (_, shown) = app
        .get_json(Some(ACME_KEY), "/v1/exceptions/ACME-ISO-1")
        .await;
    assert_eq!(shown["steps"][2]["status"], "waiting_person");

    app.app.shutdown().await;
}
