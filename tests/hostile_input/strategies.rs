//! Shared proptest strategies: JSON values of bounded depth and size, hostile strings and
//! keys, valid envelopes, and timestamps inside the RFC 3339 range.

use chrono::{DateTime, TimeZone, Utc};
use exception_worker::envelope::Envelope;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use uuid::Uuid;

/// Keys the code under test looks at, so generated payloads reach the interesting branches.
pub const KNOWN_KEYS: &[&str] = &[
    "exceptionId",
    "exception_id",
    "exceptionType",
    "exception_type",
    "errorCode",
    "error_code",
    "error",
    "errorMessage",
    "amount",
    "currency",
    "priceDiffBps",
    "counterparty",
    "riskRating",
    "sourceSystem",
    "source",
    "timestamp",
    "eventTime",
    "createdAt",
    "email",
    "iban",
    "0",
    "1",
    "",
];

/// Strings that are numeric, almost numeric, or otherwise awkward.
const AWKWARD_STRINGS: &[&str] = &[
    "",
    " ",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-0",
    " 1e3 ",
    "12,000",
    "0x10",
    "\u{0}",
    "\u{feff}1",
    ":",
    " :: ",
    "LACK",
    "NMAT",
    "settlement failed",
    "WATCHLIST",
    "USD",
    "2026-11-01T10:00:00Z",
    "2026-13-45T99:99:99Z",
    "1990-12-31T23:59:60Z",
    "a/b",
    "[REDACTED]",
];

/// Any string: arbitrary Unicode, short identifiers, or an awkward value.
pub fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        3 => "[a-zA-Z0-9_ :./-]{0,16}",
        2 => prop::sample::select(AWKWARD_STRINGS).prop_map(str::to_owned),
    ]
}

/// An object key: mostly keys the code reads, otherwise arbitrary.
pub fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-zA-Z_]{1,8}",
    ]
}

/// A finite JSON number of every representation serde_json keeps (u64, i64, f64).
pub fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-10_000_000_000i64..10_000_000_000).prop_map(Value::from),
        proptest::num::f64::ANY
            .prop_map(|float| Number::from_f64(float).map_or(Value::Null, Value::Number)),
    ]
}

pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        json_string().prop_map(Value::String),
    ]
}

/// Any JSON value, nested at most `depth` levels with about `size` nodes in all.
pub fn json_value(depth: u32, size: u32) -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(depth, size, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Any JSON object (the shape of a payload or of metadata).
pub fn json_object(depth: u32, size: u32) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((json_key(), json_value(depth, size)), 0..8)
        .prop_map(|entries| entries.into_iter().collect())
}

/// A UTC instant in years 0000..=9999, the range RFC 3339 can write, with nanoseconds.
pub fn rfc3339_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let first = Utc
        .with_ymd_and_hms(0, 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp());
    let last = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .map_or(0, |t| t.timestamp());
    (first..=last, prop_oneof![Just(0u32), 0u32..1_000_000_000]).prop_map(|(seconds, nanos)| {
        Utc.timestamp_opt(seconds, nanos)
            .single()
            .unwrap_or_default()
    })
}

/// Any instant chrono can hold, including ones far outside RFC 3339's four-digit years.
pub fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        rfc3339_instant(),
        (min..=max).prop_map(|seconds| Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()),
    ]
}

/// A non-blank string that passes `validate_exception_id` (bounded, printable, no '/').
pub fn exception_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_:.-]{1,40}",
        "[^\\s/\\p{Cc}]{1,32}".prop_filter("at most 128 bytes", |id| id.len() <= 128),
    ]
}

/// An envelope that `Envelope::decode` must accept (version 1, or `max_version` when future
/// versions are allowed): non-blank event type and tenant, a non-empty correlation id.
pub fn valid_envelope(max_version: u32) -> impl Strategy<Value = Envelope> {
    (
        any::<u128>().prop_map(Uuid::from_u128),
        json_string().prop_filter("non-blank", |text| !text.trim().is_empty()),
        "[^\\p{Cc}]{1,40}".prop_filter("tenant", |t| !t.trim().is_empty() && t.len() <= 128),
        prop::option::of(exception_id()),
        rfc3339_instant(),
        json_string().prop_filter("non-empty", |text| !text.is_empty()),
        json_object(3, 24),
        json_object(2, 8),
        1..=max_version,
    )
        .prop_map(
            |(
                event_id,
                event_type,
                tenant_id,
                exception_id,
                timestamp,
                correlation_id,
                payload,
                metadata,
                version,
            )| {
                Envelope {
                    event_id,
                    event_type,
                    tenant_id,
                    exception_id,
                    timestamp,
                    correlation_id,
                    payload,
                    metadata,
                    version,
                }
            },
        )
}

/// `depth` arrays nested around `inner`, built without recursion.
pub fn nest_in_arrays(inner: Value, depth: usize) -> Value {
    (0..depth).fold(inner, |value, _| Value::Array(vec![value]))
}
