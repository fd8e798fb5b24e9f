//! The OpenAPI document at /v1/openapi.json, on the embedded default: public, OpenAPI 3.1, the
//! bearer scheme on every /v1 operation (and the key check really guarding each), every
//! documented operation served by a route of that pattern and method (read back from the
//! router's own labels on /metrics), no other method served on a documented path (405 with
//! `Allow`), and the paths the API is known to have all there.

use std::collections::BTreeMap;

use serde_json::Value;
use test_support::readers::metric_sum;
use test_support::{Backend, Setup, TestApp, TestDb, ACME_KEY};

const OPERATOR_KEY: &str = "openapi-test-operator-key";

/// The routes the API has (docs/api.md), each with its methods.
const EXPECTED: [(&str, &str); 13] = [
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/metrics", "GET"),
    ("/v1/openapi.json", "GET"),
    ("/v1/exceptions", "GET, POST"),
    ("/v1/exceptions/{exception_id}", "GET"),
    (
        "/v1/exceptions/{exception_id}/steps/{step_number}/complete",
        "POST",
    ),
    ("/v1/dead-letters", "GET"),
    ("/v1/dead-letters/replay", "POST"),
    ("/v1/dead-letters/discard", "POST"),
    ("/v1/dead-letters/{id}", "GET"),
    ("/v1/dead-letters/{id}/replay", "POST"),
    ("/v1/workers", "GET"),
];

const METHODS: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
];

/// The document's operations: path -> upper-case methods, in the document's order.
fn operations(document: &Value) -> BTreeMap<String, Vec<String>> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|method| item.get(method.to_lowercase()).is_some())
                .map(|method| method.to_string())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// `path` with each `{parameter}` replaced by `1`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => inside = true,
            '}' => {
                inside = false;
                out.push('1');
            }
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

async fn send(app: &TestApp, method: &str, path: &str, key: Option<&str>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = app
        .client
        .request(method, format!("{}{}", app.address, concrete(path)));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.expect("a response")
}

#[actix_rt::test]
async fn the_document_describes_every_route_and_the_key_each_needs() {
    let Some(test_db) = TestDb::create(Backend::Sqlite).await else {
        return;
    };
    let app = Setup::new(&test_db)
        .operator_key(OPERATOR_KEY)
        .spawn()
        .await;

    // The document is public, and OpenAPI 3.1.
    let response = app.get("/v1/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap_or("");
    assert_eq!(content_type, "application/json");
    let document: Value = response.json().await.expect("a JSON document");
    let version = document["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1."), "{version}");

    // Its paths are the API's, with their methods.
    let documented = operations(&document);
    let expected: BTreeMap<String, Vec<String>> = EXPECTED
        .iter()
        .map(|(path, methods)| {
            let methods = methods.split(", ").map(str::to_owned).collect();
            (path.to_string(), methods)
        })
        .collect();
    assert_eq!(documented, expected);

    // The bearer scheme is declared, and every /v1 operation but the document itself needs it,
    // documents the 401 of the key check, and really gets that 401 without a key.
    let scheme = &document["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (path, methods) in &documented {
        for method in methods {
            let operation = &document["paths"][path][method.to_lowercase()];
            let guarded = path.starts_with("/v1/") && path != "/v1/openapi.json";
            let without_key = send(&app, method, path, None).await.status().as_u16();
            if guarded {
                let security = serde_json::json!([{"api_key": []}]);
                assert_eq!(operation["security"], security, "{method} {path}");
                assert!(operation["responses"]["401"].is_object(), "{method} {path}");
                assert_eq!(without_key, 401, "{method} {path} without a key");
            } else {
                assert!(operation.get("security").is_none(), "{method} {path}");
                assert_ne!(without_key, 401, "{method} {path} without a key");
            }
        }
    }

    // Every documented operation is served by a route of that pattern and method: the router
    // labels each request with the pattern it matched.
    for (path, methods) in &documented {
        for method in methods {
            let key = if path.starts_with("/v1/dead-letters") {
                OPERATOR_KEY
            } else {
                ACME_KEY
            };
            let status = send(&app, method, path, Some(key)).await.status();
            let labels = [("route", path.as_str()), ("method", method.as_str())];
            let matched = metric_sum(
                &app.app.runtime.metrics.render(),
                "http_requests_total",
                &labels,
            );
            assert!(
                matched >= 1.0,
                "{method} {path} ({status}) was not routed as {path}"
            );
        }
    }

    // A path segment that does not parse names nothing: 404 with the JSON error body.
    let response = send(
        &app,
        "GET",
        "/v1/dead-letters/not-a-number",
        Some(OPERATOR_KEY),
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(body["error"].is_string(), "{body}");

    // No other method is served on a documented path: 405, allowing exactly the documented ones.
    for (path, methods) in &documented {
        for method in METHODS.iter().filter(|m| !methods.iter().any(|d| d == *m)) {
            let response = send(&app, method, path, Some(OPERATOR_KEY)).await;
            assert_eq!(response.status().as_u16(), 405, "{method} {path}");
            let allow = response.headers()["allow"].to_str().unwrap_or("");
            assert_eq!(allow, methods.join(", "), "{method} {path}");
        }
    }
}
