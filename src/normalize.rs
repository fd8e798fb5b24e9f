//! Intake's pure normaliser: raw exception payload in, normalised facts out. Total: any JSON
//! object gives a result or a reasoned rejection, never a panic.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::envelope::validate_exception_id;
use crate::invalid::InvalidInput;
use crate::model::DERIVED_ID_NAMESPACE;
use crate::packs::redact::redact;

const TIMESTAMP_FIELDS: [&str; 6] = [
    "timestamp",
    "time",
    "createdAt",
    "created_at",
    "eventTime",
    "event_time",
];
const SOURCE_FIELDS: [&str; 4] = ["sourceSystem", "source_system", "source", "system"];

/// The normalised form intake stores and emits. The payload is stored once, in the exception's
/// `raw_payload`: it is not part of the serialised document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalized {
    pub exception_id: String,
    /// The type as the source gave it (trimmed, leading ':' removed), if it gave one.
    pub exception_type: Option<String>,
    pub source_system: String,
    pub occurred_at: DateTime<Utc>,
    /// The raw payload with PII values replaced.
    #[serde(skip)]
    pub payload: Map<String, Value>,
    pub redacted_fields: usize,
}

/// The payload fields that name an exception id, the first given winning.
const ID_FIELDS: [&str; 2] = ["exceptionId", "exception_id"];

/// The exception id of an ingestion: the envelope's, else the payload's `exceptionId` or
/// `exception_id`, else derived from the event id (so a redelivery derives the same id).
pub fn exception_id_for(
    envelope_exception_id: Option<&str>,
    payload: &Map<String, Value>,
    event_id: &Uuid,
) -> Result<String, InvalidInput> {
    if let Some(id) = envelope_exception_id {
        return Ok(id.to_owned());
    }
    for field in ID_FIELDS {
        if let Some(id) = given_id(payload, field)? {
            return Ok(id.to_owned());
        }
    }
    Ok(derive_exception_id(event_id))
}

/// Every id field the payload gives is a valid id, not only the one that wins: what ingestion
/// checks, so an invalid second id field is refused rather than silently ignored.
pub fn check_id_fields(payload: &Map<String, Value>) -> Result<(), InvalidInput> {
    for field in ID_FIELDS {
        given_id(payload, field)?;
    }
    Ok(())
}

/// The trimmed id in `field`, if given (null is not given); an error if it is not a valid id.
fn given_id<'p>(
    payload: &'p Map<String, Value>,
    field: &str,
) -> Result<Option<&'p str>, InvalidInput> {
    match payload.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => {
            let id = id.trim();
            validate_exception_id(id)
                .map_err(|reason| InvalidInput(format!("payload {field} {reason}")))?;
            Ok(Some(id))
        }
        Some(_) => Err(InvalidInput(format!("payload {field} must be a string"))),
    }
}

pub fn derive_exception_id(event_id: &Uuid) -> String {
    format!(
        "exc-{}",
        Uuid::new_v5(&DERIVED_ID_NAMESPACE, event_id.as_bytes())
    )
}

pub fn normalize(
    envelope_exception_id: Option<&str>,
    event_id: &Uuid,
    raw: &Map<String, Value>,
    pii_keys: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Normalized, InvalidInput> {
    let exception_id = exception_id_for(envelope_exception_id, raw, event_id)?;
    let exception_type = first_string(raw, &["exceptionType", "exception_type"])
        .map(|value| value.trim().trim_start_matches(':').trim().to_owned())
        .filter(|value| !value.is_empty());
    let source_system = first_string(raw, &SOURCE_FIELDS)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    let occurred_at = TIMESTAMP_FIELDS
        .iter()
        .filter_map(|field| raw.get(*field))
        .find_map(parse_timestamp)
        .unwrap_or(now);
    let mut payload = Value::Object(raw.clone());
    let redacted_fields = redact(&mut payload, pii_keys);
    let payload = match payload {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Normalized {
        exception_id,
        exception_type,
        source_system,
        occurred_at,
        payload,
        redacted_fields,
    })
}

fn first_string<'a>(raw: &'a Map<String, Value>, fields: &[&str]) -> Option<&'a str> {
    fields
        .iter()
        .find_map(|field| raw.get(*field).and_then(Value::as_str))
}

/// RFC 3339 strings, or epoch seconds / milliseconds as numbers.
fn parse_timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|parsed| parsed.with_timezone(&Utc)),
        Value::Number(number) => {
            let raw = number.as_i64()?;
            let millis = if raw.abs() >= 100_000_000_000 {
                raw
            } else {
                raw.checked_mul(1000)?
            };
            Utc.timestamp_millis_opt(millis).single()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn pii() -> HashSet<String> {
        ["accountnumber".to_owned()].into_iter().collect()
    }

    #[test]
    fn picks_fields_strips_type_and_redacts() {
        let event_id = Uuid::new_v4();
        let raw = object(json!({
            "exceptionId": "EX-9", "exceptionType": " :SETTLEMENT_FAIL ", "sourceSystem": "MUREX",
            "timestamp": "2026-11-01T10:00:00+01:00", "accountNumber": "123", "amount": 5
        }));
        let normalized = normalize(None, &event_id, &raw, &pii(), Utc::now()).unwrap();
        assert_eq!(normalized.exception_id, "EX-9");
        assert_eq!(
            normalized.exception_type.as_deref(),
            Some("SETTLEMENT_FAIL")
        );
        assert_eq!(normalized.source_system, "MUREX");
        assert_eq!(
            normalized.occurred_at.to_rfc3339(),
            "2026-11-01T09:00:00+00:00"
        );
        assert_eq!(normalized.payload["accountNumber"], json!("[REDACTED]"));
        assert_eq!(normalized.redacted_fields, 1);
    }

    #[test]
    fn defaults_when_fields_are_missing() {
        let event_id = Uuid::new_v4();
        let now = Utc::now();
        let normalized = normalize(None, &event_id, &Map::new(), &pii(), now).unwrap();
        assert_eq!(normalized.exception_id, derive_exception_id(&event_id));
        assert_eq!(normalized.exception_type, None);
        assert_eq!(normalized.source_system, "UNKNOWN");
        assert_eq!(normalized.occurred_at, now);
    }

    #[test]
    fn derived_ids_are_stable_per_event() {
        let event_id = Uuid::new_v4();
        assert_eq!(
            derive_exception_id(&event_id),
            derive_exception_id(&event_id)
        );
        assert_ne!(
            derive_exception_id(&event_id),
            derive_exception_id(&Uuid::new_v4())
        );
    }

    #[test]
    fn envelope_id_wins_and_bad_payload_ids_are_rejected_with_a_reason() {
        let raw = object(json!({"exceptionId": "EX-1"}));
        assert_eq!(
            exception_id_for(Some("ENV-1"), &raw, &Uuid::new_v4()).unwrap(),
            "ENV-1"
        );
        let error = exception_id_for(None, &object(json!({"exception_id": 7})), &Uuid::new_v4())
            .unwrap_err();
        assert!(error.0.contains("must be a string"));
        let error = exception_id_for(
            None,
            &object(json!({"exceptionId": "a b"})),
            &Uuid::new_v4(),
        )
        .unwrap_err();
        assert!(error.0.contains("exceptionId"));
    }

    #[test]
    fn epoch_timestamps_in_seconds_and_millis() {
        let raw = object(json!({"eventTime": 1_700_000_000}));
        let seconds = normalize(None, &Uuid::new_v4(), &raw, &pii(), Utc::now())
            .unwrap()
            .occurred_at;
        let raw = object(json!({"eventTime": 1_700_000_000_000_i64}));
        let millis = normalize(None, &Uuid::new_v4(), &raw, &pii(), Utc::now())
            .unwrap()
            .occurred_at;
        assert_eq!(seconds, millis);
    }
}
