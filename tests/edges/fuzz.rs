//! A fuzz run of the HTTP API against the live binary: random methods, paths (valid routes with
//! hostile ids and made-up routes), keys (none, garbage, each tenant's, the operator's) and
//! bodies (random bytes, JSON of every shape, oversized). No request may get a 5xx, and after
//! the run the process is live, ready and processes a valid exception.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sha2::Digest;

use crate::embedded_worker;

const CASES: u32 = 600;
const OPERATOR_KEY: &str = "fuzz-operator-key";

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    key: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,12}",
        Just("ACME-PM-1".to_owned()),
        Just("..%2F..%2Fetc".to_owned()),
        Just("%00".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        "\\PC{1,20}"
            .prop_map(|text| text
                .chars()
                .filter(|c| !c.is_control()
                    && !c.is_whitespace()
                    && *c != '/'
                    && *c != '?'
                    && *c != '#')
                .collect::<String>())
            .prop_filter("a segment", |text| !text.is_empty()),
        "[a-z]{300}",
    ]
}

/// A route and a method: mostly the API's own pairs, some of them with the wrong method, some
/// made up.
fn route() -> impl Strategy<Value = (&'static str, String)> {
    let any_method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PUT"),
        Just("DELETE"),
        Just("PATCH")
    ];
    prop_oneof![
        4 => Just(("POST", "/v1/exceptions".to_owned())),
        2 => segment().prop_map(|id| ("GET", format!("/v1/exceptions/{}", escape(&id)))),
        2 => (segment(), segment()).prop_map(|(id, step)| {
            ("POST", format!("/v1/exceptions/{}/steps/{}/complete", escape(&id), escape(&step)))
        }),
        1 => "(pending|replayed|discarded|all|bogus|)"
            .prop_map(|status| ("GET", format!("/v1/dead-letters?status={status}&limit=5"))),
        1 => segment().prop_map(|id| ("GET", format!("/v1/dead-letters/{}", escape(&id)))),
        1 => segment().prop_map(|id| ("POST", format!("/v1/dead-letters/{}/replay", escape(&id)))),
        1 => (any_method, segment()).prop_map(|(method, id)| (method, format!("/v1/{}", escape(&id)))),
        1 => prop_oneof![Just("/healthz"), Just("/readyz"), Just("/metrics")]
            .prop_map(|path| ("GET", path.to_owned())),
    ]
}

/// Percent-encodes what a URL path cannot carry as is.
fn escape(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'%' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("exceptionId".to_owned()),
                    Just("exceptionType".to_owned()),
                    Just("actor".to_owned()),
                    Just("comment".to_owned()),
                    "[a-zA-Z]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..2048),
        json_value().prop_map(|value| value.to_string().into_bytes()),
        json_value().prop_map(
            |value| serde_json::json!({"exceptionId": value, "error": "fuzz"})
                .to_string()
                .into_bytes()
        ),
        Just(vec![b'{'; 300 * 1024]),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    (
        route(),
        prop_oneof![
            1 => Just(None),
            3 => Just(Some("acme-demo-key".to_owned())),
            1 => Just(Some("globex-demo-key".to_owned())),
            1 => Just(Some(OPERATOR_KEY.to_owned())),
            1 => "[ -~]{0,80}".prop_map(Some),
        ],
        prop_oneof![
            Just(None),
            Just(Some("application/json")),
            Just(Some("text/plain"))
        ],
        body(),
    )
        .prop_map(|((method, path), key, content_type, body)| Request {
            method,
            path,
            key,
            content_type,
            body,
        })
}

#[test]
fn a_fuzz_run_of_the_api_gets_no_5xx_and_leaves_the_process_working() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let sha = hex::encode(sha2::Sha256::digest(OPERATOR_KEY.as_bytes()));
    let worker = embedded_worker("fuzz", dir.path(), &[("OPERATOR_API_KEY_SHA256", &sha)]);
    runtime.block_on(worker.wait_ready(Duration::from_secs(30)));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a client");
    let base = worker.url("");
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());

    // Act + Assert per request.
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&request(), |request| {
        let status = runtime.block_on(async {
            let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("a method");
            let mut builder = client
                .request(method, format!("{base}{}", request.path))
                .body(request.body.clone());
            if let Some(key) = &request.key {
                builder = builder.header("Authorization", format!("Bearer {key}"));
            }
            if let Some(content_type) = request.content_type {
                builder = builder.header("Content-Type", content_type);
            }
            builder
                .send()
                .await
                .map(|response| response.status().as_u16())
        });
        if let Ok(status) = &status {
            *statuses.borrow_mut().entry(*status).or_default() += 1;
        }
        match status {
            Ok(status) => prop_assert!(
                status < 500,
                "{} {} answered {status}",
                request.method,
                request.path
            ),
            // The server may close a connection whose body it refused before reading it.
            Err(error) => prop_assert!(
                error.is_request() || error.is_body() || error.is_connect(),
                "{} {} failed: {error}",
                request.method,
                request.path
            ),
        }
        Ok(())
    });
    eprintln!("fuzz run: responses by status {:?}", statuses.borrow());
    if let Err(failure) = outcome {
        panic!("{failure}");
    }

    // Assert: live, ready, and still processing.
    runtime.block_on(async {
        assert!(matches!(worker.get("/healthz").await, Some((200, _))));
        assert!(matches!(worker.get("/readyz").await, Some((200, _))));
        let posted = client
            .post(format!("{base}/v1/exceptions"))
            .bearer_auth("acme-demo-key")
            .body(r#"{"exceptionId": "AFTER-FUZZ-1", "error": "after the fuzz run"}"#)
            .send()
            .await
            .expect("Failed to POST");
        assert_eq!(posted.status().as_u16(), 202);
        test_support::wait_for(
            "the exception after the fuzz run is decided",
            Duration::from_secs(10),
            async || {
                let Ok(response) = client
                    .get(format!("{base}/v1/exceptions/AFTER-FUZZ-1"))
                    .bearer_auth("acme-demo-key")
                    .send()
                    .await
                else {
                    return false;
                };
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                body["policy_decision"].is_string()
            },
        )
        .await;
    });
}
