//! The console's sign-in and form protections, over plain HTTP: the cookie's flags, the
//! Content-Security-Policy, keys never in URLs, CSRF tokens and same-origin checks on every
//! state-changing form, sign-out ending the session for every process, and no page without a
//! session. Tenant isolation page by page: console_isolation.rs.

use reqwest::header::{HeaderMap, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use test_support::{on_both_backends, wait_until, Backend, Setup, TestApp, TestDb, ACME_KEY};

on_both_backends!(
    signing_in_sets_a_strict_cookie_and_pages_forbid_inline_code,
    forms_need_the_sessions_token_and_the_consoles_origin,
    signing_out_ends_the_session
);

pub const OPERATOR_KEY: &str = "console-operator-key";

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

pub async fn spawn(test_db: &TestDb) -> TestApp {
    Setup::new(test_db)
        .operator_key(OPERATOR_KEY)
        .roles(Some(crate::flow::ALL_ROLES))
        .spawn()
        .await
}

/// The `name=value` of the session cookie a response sets.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(exception_worker::console::SESSION_COOKIE))
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
}

/// Signs in with `key`; answers the cookie to send.
pub async fn sign_in(app: &TestApp, key: &str) -> String {
    let response = client()
        .post(format!("{}/ui/login", app.address))
        .form(&[("key", key)])
        .send()
        .await
        .expect("Failed to sign in");
    assert_eq!(response.status().as_u16(), 303, "sign-in redirects");
    session_cookie(response.headers()).expect("a session cookie")
}

/// GET `path` with `cookie`: status, Location, body.
pub async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, String, String) {
    let response = client()
        .get(format!("{}{path}", app.address))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("Failed to GET");
    let status = response.status().as_u16();
    let location = header(response.headers(), LOCATION.as_str());
    (status, location, response.text().await.unwrap_or_default())
}

/// POST a form to `path` with `cookie` and `fields`: status and body.
pub async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = client()
        .post(format!("{}{path}", app.address))
        .header("Cookie", cookie)
        .form(fields)
        .send()
        .await
        .expect("Failed to POST");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// The CSRF token in a page's forms.
pub fn csrf_token(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Posts a settlement fail for acme and waits until its step 3 waits for a person.
pub async fn settlement_waiting(app: &TestApp, id: &str) {
    let body = format!(
        r#"{{"exceptionId":"{id}","exceptionType":"SETTLEMENT_FAIL","amount":25000000,"currency":"USD"}}"#
    );
    assert_eq!(
        app.post_exception(Some(ACME_KEY), &body)
            .await
            .status()
            .as_u16(),
        202
    );
    wait_until("step 3 waits for a person", async || {
        let (_, shown) = app
            .get_json(Some(ACME_KEY), &format!("/v1/exceptions/{id}"))
            .await;
        shown["steps"][2]["status"] == "waiting_person"
    })
    .await;
}

async fn signing_in_sets_a_strict_cookie_and_pages_forbid_inline_code(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let app = spawn(&test_db).await;

    // No session: every page sends the browser to the sign-in form.
    for path in ["/ui", "/ui/exceptions", "/ui/dead-letters", "/ui/fleet"] {
        let (status, location, _) = get(&app, "", path).await;
        assert_eq!((status, location.as_str()), (303, "/ui/login"), "{path}");
    }
    // A wrong key: 401, no cookie.
    let refused = client()
        .post(format!("{}/ui/login", app.address))
        .form(&[("key", "not-a-key")])
        .send()
        .await
        .expect("Failed to sign in");
    assert_eq!(refused.status().as_u16(), 401);
    assert!(session_cookie(refused.headers()).is_none());

    // The right key: a cookie the page's scripts cannot read and other sites cannot send.
    let response = client()
        .post(format!("{}/ui/login", app.address))
        .form(&[("key", ACME_KEY)])
        .send()
        .await
        .expect("Failed to sign in");
    let set_cookie = header(response.headers(), SET_COOKIE.as_str());
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(
            set_cookie.contains(flag),
            "{flag} missing from {set_cookie}"
        );
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP cannot keep a Secure cookie"
    );
    assert!(!header(response.headers(), LOCATION.as_str()).contains(ACME_KEY));
    // Behind TLS (as a proxy says), the cookie is Secure.
    let behind_tls = client()
        .post(format!("{}/ui/login", app.address))
        .header("X-Forwarded-Proto", "https")
        .form(&[("key", ACME_KEY)])
        .send()
        .await
        .expect("Failed to sign in");
    assert!(header(behind_tls.headers(), SET_COOKIE.as_str()).contains("Secure"));

    // Pages: a strict policy, and nothing inline for it to forbid.
    let cookie = session_cookie(response.headers()).expect("a session cookie");
    let page = client()
        .get(format!("{}/ui", app.address))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("Failed to GET");
    let policy = header(page.headers(), CONTENT_SECURITY_POLICY.as_str());
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{directive} missing from {policy}"
        );
    }
    assert_eq!(header(page.headers(), "x-frame-options"), "DENY");
    let html = page.text().await.expect("a page");
    assert!(html.contains("acme-capital"));
    assert!(!html.contains("<script>") && !html.contains(" style=") && !html.contains("<style"));
    assert!(!html.contains(ACME_KEY), "a page never shows the key");

    app.app.shutdown().await;
}

async fn forms_need_the_sessions_token_and_the_consoles_origin(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let app = spawn(&test_db).await;
    settlement_waiting(&app, "CSRF-1").await;
    let cookie = sign_in(&app, ACME_KEY).await;
    let (_, _, page) = get(&app, &cookie, "/ui/exceptions/acme-capital/CSRF-1").await;
    let token = csrf_token(&page);
    let complete = "/ui/exceptions/acme-capital/CSRF-1/steps/3/complete";

    // Without the token, with another session's token, or from another origin: refused.
    let (status, _) = post(&app, &cookie, complete, &[("comment", "x")]).await;
    assert_eq!(status, 403);
    let other = sign_in(&app, ACME_KEY).await;
    let (_, _, other_page) = get(&app, &other, "/ui").await;
    let (status, _) = post(
        &app,
        &cookie,
        complete,
        &[("csrf_token", &csrf_token(&other_page))],
    )
    .await;
    assert_eq!(status, 403);
    let cross_site = client()
        .post(format!("{}{complete}", app.address))
        .header("Cookie", &cookie)
        .header("Origin", "http://attacker.example")
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("Failed to POST");
    assert_eq!(cross_site.status().as_u16(), 403);
    let login_from_elsewhere = client()
        .post(format!("{}/ui/login", app.address))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("key", ACME_KEY)])
        .send()
        .await
        .expect("Failed to POST");
    assert_eq!(login_from_elsewhere.status().as_u16(), 403);
    let (_, shown) = app.get_json(Some(ACME_KEY), "/v1/exceptions/CSRF-1").await;
    assert_eq!(
        shown["steps"][2]["status"], "waiting_person",
        "nothing was completed"
    );

    // With its own token from its own page: accepted, and a wrong step is a 409.
    let origin = app.address.clone();
    let accepted = client()
        .post(format!("{}{complete}", app.address))
        .header("Cookie", &cookie)
        .header("Origin", origin)
        .form(&[("csrf_token", token.as_str()), ("comment", "checked")])
        .send()
        .await
        .expect("Failed to POST");
    assert_eq!(accepted.status().as_u16(), 303);
    let wrong_step = "/ui/exceptions/acme-capital/CSRF-1/steps/5/complete";
    let (status, body) = post(&app, &cookie, wrong_step, &[("csrf_token", &token)]).await;
    assert_eq!(status, 409, "{body}");

    app.app.shutdown().await;
}

async fn signing_out_ends_the_session(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    let app = spawn(&test_db).await;
    let cookie = sign_in(&app, OPERATOR_KEY).await;
    let (status, _, page) = get(&app, &cookie, "/ui").await;
    assert_eq!(status, 200);
    assert!(page.contains("Dead letters waiting"));

    let (status, _) = post(
        &app,
        &cookie,
        "/ui/logout",
        &[("csrf_token", &csrf_token(&page))],
    )
    .await;
    assert_eq!(status, 303);
    let (status, location, _) = get(&app, &cookie, "/ui").await;
    assert_eq!((status, location.as_str()), (303, "/ui/login"));
    let rows = test_support::readers::count(
        &app.db,
        "SELECT COUNT(*) AS n FROM console_sessions",
        vec![],
    )
    .await;
    assert_eq!(rows, 0, "the session row is gone");

    app.app.shutdown().await;
}
