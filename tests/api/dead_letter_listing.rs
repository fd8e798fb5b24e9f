//! GET /v1/dead-letters: newest first, each filter narrows the listing to exactly its letters,
//! a cursor chain visits each letter once while new ones arrive, bad values are 400s naming
//! what is allowed, and only the operator key lists them. Bulk actions: dead_letter_bulk.rs.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use test_support::rows::DeadLetterRow;
use test_support::{on_both_backends, Backend, Setup, TestApp, TestDb, ACME, ACME_KEY, GLOBEX};

on_both_backends!(
    each_filter_narrows_the_dead_letters,
    a_cursor_chain_visits_every_dead_letter_once,
    bad_values_and_wrong_keys_are_refused
);

pub const OPERATOR_KEY: &str = "dead-letter-listing-operator-key";

/// The app with the operator API on.
pub async fn spawn(test_db: &TestDb) -> TestApp {
    Setup::new(test_db).operator_key(OPERATOR_KEY).spawn().await
}

fn letter_ids(body: &Value) -> Vec<i64> {
    body["dead_letters"]
        .as_array()
        .unwrap_or_else(|| panic!("no dead_letters in {body}"))
        .iter()
        .map(|letter| letter["id"].as_i64().expect("an id"))
        .collect()
}

async fn each_filter_narrows_the_dead_letters(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn(&test_db).await;
    let shapes = [
        ("intake", ACME, "permanent", "tenant violation", "pending"),
        (
            "triage",
            ACME,
            "transient",
            "Timeout talking to the rules",
            "pending",
        ),
        (
            "triage",
            GLOBEX,
            "permanent",
            "100% broken_field",
            "pending",
        ),
        ("policy", GLOBEX, "transient", "timeout again", "replayed"),
        ("intake", ACME, "permanent", "bad", "discarded"),
    ];
    let mut ids = Vec::new();
    for (offset, (role, tenant, class, reason, status)) in shapes.into_iter().enumerate() {
        let mut row = DeadLetterRow::new(offset as i64, tenant);
        (row.role, row.error_class) = (role.into(), class.into());
        (row.reason, row.status) = (reason.into(), status.into());
        ids.push(row.insert(&app.db).await);
    }
    let [first, second, third, fourth, fifth] = ids[..] else {
        panic!("five ids");
    };
    let cases = [
        ("", vec![third, second, first]),
        ("status=all", vec![fifth, fourth, third, second, first]),
        ("status=replayed", vec![fourth]),
        ("status=discarded", vec![fifth]),
        ("role=triage", vec![third, second]),
        ("error_class=transient", vec![second]),
        ("tenant=globex-markets", vec![third]),
        ("reason=TIMEOUT", vec![second]),
        ("status=all&reason=timeout", vec![fourth, second]),
        ("reason=%25", vec![third]),
        ("reason=n_f", vec![third]),
        ("reason=n_fx", vec![]),
        (
            "status=all&role=policy&error_class=transient&tenant=globex-markets",
            vec![fourth],
        ),
    ];

    for (query, expected) in cases {
        // Act
        let (status, body) = app
            .get_json(Some(OPERATOR_KEY), &format!("/v1/dead-letters?{query}"))
            .await;

        // Assert
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(letter_ids(&body), expected, "{query}");
        assert_eq!(body["next_cursor"], Value::Null, "{query}");
    }

    app.app.shutdown().await;
}

async fn a_cursor_chain_visits_every_dead_letter_once(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: twelve letters.
    let app = spawn(&test_db).await;
    let mut originals = BTreeSet::new();
    for offset in 0..12 {
        originals.insert(DeadLetterRow::new(offset, ACME).insert(&app.db).await);
    }

    // Act: five at a time; a new letter arrives after each page.
    let mut visited = Vec::new();
    let mut cursor: Option<String> = None;
    let mut offset = 100;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/dead-letters?limit=5&cursor={cursor}"),
            None => "/v1/dead-letters?limit=5".to_owned(),
        };
        let (status, body) = app.get_json(Some(OPERATOR_KEY), &path).await;
        assert_eq!(status, 200, "{body}");
        visited.extend(letter_ids(&body));
        let Some(next) = body["next_cursor"].as_str() else {
            break;
        };
        cursor = Some(next.to_owned());
        DeadLetterRow::new(offset, ACME).insert(&app.db).await;
        offset += 1;
    }

    // Assert: the twelve, once each, newest first; the newcomers are above the chain.
    let expected: Vec<i64> = originals.iter().rev().copied().collect();
    assert_eq!(visited, expected);

    app.app.shutdown().await;
}

async fn bad_values_and_wrong_keys_are_refused(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = spawn(&test_db).await;
    let cases = [
        ("status=lost", "status", "pending, replayed, discarded, all"),
        ("role=boss", "role", "intake, triage, policy"),
        (
            "error_class=fatal",
            "error_class",
            "permanent, infrastructure, transient",
        ),
        ("limit=201", "limit", "from 1 to 200"),
        ("limit=1000", "limit", "from 1 to 200"),
        ("cursor=e30", "cursor", "next_cursor"),
        ("tennant=acme", "tennant", "tenant"),
    ];

    for (query, parameter, allowed) in cases {
        // Act
        let (status, body) = app
            .get_json(Some(OPERATOR_KEY), &format!("/v1/dead-letters?{query}"))
            .await;

        // Assert
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["parameter"], parameter, "{query}");
        let error = body["error"].as_str().expect("an error message");
        assert!(
            error.contains(allowed),
            "{query}: '{error}' should say '{allowed}'"
        );
    }
    let (status, body) = app
        .get_json(Some(OPERATOR_KEY), "/v1/dead-letters?limit=200")
        .await;
    assert_eq!((status, body["dead_letters"].clone()), (200, json!([])));
    // A tenant key is no operator key, on every dead-letter route; no key is a 401.
    let filter = json!({"dry_run": true});
    let (status, _) = app.get_json(Some(ACME_KEY), "/v1/dead-letters").await;
    assert_eq!(status, 403, "GET with a tenant key");
    for action in ["replay", "discard"] {
        let path = format!("/v1/dead-letters/{action}");
        let (status, _) = app.post_json(Some(ACME_KEY), &path, &filter).await;
        assert_eq!(status, 403, "{action} with a tenant key");
        let (status, _) = app.post_json(None, &path, &filter).await;
        assert_eq!(status, 401, "{action} without a key");
    }
    let (status, _) = app.get_json(None, "/v1/dead-letters").await;
    assert_eq!(status, 401, "GET without a key");

    app.app.shutdown().await;
}
