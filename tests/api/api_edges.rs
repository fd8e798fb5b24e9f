//! The edges of the tenant API: authentication, rejected bodies, and tenant isolation.

use serde_json::Value;
use test_support::readers::count;
use test_support::{
    on_both_backends, spawn_app, wait_until, Backend, TestDb, ACME_KEY, GLOBEX_KEY,
};

on_both_backends!(
    requests_without_a_valid_key_get_401,
    bad_bodies_get_400_with_a_reason,
    another_tenants_exception_is_404
);

async fn requests_without_a_valid_key_get_401(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_app(&test_db).await;
    let body = r#"{"exceptionId": "AUTH-1", "exceptionType": "TRADE_BREAK"}"#;

    for key in [None, Some("wrong-key"), Some("")] {
        // Act
        let posted = app.post_exception(key, body).await;
        let read = app.get_exception(key, "AUTH-1").await;

        // Assert
        assert_eq!(posted.status().as_u16(), 401, "POST with key {key:?}");
        assert_eq!(read.status().as_u16(), 401, "GET with key {key:?}");
        let error: Value = posted.json().await.expect("a JSON body");
        assert!(error["error"].is_string(), "{error}");
    }
    let rows = count(&app.db, "SELECT COUNT(*) AS n FROM events", vec![]).await;
    assert_eq!(rows, 0, "a refused request stored an event");

    app.app.shutdown().await;
}

async fn bad_bodies_get_400_with_a_reason(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_app(&test_db).await;
    let cases = [
        ("{not json", "not valid JSON"),
        (r#"[{"exceptionId": "ARR-1"}]"#, "JSON object"),
        (r#"{"exceptionId": 42}"#, "must be a string"),
        // A second id field is checked too, not silently ignored behind the first.
        (
            r#"{"exceptionId": "EDGE-1", "exception_id": ""}"#,
            "payload exception_id must not be empty",
        ),
    ];

    for (body, reason) in cases {
        // Act
        let response = app.post_exception(Some(ACME_KEY), body).await;

        // Assert
        assert_eq!(response.status().as_u16(), 400, "body {body}");
        let error: Value = response.json().await.expect("a JSON body");
        let message = error["error"].as_str().expect("an error message");
        assert!(
            message.contains(reason),
            "'{message}' should say '{reason}'"
        );
    }
    let rows = count(&app.db, "SELECT COUNT(*) AS n FROM events", vec![]).await;
    assert_eq!(rows, 0, "a refused body stored an event");

    app.app.shutdown().await;
}

async fn another_tenants_exception_is_404(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_app(&test_db).await;
    let body = r#"{"exceptionId": "ACME-PRIVATE-1", "exceptionType": "TRADE_BREAK"}"#;
    let posted = app.post_exception(Some(ACME_KEY), body).await;
    assert_eq!(posted.status().as_u16(), 202);
    wait_until("acme sees its exception through intake", async || {
        let response = app.get_exception(Some(ACME_KEY), "ACME-PRIVATE-1").await;
        response.status().as_u16() == 200
            && response.json::<Value>().await.expect("a JSON body")["status"] != "received"
    })
    .await;

    // Act
    let response = app.get_exception(Some(GLOBEX_KEY), "ACME-PRIVATE-1").await;

    // Assert
    assert_eq!(response.status().as_u16(), 404);
    let body = response.text().await.expect("a body");
    assert!(!body.contains("ACME-PRIVATE-1"), "{body}");
    assert!(!body.contains("TRADE_BREAK"), "{body}");

    app.app.shutdown().await;
}
