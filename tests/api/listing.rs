//! GET /v1/exceptions: each filter narrows the listing to exactly its exceptions, both orders
//! hold, items have the shape of an exception's own page, and every bad parameter is a 400 that
//! names it and what it allows. Paging and tenants: listing_pages.rs.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use test_support::rows::ExceptionRow;
use test_support::{on_both_backends, spawn_app, Backend, Setup, TestApp, TestDb, ACME, ACME_KEY};

on_both_backends!(
    each_filter_narrows_the_listing,
    items_have_the_shape_of_the_exception_page,
    bad_parameters_get_400_naming_what_is_allowed
);

const OPERATOR_KEY: &str = "listing-operator-key";

/// The ids of a listing's items, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|item| item["exception_id"].as_str().expect("an id").to_owned())
        .collect()
}

fn at(minutes: i64) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single();
    base.expect("a valid date") + Duration::minutes(minutes)
}

/// `at(minutes)` as a query value.
fn query_time(minutes: i64) -> String {
    at(minutes).to_rfc3339().replace('+', "%2B")
}

/// Eight exceptions of acme: five `F-` ones of varied state, and three whose ids test `q`.
async fn seed_varied(app: &TestApp) {
    let mut rows = Vec::new();
    rows.push(ExceptionRow::new(ACME, "F-OPEN-1", at(1)));
    let mut row = ExceptionRow::new(ACME, "F-ANA-2", at(2));
    (row.status, row.severity) = ("analyzing".into(), Some("HIGH".into()));
    (row.exception_type, row.updated_at) = ("SETTLEMENT_FAIL".into(), at(10));
    row.sla_deadline = Some(at(60));
    rows.push(row);
    let mut row = ExceptionRow::new(ACME, "F-ESC-3", at(3));
    (row.status, row.severity) = ("escalated".into(), Some("CRITICAL".into()));
    (row.exception_type, row.updated_at) = ("SETTLEMENT_FAIL".into(), at(20));
    (row.sla_deadline, row.sla_imminent_at) = (Some(at(30)), Some(at(25)));
    row.sla_breached_at = Some(at(30));
    rows.push(row);
    let mut row = ExceptionRow::new(ACME, "F-IMM-4", at(4));
    (row.status, row.severity) = ("in_progress".into(), Some("HIGH".into()));
    (row.exception_type, row.updated_at) = ("PRICE_MISMATCH".into(), at(5));
    (row.sla_deadline, row.sla_imminent_at) = (Some(at(40)), Some(at(35)));
    rows.push(row);
    let mut row = ExceptionRow::new(ACME, "F-RES-5", at(5));
    (row.status, row.severity) = ("resolved".into(), Some("LOW".into()));
    (row.exception_type, row.updated_at) = ("PRICE_MISMATCH".into(), at(6));
    (row.sla_deadline, row.sla_imminent_at) = (Some(at(50)), Some(at(45)));
    rows.push(row);
    rows.push(ExceptionRow::new(ACME, "PCT%1", at(6)));
    rows.push(ExceptionRow::new(ACME, "UND_2", at(7)));
    rows.push(ExceptionRow::new(ACME, "UNDX3", at(8)));
    for row in rows {
        row.insert(&app.db).await;
    }
}

async fn each_filter_narrows_the_listing(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn_app(&test_db).await;
    seed_varied(&app).await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "".into(),
            vec![
                "UNDX3", "UND_2", "PCT%1", "F-RES-5", "F-IMM-4", "F-ESC-3", "F-ANA-2", "F-OPEN-1",
            ],
        ),
        ("status=escalated".into(), vec!["F-ESC-3"]),
        ("severity=HIGH".into(), vec!["F-IMM-4", "F-ANA-2"]),
        (
            "exception_type=PRICE_MISMATCH".into(),
            vec!["F-RES-5", "F-IMM-4"],
        ),
        ("sla=breached".into(), vec!["F-ESC-3"]),
        // Flagged imminent, not breached, not resolved.
        ("sla=imminent".into(), vec!["F-IMM-4"]),
        (
            format!("created_after={}&q=f-", query_time(3)),
            vec!["F-RES-5", "F-IMM-4", "F-ESC-3"],
        ),
        (
            format!("created_before={}", query_time(3)),
            vec!["F-ANA-2", "F-OPEN-1"],
        ),
        (
            format!("updated_after={}", query_time(10)),
            vec!["F-ESC-3", "F-ANA-2"],
        ),
        (
            format!("updated_before={}", query_time(5)),
            vec!["F-OPEN-1"],
        ),
        // `q`: any case, and LIKE's wildcards match only themselves.
        ("q=f-e".into(), vec!["F-ESC-3"]),
        ("q=%25".into(), vec!["PCT%1"]),
        ("q=d_".into(), vec!["UND_2"]),
        ("q=und".into(), vec!["UNDX3", "UND_2"]),
        ("status=analyzing&severity=HIGH".into(), vec!["F-ANA-2"]),
        ("status=analyzing&severity=LOW".into(), vec![]),
        // Soonest deadline first, those without one last.
        (
            "q=f-&sort=sla_deadline".into(),
            vec!["F-ESC-3", "F-IMM-4", "F-RES-5", "F-ANA-2", "F-OPEN-1"],
        ),
    ];

    for (query, expected) in cases {
        // Act
        let (status, body) = app
            .get_json(Some(ACME_KEY), &format!("/v1/exceptions?{query}"))
            .await;

        // Assert
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(ids(&body), expected, "{query}");
        assert_eq!(body["next_cursor"], Value::Null, "{query}");
    }

    app.app.shutdown().await;
}

async fn items_have_the_shape_of_the_exception_page(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: one exception through intake, triage and policy.
    let app = spawn_app(&test_db).await;
    let body = json!({"exceptionId": "SHAPE-1", "exceptionType": "SETTLEMENT_FAIL",
                      "sourceSystem": "MUREX", "amount": 1000, "currency": "USD"});
    let posted = app.post_exception(Some(ACME_KEY), &body.to_string()).await;
    assert_eq!(posted.status().as_u16(), 202);
    app.wait_for_processed("policy", 1).await;

    // Act
    let (status, listed) = app.get_json(Some(ACME_KEY), "/v1/exceptions").await;
    let (_, mut page) = app.get_json(Some(ACME_KEY), "/v1/exceptions/SHAPE-1").await;

    // Assert: the item is the page without its steps and events.
    assert_eq!(status, 200, "{listed}");
    let page_fields = page.as_object_mut().expect("an object");
    page_fields.remove("steps");
    page_fields.remove("events");
    assert_eq!(listed["items"], json!([page]));
    assert!(listed["items"][0]["sla_deadline"].is_string(), "{listed}");

    app.app.shutdown().await;
}

async fn bad_parameters_get_400_naming_what_is_allowed(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = Setup::new(&test_db)
        .operator_key(OPERATOR_KEY)
        .spawn()
        .await;
    ExceptionRow::new(ACME, "ONE-1", at(1))
        .insert(&app.db)
        .await;
    ExceptionRow::new(ACME, "TWO-2", at(2))
        .insert(&app.db)
        .await;
    let (_, first) = app.get_json(Some(ACME_KEY), "/v1/exceptions?limit=1").await;
    let created_cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let cases = [
        ("limit=201", "limit", "from 1 to 200"),
        ("limit=0", "limit", "from 1 to 200"),
        ("limit=many", "limit", "from 1 to 200"),
        (
            "status=closed",
            "status",
            "open, analyzing, in_progress, resolved, escalated",
        ),
        ("severity=high", "severity", "LOW, MEDIUM, HIGH, CRITICAL"),
        ("sla=late", "sla", "breached, imminent"),
        ("sort=oldest", "sort", "created, sla_deadline"),
        ("created_after=yesterday", "created_after", "RFC 3339"),
        ("updated_before=2026-13-01", "updated_before", "RFC 3339"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor", "next_cursor"),
        ("stauts=open", "stauts", "status"),
        ("status=open&status=resolved", "status", ""),
    ];

    for (query, parameter, allowed) in cases {
        // Act
        let (status, body) = app
            .get_json(Some(ACME_KEY), &format!("/v1/exceptions?{query}"))
            .await;

        // Assert
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
        let error = body["error"].as_str().expect("an error message");
        assert!(
            error.contains(allowed),
            "{query}: '{error}' should say '{allowed}'"
        );
    }
    // A cursor of one order is no cursor of the other.
    let path = format!("/v1/exceptions?sort=sla_deadline&cursor={created_cursor}");
    let (status, body) = app.get_json(Some(ACME_KEY), &path).await;
    assert_eq!((status, body["parameter"].clone()), (400, json!("cursor")));
    // The operator naming a tenant that does not exist learns which do.
    let (status, body) = app
        .get_json(Some(OPERATOR_KEY), "/v1/exceptions?tenant=initech")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["allowed"]
            .as_str()
            .is_some_and(|known| known.contains(ACME)),
        "{body}"
    );
    // No key, no listing.
    let (status, _) = app.get_json(None, "/v1/exceptions").await;
    assert_eq!(status, 401);

    app.app.shutdown().await;
}
