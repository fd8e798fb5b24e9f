//! No unbounded allocation and no stack overflow: a 10 MB run of '[' and 100k-deep arrays,
//! bare and inside otherwise valid messages, are refused quickly on a 256 KiB stack.
//! serde_json stops at 128 levels; in debug builds 128 levels of objects need about 300 KiB
//! (arrays far less), so deep objects get a 512 KiB stack: still a quarter of a thread's 2 MiB.

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use exception_worker::envelope::{Envelope, EnvelopeError, MAX_ENVELOPE_BYTES};
use exception_worker::ingest::{prepare, MAX_RAW_EXCEPTION_BYTES};
use exception_worker::normalize::normalize;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::config;

const SMALL_STACK: usize = 256 * 1024;
const OBJECT_STACK: usize = 512 * 1024;
const QUICKLY: Duration = Duration::from_secs(5);

/// Runs `check` on a thread with a `stack_size` stack and joins it; an overflow would abort.
fn on_small_stack(name: &str, stack_size: usize, check: impl FnOnce() + Send + 'static) {
    let started = Instant::now();
    let outcome = thread::Builder::new()
        .name(name.to_owned())
        .stack_size(stack_size)
        .spawn(check)
        .unwrap_or_else(|error| panic!("spawn {name}: {error}"))
        .join();
    assert!(outcome.is_ok(), "{name} panicked");
    assert!(
        started.elapsed() < QUICKLY,
        "{name} took {:?}",
        started.elapsed()
    );
}

fn brackets(depth: usize) -> String {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text
}

/// A valid envelope's JSON with `"payload": {"deep": <marker>}`, the marker replaced by `deep`.
fn envelope_around(deep: &str) -> Vec<u8> {
    let envelope = Envelope::with_id(
        Uuid::nil(),
        "ExceptionIngested",
        "acme-capital",
        Some("EX-1".to_owned()),
        json!({ "deep": "MARKER" })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        Utc::now(),
    );
    envelope.encode().replace("\"MARKER\"", deep).into_bytes()
}

fn assert_decode_refused(bytes: &[u8]) {
    for allow_future_schema in [false, true] {
        let error = Envelope::decode(bytes, allow_future_schema)
            .expect_err("hostile input must be refused");
        assert!(!error.to_string().trim().is_empty());
        if bytes.len() > MAX_ENVELOPE_BYTES {
            assert_eq!(error, EnvelopeError::TooLarge(bytes.len()));
        }
    }
}

fn assert_prepare_refused(bytes: &[u8]) {
    let reason = prepare("acme-capital", &HashSet::new(), bytes, Utc::now())
        .expect_err("hostile input must be refused");
    assert!(!reason.0.trim().is_empty());
}

#[test]
fn ten_megabytes_of_open_brackets_are_refused_quickly() {
    on_small_stack("ten-mb-brackets", SMALL_STACK, || {
        let bytes = vec![b'['; 10 * 1024 * 1024];
        assert_decode_refused(&bytes);
        assert_prepare_refused(&bytes);
        // Just under each limit, so the parser itself has to give up.
        assert_decode_refused(&bytes[..MAX_ENVELOPE_BYTES]);
        assert_prepare_refused(&bytes[..MAX_RAW_EXCEPTION_BYTES]);
    });
}

#[test]
fn arrays_nested_100k_deep_are_refused_quickly() {
    on_small_stack("100k-deep", SMALL_STACK, || {
        let deep = brackets(100_000);
        assert_decode_refused(deep.as_bytes());
        assert_prepare_refused(deep.as_bytes());
        assert_decode_refused(&envelope_around(&deep));
        assert_prepare_refused(format!("{{\"deep\": {deep}}}").as_bytes());
    });
}

#[test]
fn objects_nested_deep_are_refused_quickly() {
    on_small_stack("deep-objects", OBJECT_STACK, || {
        let objects = |depth: usize| "{\"a\":".repeat(depth) + &"}".repeat(depth);
        // 100k levels are 600 KB: over intake's body limit, under the envelope limit.
        assert_decode_refused(&envelope_around(&objects(100_000)));
        assert_prepare_refused(objects(100_000).as_bytes());
        assert_prepare_refused(objects(40_000).as_bytes());
    });
}

#[test]
fn the_largest_amplifying_body_still_fits_an_envelope() {
    // `1e15` (4 bytes) re-encodes as `1000000000000000.0` (18 bytes): the worst growth a
    // body can get, at the largest accepted body size.
    let mut body = String::from("{\"a\":[1e15");
    while body.len() + 7 <= MAX_RAW_EXCEPTION_BYTES {
        body.push_str(",1e15");
    }
    body.push_str("]}");
    let envelope = prepare("acme-capital", &HashSet::new(), body.as_bytes(), Utc::now())
        .expect("a valid body within the limit is accepted");
    let encoded = envelope.encode();
    assert!(
        encoded.len() <= MAX_ENVELOPE_BYTES,
        "{} bytes",
        encoded.len()
    );
    assert_eq!(Envelope::decode(encoded.as_bytes(), false), Ok(envelope));
}

/// A body object holding one container per entry of `kinds` (true = array, false = object
/// under key "a"), outermost first.
fn nested_body(kinds: &[bool]) -> String {
    let mut body = String::from("{\"a\":");
    for as_array in kinds {
        body.push_str(if *as_array { "[" } else { "{\"a\":" });
    }
    body.push_str("null");
    for as_array in kinds.iter().rev() {
        body.push(if *as_array { ']' } else { '}' });
    }
    body.push('}');
    body
}

proptest! {
    #![proptest_config(config(64))]

    /// Around serde_json's 128-level limit: a body intake accepts stays decodable in its
    /// envelope and in the ExceptionNormalized event that wraps it once more.
    #[test]
    fn bodies_near_the_depth_limit_are_refused_or_decodable_downstream(
        kinds in prop::collection::vec(any::<bool>(), 90..140),
    ) {
        let body = nested_body(&kinds);
        let levels = kinds.len() + 1;
        match prepare("acme-capital", &HashSet::new(), body.as_bytes(), Utc::now()) {
            Ok(envelope) => {
                let decoded = Envelope::decode(envelope.encode().as_bytes(), false);
                prop_assert_eq!(decoded.as_ref(), Ok(&envelope), "{} levels", levels);
                let normalized = normalize(
                    envelope.exception_id.as_deref(),
                    &envelope.event_id,
                    &envelope.payload,
                    &HashSet::new(),
                    envelope.timestamp,
                );
                let normalized = normalized.map_err(|invalid| TestCaseError::fail(invalid.0))?;
                // The shape intake emits (src/roles/intake.rs): the payload one level down.
                let wrapped = json!({
                    "exception_id": normalized.exception_id,
                    "payload": normalized.payload,
                });
                let next = Envelope::with_id(
                    Uuid::nil(),
                    "ExceptionNormalized",
                    "acme-capital",
                    Some(normalized.exception_id.clone()),
                    wrapped.as_object().cloned().unwrap_or_default(),
                    envelope.timestamp,
                );
                let decoded = Envelope::decode(next.encode().as_bytes(), false);
                prop_assert_eq!(decoded, Ok(next), "{} levels", levels);
            }
            Err(reason) => prop_assert!(!reason.0.trim().is_empty()),
        }
    }
}
