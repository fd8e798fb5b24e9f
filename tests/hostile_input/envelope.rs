//! `Envelope::decode` against arbitrary bytes, arbitrary JSON and near-valid envelopes with one
//! field mutated: no panic, every rejection reasoned, and exact encode/decode round trips.

use exception_worker::envelope::{Envelope, EnvelopeError, MAX_ENVELOPE_BYTES};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::config;
use crate::strategies::{json_object, json_string, json_value, nest_in_arrays, valid_envelope};

const FIELDS: [&str; 9] = [
    "event_id",
    "event_type",
    "tenant_id",
    "exception_id",
    "timestamp",
    "correlation_id",
    "payload",
    "metadata",
    "version",
];

/// One way of breaking an otherwise valid envelope.
#[derive(Debug, Clone)]
enum Mutation {
    WrongValue(usize, Value),
    Missing(usize),
    ExtraKey(String, Value),
    HugeString(usize, usize),
    DeepNesting(usize, usize),
    DuplicateKey(usize, Value),
    InvalidUtf8(usize, Vec<u8>),
    Truncated(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let field = 0..FIELDS.len();
    let invalid_utf8 = prop_oneof![
        Just(vec![0xff]),
        Just(vec![0xc0, 0x80]),
        Just(vec![0xed, 0xa0, 0x80]),
        Just(vec![0xe2, 0x82]),
        Just(vec![0x80]),
        prop::collection::vec(0x80u8..=0xff, 1..4),
    ];
    prop_oneof![
        (field.clone(), json_value(3, 16)).prop_map(|(f, v)| Mutation::WrongValue(f, v)),
        field.clone().prop_map(Mutation::Missing),
        (json_string(), json_value(2, 8)).prop_map(|(k, v)| Mutation::ExtraKey(k, v)),
        (field.clone(), 1_000usize..200_000).prop_map(|(f, n)| Mutation::HugeString(f, n)),
        (field.clone(), 100usize..400).prop_map(|(f, d)| Mutation::DeepNesting(f, d)),
        (field, json_value(1, 4)).prop_map(|(f, v)| Mutation::DuplicateKey(f, v)),
        (any::<usize>(), invalid_utf8).prop_map(|(at, bytes)| Mutation::InvalidUtf8(at, bytes)),
        any::<usize>().prop_map(Mutation::Truncated),
    ]
}

/// The envelope as JSON bytes with the mutation applied.
fn mutated_bytes(envelope: &Envelope, mutation: &Mutation) -> Vec<u8> {
    let mut object = match serde_json::to_value(envelope) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    match mutation {
        Mutation::WrongValue(field, value) => {
            object.insert(FIELDS[*field].to_owned(), value.clone());
        }
        Mutation::Missing(field) => {
            object.remove(FIELDS[*field]);
        }
        Mutation::ExtraKey(key, value) => {
            object.insert(key.clone(), value.clone());
        }
        Mutation::HugeString(field, length) => {
            let text = "x".repeat(*length);
            let value = if FIELDS[*field] == "payload" {
                json!({ "huge": text })
            } else {
                Value::String(text)
            };
            object.insert(FIELDS[*field].to_owned(), value);
        }
        Mutation::DeepNesting(field, depth) => {
            let deep = nest_in_arrays(json!({}), *depth);
            let value = if FIELDS[*field] == "payload" {
                json!({ "deep": deep })
            } else {
                deep
            };
            object.insert(FIELDS[*field].to_owned(), value);
        }
        _ => {}
    }
    let mut bytes = serde_json::to_vec(&object).unwrap_or_default();
    match mutation {
        Mutation::DuplicateKey(field, value) => {
            let extra = format!(",{}:{}", json!(FIELDS[*field]), value);
            let at = bytes.len().saturating_sub(1);
            bytes.splice(at..at, extra.into_bytes());
        }
        Mutation::InvalidUtf8(at, garbage) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, garbage.iter().copied());
        }
        Mutation::Truncated(at) => bytes.truncate(at % (bytes.len() + 1)),
        _ => {}
    }
    bytes
}

/// Every rejection must say why: a non-empty display and a non-empty inner reason.
pub fn check_reasoned(error: &EnvelopeError) -> Result<(), TestCaseError> {
    prop_assert!(!error.to_string().trim().is_empty(), "{error:?}");
    match error {
        EnvelopeError::Undecodable(reason) | EnvelopeError::InvalidField { reason, .. } => {
            prop_assert!(!reason.trim().is_empty(), "{error:?}");
        }
        EnvelopeError::TooLarge(size) => prop_assert!(*size > MAX_ENVELOPE_BYTES),
        EnvelopeError::FutureVersion(version) => prop_assert!(*version > 1),
    }
    Ok(())
}

/// Decodes with and without future versions; an accepted envelope must survive a second
/// encode/decode unchanged, and a rejection must carry its reason.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    for allow_future_schema in [false, true] {
        match Envelope::decode(bytes, allow_future_schema) {
            Ok(decoded) => {
                prop_assert!(!decoded.correlation_id.is_empty());
                let again = Envelope::decode(decoded.encode().as_bytes(), allow_future_schema);
                prop_assert_eq!(again.as_ref(), Ok(&decoded));
            }
            Err(error) => check_reasoned(&error)?,
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic_and_rejections_are_reasoned(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        check_decode(&bytes)?;
    }

    #[test]
    fn arbitrary_json_never_panics_and_rejections_are_reasoned(value in json_value(5, 64)) {
        check_decode(value.to_string().as_bytes())?;
    }

    #[test]
    fn arbitrary_objects_with_envelope_keys_are_decoded_or_reasoned(
        object in json_object(3, 24),
        field_values in prop::collection::vec((0..FIELDS.len(), json_value(2, 8)), 0..9),
    ) {
        let mut object = object;
        for (field, value) in field_values {
            object.insert(FIELDS[field].to_owned(), value);
        }
        check_decode(Value::Object(object).to_string().as_bytes())?;
    }

    #[test]
    fn valid_envelopes_round_trip_exactly(envelope in valid_envelope(1)) {
        let encoded = envelope.encode();
        prop_assert_eq!(Envelope::decode(encoded.as_bytes(), false), Ok(envelope.clone()));
        prop_assert_eq!(Envelope::decode(encoded.as_bytes(), true), Ok(envelope));
    }

    #[test]
    fn future_versions_round_trip_only_when_allowed(envelope in valid_envelope(u32::MAX)) {
        let encoded = envelope.encode();
        prop_assert_eq!(Envelope::decode(encoded.as_bytes(), true), Ok(envelope.clone()));
        match Envelope::decode(encoded.as_bytes(), false) {
            Ok(decoded) => prop_assert_eq!(decoded.version, 1),
            Err(error) => {
                prop_assert_eq!(&error, &EnvelopeError::FutureVersion(envelope.version));
                check_reasoned(&error)?;
            }
        }
    }

    #[test]
    fn a_missing_correlation_id_defaults_to_the_exception_or_event(
        envelope in valid_envelope(1),
    ) {
        let mut envelope = envelope;
        envelope.correlation_id.clear();
        let decoded = Envelope::decode(envelope.encode().as_bytes(), false);
        let expected = envelope
            .exception_id
            .clone()
            .unwrap_or_else(|| envelope.event_id.to_string());
        prop_assert_eq!(decoded.map(|d| d.correlation_id), Ok(expected));
    }

    #[test]
    fn near_valid_envelopes_are_decoded_or_reasoned(
        envelope in valid_envelope(2),
        mutation in mutation(),
    ) {
        let bytes = mutated_bytes(&envelope, &mutation);
        check_decode(&bytes)?;
        if let Mutation::DeepNesting(_, depth) = mutation {
            // serde_json stops at 128 levels: anything deeper must be refused, with a reason.
            if depth >= 128 {
                prop_assert!(Envelope::decode(&bytes, true).is_err());
            }
        }
    }
}

proptest! {
    // Each case allocates over a megabyte; a few cases cover the size check.
    #![proptest_config(config(12))]

    #[test]
    fn oversized_input_is_refused_before_parsing(
        extra in 1usize..4096,
        filler in prop_oneof![Just(b' '), Just(b'['), Just(b'{'), any::<u8>()],
    ) {
        let bytes = vec![filler; MAX_ENVELOPE_BYTES + extra];
        for allow_future_schema in [false, true] {
            let error = Envelope::decode(&bytes, allow_future_schema);
            prop_assert_eq!(&error, &Err(EnvelopeError::TooLarge(bytes.len())));
            if let Err(error) = error {
                check_reasoned(&error)?;
            }
        }
    }
}
