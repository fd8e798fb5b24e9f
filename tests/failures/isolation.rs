//! Tenant isolation fails closed: another tenant's key cannot read an exception (404, as if it
//! did not exist), the dead-letter API refuses a tenant key (403) and anyone without a valid key (401), and valid
//! events of tenant B naming an id tenant A also uses (an ingestion on `exceptions.ingested`, a
//! triage result on `exceptions.triaged`) act on B's own exception of that id: ids are scoped by
//! tenant, so A's exception stays untouched.

use std::time::Duration;

use exception_worker::app::AppOptions;
use exception_worker::envelope::Envelope;
use exception_worker::model::{event_types, topics};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use test_support::readers::{count, processed_by, statement};
use test_support::{
    ingested, wait_for, Cluster, RawProducer, TestApp, ACME, ACME_KEY, GLOBEX, GLOBEX_KEY,
};

use crate::support::{letters, operator_key_sha256, OPERATOR_KEY, PIPELINE};

const SHARED_ID: &str = "ISOLATED-1";
const LIMIT: Duration = Duration::from_secs(60);

/// The whole row of `tenant`'s exception, as text, to prove it unchanged.
async fn exception_row(app: &TestApp, tenant: &str) -> String {
    let sql = "SELECT row_to_json(x)::text AS j FROM exceptions x WHERE exception_id = $1 AND tenant_id = $2";
    let row = app
        .db
        .query_one_raw(statement(
            &app.db,
            sql,
            vec![SHARED_ID.into(), tenant.into()],
        ))
        .await
        .expect("Failed to read the exception")
        .expect("the exception exists");
    row.try_get("", "j").expect("a JSON row")
}

async fn dead_letters_status(app: &TestApp, key: Option<&str>) -> u16 {
    let mut request = app.client.get(format!("{}/v1/dead-letters", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request
        .send()
        .await
        .expect("Failed to GET")
        .status()
        .as_u16()
}

#[actix_rt::test]
async fn cross_tenant_reads_and_events_fail_closed() {
    let Some(mut cluster) = Cluster::start("isolation").await else {
        return;
    };
    // Arrange: acme's exception, through the whole pipeline.
    cluster.set("OPERATOR_API_KEY_SHA256", &operator_key_sha256());
    let app = cluster.spawn_app(PIPELINE, AppOptions::default()).await;
    let body = json!({"exceptionId": SHARED_ID, "exceptionType": "SETTLEMENT_FAIL", "sourceSystem": "MUREX"});
    let response = app.post_exception(Some(ACME_KEY), &body.to_string()).await;
    assert_eq!(response.status().as_u16(), 202);
    wait_for("policy decided acme's exception", LIMIT, async || {
        processed_by(&app.db, "policy").await == 1
    })
    .await;
    let before = exception_row(&app, ACME).await;

    // Act + Assert: reads.
    let foreign = app.get_exception(Some(GLOBEX_KEY), SHARED_ID).await;
    assert_eq!(
        foreign.status().as_u16(),
        404,
        "globex read acme's exception"
    );
    let foreign_body = foreign.text().await.unwrap_or_default();
    assert!(!foreign_body.contains("SETTLEMENT_FAIL"), "{foreign_body}");
    assert_eq!(
        app.get_exception(Some(ACME_KEY), SHARED_ID)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        app.get_exception(None, SHARED_ID).await.status().as_u16(),
        401
    );
    assert_eq!(dead_letters_status(&app, None).await, 401);
    assert_eq!(dead_letters_status(&app, Some(ACME_KEY)).await, 403);
    assert_eq!(
        dead_letters_status(&app, Some("not-the-operator-key")).await,
        401
    );
    assert_eq!(dead_letters_status(&app, Some(OPERATOR_KEY)).await, 200);

    // Act: globex's valid ingestion of the same id, straight onto the topic.
    let raw = RawProducer::new(&cluster);
    let ingestion = ingested(GLOBEX, SHARED_ID);
    raw.send_envelope(topics::INGESTED, &ingestion).await;
    wait_for("policy decided globex's exception", LIMIT, async || {
        processed_by(&app.db, "policy").await == 2
    })
    .await;
    // Then a triage result for that id under globex's name (acme's, re-signed).
    let triaged = "SELECT envelope AS j FROM events WHERE event_type = $1 AND tenant_id = $2";
    let row = app
        .db
        .query_one_raw(statement(
            &app.db,
            triaged,
            vec![event_types::TRIAGE_COMPLETED.into(), ACME.into()],
        ))
        .await
        .expect("Failed to read the triage event")
        .expect("acme's TriageCompleted");
    let mut forged: Value =
        serde_json::from_str(&row.try_get::<String>("", "j").expect("j")).expect("JSON");
    forged["tenant_id"] = json!(GLOBEX);
    forged["event_id"] = json!(uuid::Uuid::new_v4());
    let forged: Envelope = serde_json::from_value(forged).expect("a valid envelope");
    raw.send_envelope(topics::TRIAGED, &forged).await;
    wait_for(
        "policy handled the re-signed triage result",
        LIMIT,
        async || processed_by(&app.db, "policy").await == 3,
    )
    .await;

    // Assert: both acted on globex's own exception; acme's is untouched and still its own.
    assert!(
        letters(&app.db).await.is_empty(),
        "nothing is dead-lettered"
    );
    assert_eq!(
        exception_row(&app, ACME).await,
        before,
        "acme's exception changed"
    );
    let rows = "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id = $1";
    assert_eq!(count(&app.db, rows, vec![SHARED_ID.into()]).await, 2);
    let own = app.get_exception(Some(GLOBEX_KEY), SHARED_ID).await;
    assert_eq!(own.status().as_u16(), 200);
    let own: Value = own.json().await.expect("a JSON body");
    assert_eq!(own["tenant_id"], json!(GLOBEX));
    let acme: Value = app
        .get_exception(Some(ACME_KEY), SHARED_ID)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(acme["tenant_id"], json!(ACME));
    let ids = |body: &Value| -> Vec<String> {
        body["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|event| event["event_id"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (globex_events, acme_events) = (ids(&own), ids(&acme));
    assert!(!globex_events.is_empty() && !acme_events.is_empty());
    assert!(
        globex_events.iter().all(|id| !acme_events.contains(id)),
        "one tenant's timeline shows the other's events: {globex_events:?} {acme_events:?}"
    );
    app.app.shutdown().await;
}
