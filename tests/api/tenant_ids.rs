//! Exception ids are scoped by tenant: a tenant that posts another tenant's id gets an
//! exception of its own, cannot block or change the other's, and cannot tell whether the id is
//! in use elsewhere.

use serde_json::{json, Value};
use test_support::readers::{count, processed_by};
use test_support::{
    on_both_backends, spawn_app, wait_until, Backend, TestApp, TestDb, ACME_KEY, GLOBEX_KEY,
};

on_both_backends!(
    a_tenant_cannot_squat_another_tenants_id,
    a_tenant_cannot_tell_whether_another_uses_an_id
);

/// Posts `body` as `key` and waits until policy has processed `expected` events in all.
async fn post_and_decide(app: &TestApp, key: &str, body: &Value, expected: i64) -> (u16, Value) {
    let response = app.post_exception(Some(key), &body.to_string()).await;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.expect("a JSON body");
    wait_until("policy decided the exception", async || {
        processed_by(&app.db, "policy").await == expected
    })
    .await;
    (status, answer)
}

async fn read(app: &TestApp, key: &str, id: &str) -> (u16, Value) {
    let response = app.get_exception(Some(key), id).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn a_tenant_cannot_squat_another_tenants_id(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: globex takes acme's future id first.
    let app = spawn_app(&test_db).await;
    let squatter = json!({"exceptionId": "ACME-FUT-1", "exceptionType": "TRADE_BREAK"});
    let (status, _) = post_and_decide(&app, GLOBEX_KEY, &squatter, 1).await;
    assert_eq!(status, 202);

    // Act: acme posts its own exception of that id.
    let own = json!({"exceptionId": "ACME-FUT-1", "exceptionType": "PRICE_MISMATCH",
                     "sourceSystem": "BLOOMBERG"});
    let (status, accepted) = post_and_decide(&app, ACME_KEY, &own, 2).await;

    // Assert: acme's exception is acme's, processed like any other; globex's is untouched.
    assert_eq!(status, 202, "{accepted}");
    let (status, acme) = read(&app, ACME_KEY, "ACME-FUT-1").await;
    assert_eq!(status, 200, "{acme}");
    assert_eq!(acme["tenant_id"], "acme-capital");
    assert_eq!(acme["exception_type"], "PRICE_MISMATCH");
    assert_eq!(acme["source_system"], "BLOOMBERG");
    assert!(acme["policy_decision"].is_string(), "{acme}");
    let (status, globex) = read(&app, GLOBEX_KEY, "ACME-FUT-1").await;
    assert_eq!(status, 200);
    assert_eq!(globex["tenant_id"], "globex-markets");
    assert_eq!(globex["exception_type"], "TRADE_BREAK");
    let letters = count(&app.db, "SELECT COUNT(*) AS n FROM dead_letters", vec![]).await;
    assert_eq!(letters, 0, "an exception was dead-lettered");

    app.app.shutdown().await;
}

/// What a tenant sees of its own exception, without what differs by id and time.
fn shape(status: u16, body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        for volatile in [
            "exception_id",
            "event_id",
            "occurred_at",
            "created_at",
            "updated_at",
            "sla_deadline",
        ] {
            object.remove(volatile);
        }
        if let Some(events) = object.remove("events") {
            let types: Vec<Value> = events
                .as_array()
                .map(|events| {
                    events
                        .iter()
                        .map(|event| event["event_type"].clone())
                        .collect()
                })
                .unwrap_or_default();
            object.insert("event_types".to_owned(), Value::Array(types));
        }
    }
    json!({"status": status, "body": body})
}

async fn a_tenant_cannot_tell_whether_another_uses_an_id(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: acme uses TAKEN-1; FREE-1 is nobody's.
    let app = spawn_app(&test_db).await;
    let taken = json!({"exceptionId": "TAKEN-1", "exceptionType": "SETTLEMENT_FAIL"});
    post_and_decide(&app, ACME_KEY, &taken, 1).await;

    // Act: globex probes both ids the same way, POST then GET.
    let mut seen = Vec::new();
    for (id, expected) in [("TAKEN-1", 2), ("FREE-1", 3)] {
        let body = json!({"exceptionId": id, "exceptionType": "TRADE_BREAK"});
        let (status, answer) = post_and_decide(&app, GLOBEX_KEY, &body, expected).await;
        let (read_status, read_body) = read(&app, GLOBEX_KEY, id).await;
        seen.push((shape(status, &answer), shape(read_status, &read_body)));
    }

    // Assert: both probes look the same.
    assert_eq!(seen[0], seen[1], "globex can tell TAKEN-1 from FREE-1");
    assert_eq!(seen[0].1["status"], 200);
    let (status, acme) = read(&app, ACME_KEY, "TAKEN-1").await;
    assert_eq!(
        (status, acme["exception_type"].clone()),
        (200, json!("SETTLEMENT_FAIL"))
    );

    app.app.shutdown().await;
}
