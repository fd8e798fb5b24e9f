//! GET /v1/exceptions page by page: a cursor chain visits every exception exactly once, in
//! either order, while exceptions arrive between pages; a tenant never sees another tenant's
//! exceptions (nor pages with its cursors), and the operator sees every tenant's.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use test_support::rows::ExceptionRow;
use test_support::{
    on_both_backends, Backend, Setup, TestApp, TestDb, ACME, ACME_KEY, GLOBEX, GLOBEX_KEY,
};

use crate::listing::ids;

on_both_backends!(
    a_cursor_chain_visits_every_exception_once_while_others_arrive,
    a_tenant_sees_only_its_own_exceptions_and_the_operator_all
);

const OPERATOR_KEY: &str = "listing-pages-operator-key";

async fn spawn(test_db: &TestDb) -> TestApp {
    Setup::new(test_db).operator_key(OPERATOR_KEY).spawn().await
}

fn at(seconds: i64) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single();
    base.expect("a valid date") + Duration::seconds(seconds)
}

/// Follows the cursor chain of `query` as `key`, calling `between` after each page but the
/// last; answers the ids in the order visited.
async fn walk(
    app: &TestApp,
    key: &str,
    query: &str,
    mut between: impl AsyncFnMut(usize),
) -> Vec<String> {
    let mut visited = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let path = match &cursor {
            Some(cursor) => format!("/v1/exceptions?{query}&cursor={cursor}"),
            None => format!("/v1/exceptions?{query}"),
        };
        let (status, body) = app.get_json(Some(key), &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        visited.extend(ids(&body));
        match &body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => break,
            other => panic!("next_cursor {other}"),
        }
        between(page).await;
    }
    visited
}

fn assert_each_once(visited: &[String], expected: &BTreeSet<String>, what: &str) {
    let distinct: BTreeSet<String> = visited.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        visited.len(),
        "{what}: an id visited twice: {visited:?}"
    );
    let missed: Vec<_> = expected.difference(&distinct).collect();
    assert!(missed.is_empty(), "{what}: never visited {missed:?}");
}

async fn a_cursor_chain_visits_every_exception_once_while_others_arrive(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: 25 exceptions, two created each second, two in three with an SLA deadline
    // (several sharing one).
    let app = spawn(&test_db).await;
    let mut originals = BTreeSet::new();
    for n in 0..25 {
        let mut row = ExceptionRow::new(ACME, &format!("C-{n:02}"), at(n / 2));
        row.sla_deadline = (n % 3 != 0).then(|| at(3600 + (n % 4) * 60));
        row.insert(&app.db).await;
        originals.insert(row.exception_id);
    }

    for sort in ["created", "sla_deadline"] {
        // Act: between pages, one exception newer than all and one older than all arrive.
        let mut older = BTreeSet::new();
        let visited = walk(
            &app,
            ACME_KEY,
            &format!("sort={sort}&limit=4"),
            async |page| {
                let newer = ExceptionRow::new(ACME, &format!("NEW-{sort}-{page}"), Utc::now());
                newer.insert(&app.db).await;
                let older_than_all = at(-86_400 - page as i64);
                let mut old =
                    ExceptionRow::new(ACME, &format!("OLD-{sort}-{page}"), older_than_all);
                old.sla_deadline = Some(at(999_999));
                old.insert(&app.db).await;
                older.insert(old.exception_id);
            },
        )
        .await;

        // Assert: every original once, nothing twice; newest first, what arrived older than
        // the position is reached too.
        assert_each_once(&visited, &originals, sort);
        if sort == "created" {
            assert_each_once(&visited, &older, "created: the older arrivals");
            assert!(
                visited.iter().all(|id| !id.starts_with("NEW-")),
                "{visited:?}"
            );
        }
    }

    app.app.shutdown().await;
}

async fn a_tenant_sees_only_its_own_exceptions_and_the_operator_all(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange: each tenant has its own exceptions, and both have one named SAME-1.
    let app = spawn(&test_db).await;
    let mut all = BTreeSet::new();
    for (tenant, count) in [(ACME, 7), (GLOBEX, 5)] {
        for n in 0..count {
            let id = format!("{tenant}-{n}");
            ExceptionRow::new(tenant, &id, at(n)).insert(&app.db).await;
            all.insert(format!("{tenant}/{id}"));
        }
        ExceptionRow::new(tenant, "SAME-1", at(100))
            .insert(&app.db)
            .await;
        all.insert(format!("{tenant}/SAME-1"));
    }
    let tenant_of = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["tenant_id"].as_str().expect("a tenant").to_owned())
            .collect()
    };

    // Act + Assert: each key sees its tenant only, whatever it asks for.
    for (key, tenant, count) in [(ACME_KEY, ACME, 8), (GLOBEX_KEY, GLOBEX, 6)] {
        let (status, body) = app.get_json(Some(key), "/v1/exceptions?q=SAME").await;
        assert_eq!((status, tenant_of(&body)), (200, vec![tenant.to_owned()]));
        let visited = walk(&app, key, "limit=3", async |_| {}).await;
        assert_eq!(visited.len(), count, "{tenant}: {visited:?}");
        let own = |id: &String| id == "SAME-1" || id.starts_with(tenant);
        assert!(visited.iter().all(own), "{tenant}: {visited:?}");
    }
    let (status, _) = app
        .get_json(Some(ACME_KEY), &format!("/v1/exceptions?tenant={GLOBEX}"))
        .await;
    assert_eq!(status, 403, "a tenant key named another tenant");
    let (status, _) = app
        .get_json(Some(ACME_KEY), &format!("/v1/exceptions?tenant={ACME}"))
        .await;
    assert_eq!(status, 200, "a tenant key may name its own tenant");
    // A cursor of acme's pages does not page through globex's.
    let (_, first) = app.get_json(Some(ACME_KEY), "/v1/exceptions?limit=2").await;
    let cursor = first["next_cursor"].as_str().expect("a cursor");
    let (status, body) = app
        .get_json(Some(GLOBEX_KEY), &format!("/v1/exceptions?cursor={cursor}"))
        .await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("cursor")));

    // The operator: every tenant, or the one it names.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/exceptions?limit=5&cursor={cursor}"),
            None => "/v1/exceptions?limit=5".to_owned(),
        };
        let (status, body) = app.get_json(Some(OPERATOR_KEY), &path).await;
        assert_eq!(status, 200, "{body}");
        for item in body["items"].as_array().expect("items") {
            seen.push(format!(
                "{}/{}",
                item["tenant_id"].as_str().expect("a tenant"),
                item["exception_id"].as_str().expect("an id")
            ));
        }
        let Some(next) = body["next_cursor"].as_str() else {
            break;
        };
        cursor = Some(next.to_owned());
    }
    assert_eq!(seen.len(), all.len(), "{seen:?}");
    assert_each_once(&seen, &all, "the operator's chain");
    let (status, body) = app
        .get_json(
            Some(OPERATOR_KEY),
            &format!("/v1/exceptions?tenant={GLOBEX}&limit=200"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tenant_of(&body), vec![GLOBEX.to_owned(); 6]);

    app.app.shutdown().await;
}
