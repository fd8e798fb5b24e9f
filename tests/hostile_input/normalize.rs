//! The raw-payload normaliser and intake's `prepare`: arbitrary objects and bytes never panic,
//! rejections are reasoned, PII never survives, ids are deterministic, output stays bounded.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use exception_worker::envelope::Envelope;
use exception_worker::ingest::prepare;
use exception_worker::normalize::{derive_exception_id, normalize};
use proptest::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::config;
use crate::strategies::{json_key, json_object, json_string, json_value, rfc3339_instant};

/// Marks every planted PII value; generated strings never contain it by chance.
const SECRET: &str = "\u{e000}pii-secret\u{e001}";

/// Output may grow (a redacted `0` becomes `"[REDACTED]"`) but only by a small factor.
const GROWTH_FACTOR: usize = 4;

/// Key names normalize reads before redaction (ids, type, source): not PII candidates.
const CONTROL_KEYS: [&str; 8] = [
    "exceptionid",
    "exception_id",
    "exceptiontype",
    "exception_type",
    "sourcesystem",
    "source_system",
    "source",
    "system",
];

/// PII keys as a pack would write them, including letters whose lowercase differs in
/// non-ASCII ways (accents, Cyrillic, the titlecase digraph 'ǅ').
fn pii_keys_as_written() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Z_éÉöÖçÇжЖǆǅǄ][a-zA-Z0-9_éÉöÖçÇжЖǆǅǄ]{0,10}", 1..5).prop_map(
        |keys| {
            keys.into_iter()
                .filter(|key| !CONTROL_KEYS.contains(&key.to_lowercase().as_str()))
                .collect()
        },
    )
}

/// The key with each character kept as written, lowercased or uppercased.
fn recased(key: &str, choices: &[u8]) -> String {
    key.chars()
        .zip(choices.iter().cycle())
        .map(|(c, choice)| match choice % 3 {
            0 => c.to_string(),
            1 => c.to_lowercase().collect(),
            _ => c.to_uppercase().collect(),
        })
        .collect()
}

/// Where and how one PII value is planted: which key, its casing, the wrapping containers
/// (true = array, false = object under a random key) and the value's shape.
type Plant = (usize, Vec<u8>, Vec<(bool, String)>, String, u8);

fn plant() -> impl Strategy<Value = Plant> {
    (
        any::<usize>(),
        prop::collection::vec(any::<u8>(), 1..8),
        prop::collection::vec((any::<bool>(), json_key()), 0..5),
        json_key(),
        any::<u8>(),
    )
}

/// The raw object with every plant applied; PII values hold `SECRET` at some depth.
fn planted(base: Map<String, Value>, keys: &[String], plants: &[Plant]) -> Map<String, Value> {
    let mut raw = base;
    if keys.is_empty() {
        return raw;
    }
    for (which, casing, wrappers, top_key, shape) in plants {
        let key = recased(&keys[which % keys.len()], casing);
        let secret = match shape % 3 {
            0 => Value::String(SECRET.to_owned()),
            1 => serde_json::json!({ "inner": [SECRET, { "deeper": SECRET }] }),
            _ => serde_json::json!([SECRET]),
        };
        let mut value = Value::Object(Map::from_iter([(key, secret)]));
        for (as_array, wrapper_key) in wrappers {
            value = if *as_array {
                Value::Array(vec![Value::Null, value])
            } else {
                Value::Object(Map::from_iter([(wrapper_key.clone(), value)]))
            };
        }
        raw.insert(top_key.clone(), value);
    }
    raw
}

fn lowercased(keys: &[String]) -> HashSet<String> {
    keys.iter().map(|key| key.to_lowercase()).collect()
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn normalize_never_panics_and_rejections_are_reasoned(
        envelope_id in prop::option::of(json_string()),
        event_id in any::<u128>().prop_map(Uuid::from_u128),
        raw in json_object(4, 32),
        pii in prop::collection::hash_set(json_key(), 0..4),
        now in rfc3339_instant(),
    ) {
        match normalize(envelope_id.as_deref(), &event_id, &raw, &pii, now) {
            Ok(normalized) => {
                prop_assert!(!normalized.exception_id.is_empty() || envelope_id.as_deref() == Some(""));
                prop_assert!(!normalized.source_system.is_empty());
            }
            Err(reason) => prop_assert!(!reason.0.trim().is_empty()),
        }
    }

    #[test]
    fn no_pii_value_survives_normalize_or_prepare(
        keys in pii_keys_as_written(),
        base in json_object(3, 24),
        plants in prop::collection::vec(plant(), 1..5),
    ) {
        let pii = lowercased(&keys);
        let raw = planted(base, &keys, &plants);
        let event_id = Uuid::from_u128(7);
        if let Ok(normalized) = normalize(None, &event_id, &raw, &pii, now()) {
            let payload = Value::Object(normalized.payload).to_string();
            prop_assert!(!payload.contains(SECRET), "PII survived normalize: {payload}");
        }
        let body = serde_json::to_vec(&raw).unwrap_or_default();
        if let Ok(envelope) = prepare("acme-capital", &pii, &body, now()) {
            let encoded = envelope.encode();
            prop_assert!(!encoded.contains(SECRET), "PII survived prepare: {encoded}");
        }
    }

    #[test]
    fn the_exception_id_is_deterministic_per_event(
        event_id in any::<u128>().prop_map(Uuid::from_u128),
        other_id in any::<u128>().prop_map(Uuid::from_u128),
        raw in json_object(3, 24),
    ) {
        let pii = HashSet::new();
        let first = normalize(None, &event_id, &raw, &pii, now());
        let second = normalize(None, &event_id, &raw, &pii, now());
        prop_assert_eq!(&first, &second);
        let has_own_id = ["exceptionId", "exception_id"]
            .iter()
            .any(|field| raw.get(*field).is_some_and(|value| !value.is_null()));
        if let (Ok(normalized), false) = (&first, has_own_id) {
            prop_assert_eq!(&normalized.exception_id, &derive_exception_id(&event_id));
            if other_id != event_id {
                prop_assert_ne!(derive_exception_id(&event_id), derive_exception_id(&other_id));
            }
        }
    }

    #[test]
    fn normalized_output_is_bounded_by_the_input(
        raw in json_object(4, 48),
        pii in prop::collection::hash_set(json_key(), 0..6),
    ) {
        let pii: HashSet<String> = pii.iter().map(|key| key.to_lowercase()).collect();
        let input = Value::Object(raw.clone()).to_string().len();
        if let Ok(normalized) = normalize(None, &Uuid::nil(), &raw, &pii, now()) {
            let output = Value::Object(normalized.payload).to_string().len();
            prop_assert!(output <= GROWTH_FACTOR * input + 64, "{input} bytes became {output}");
        }
    }

    #[test]
    fn prepare_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        pii in prop::collection::hash_set(json_key(), 0..4),
    ) {
        if let Err(reason) = prepare("acme-capital", &pii, &bytes, now()) {
            prop_assert!(!reason.0.trim().is_empty());
        }
    }

    #[test]
    fn prepared_envelopes_are_bounded_and_decode_back(
        value in prop_oneof![1 => json_value(4, 32), 4 => json_object(4, 32).prop_map(Value::Object)],
        pretty in any::<bool>(),
        pii in prop::collection::hash_set(json_key(), 0..6),
    ) {
        let pii: HashSet<String> = pii.iter().map(|key| key.to_lowercase()).collect();
        let body = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) };
        let body = body.unwrap_or_default();
        match prepare("acme-capital", &pii, &body, now()) {
            Ok(envelope) => {
                let encoded = envelope.encode();
                prop_assert!(
                    encoded.len() <= GROWTH_FACTOR * body.len() + 512,
                    "{} bytes became {}", body.len(), encoded.len()
                );
                // What intake accepts, its consumer must be able to read back.
                let decoded = Envelope::decode(encoded.as_bytes(), false);
                prop_assert_eq!(decoded, Ok(envelope));
            }
            Err(reason) => prop_assert!(!reason.0.trim().is_empty()),
        }
    }
}

#[test]
fn a_key_written_with_a_titlecase_letter_is_redacted() {
    // 'ǅ' is neither upper- nor lowercase, yet lowercases to 'ǆ'.
    let keys = vec!["ǅ".to_owned()];
    let raw = planted(
        Map::new(),
        &keys,
        &[(0, vec![0], vec![], "k".to_owned(), 0)],
    );
    let normalized = normalize(None, &Uuid::nil(), &raw, &lowercased(&keys), now());
    let payload = Value::Object(normalized.map(|n| n.payload).unwrap_or_default()).to_string();
    assert!(!payload.contains(SECRET), "{payload}");
}
