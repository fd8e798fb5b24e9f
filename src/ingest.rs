//! Accepting raw exceptions: each becomes an ExceptionIngested event appended to the outbox in
//! one transaction, for the API and the `ingest` command alike.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::bus::{write_and_emit, Bus, Delivery, LogRow, OutgoingEvent};
use crate::envelope::Envelope;
use crate::invalid::InvalidInput;
use crate::model::{event_types, topics};
use crate::normalize::{check_id_fields, exception_id_for};
use crate::packs::redact;

/// Largest accepted raw exception, in bytes.
pub const MAX_RAW_EXCEPTION_BYTES: usize = 256 * 1024;
/// Deepest accepted raw exception (the body object is level 1). serde_json decodes at most
/// 128 levels, and the body travels wrapped in its envelope.
pub const MAX_RAW_EXCEPTION_DEPTH: usize = 100;

/// A raw exception taken: its id (given or derived) and its ingestion event's id.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Accepted {
    pub exception_id: String,
    pub event_id: String,
}

/// Checks one raw exception and turns it into its ingestion event, or says why not. PII keys
/// are redacted here, so no stored event ever holds them.
pub fn prepare(
    tenant_id: &str,
    pii_keys: &HashSet<String>,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<Envelope, InvalidInput> {
    if raw.len() > MAX_RAW_EXCEPTION_BYTES {
        return Err(InvalidInput(format!(
            "body of {} bytes exceeds the {MAX_RAW_EXCEPTION_BYTES}-byte limit",
            raw.len()
        )));
    }
    let value: Value = serde_json::from_slice(raw)
        .map_err(|error| InvalidInput(format!("body is not valid JSON: {error}")))?;
    let mut value = value;
    if !value.is_object() {
        return Err("body must be a JSON object".into());
    }
    if nesting_depth(&value) > MAX_RAW_EXCEPTION_DEPTH {
        return Err(InvalidInput(format!(
            "body nests deeper than the {MAX_RAW_EXCEPTION_DEPTH}-level limit"
        )));
    }
    redact(&mut value, pii_keys);
    let Value::Object(payload) = value else {
        return Err("body must be a JSON object".into());
    };
    from_payload(tenant_id, payload, now)
}

/// Levels of nested arrays and objects (a scalar is 0), walked without recursion.
fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((current, depth)) = pending.pop() {
        match current {
            Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(map) => pending.extend(map.values().map(|child| (child, depth + 1))),
            _ => continue,
        }
        deepest = deepest.max(depth);
    }
    deepest
}

fn from_payload(
    tenant_id: &str,
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Envelope, InvalidInput> {
    check_id_fields(&payload)?;
    let event_id = Uuid::new_v4();
    let exception_id = exception_id_for(None, &payload, &event_id)?;
    Ok(Envelope::with_id(
        event_id,
        event_types::EXCEPTION_INGESTED,
        tenant_id,
        Some(exception_id),
        payload,
        now,
    ))
}

/// Appends the prepared events in one transaction and hands them to the bus: durable once this
/// returns; on the bus once the delivery resolves.
pub async fn append(
    db: &DatabaseConnection,
    bus: &dyn Bus,
    envelopes: Vec<Envelope>,
) -> Result<(Vec<Accepted>, Delivery), DbErr> {
    let accepted = envelopes
        .iter()
        .map(|envelope| Accepted {
            exception_id: envelope.exception_id.clone().unwrap_or_default(),
            event_id: envelope.event_id.to_string(),
        })
        .collect();
    let rows: Vec<LogRow> = envelopes
        .into_iter()
        .map(|envelope| {
            LogRow::from(&OutgoingEvent {
                topic: topics::INGESTED,
                envelope,
            })
        })
        .collect();
    write_and_emit(db, bus, async |_txn| Ok::<_, DbErr>((accepted, rows))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        let now = Utc::now();
        assert!(prepare("acme", &HashSet::new(), b"{not json", now)
            .unwrap_err()
            .0
            .contains("not valid JSON"));
        assert!(prepare("acme", &HashSet::new(), b"[1,2]", now)
            .unwrap_err()
            .0
            .contains("JSON object"));
        assert!(
            prepare("acme", &HashSet::new(), br#"{"exceptionId": 5}"#, now)
                .unwrap_err()
                .0
                .contains("must be a string")
        );
        let huge = vec![b' '; MAX_RAW_EXCEPTION_BYTES + 1];
        assert!(prepare("acme", &HashSet::new(), &huge, now)
            .unwrap_err()
            .0
            .contains("exceeds"));
    }

    #[test]
    fn an_invalid_second_id_field_is_refused_not_ignored() {
        let now = Utc::now();
        for body in [
            br#"{"exceptionId": "EX-1", "exception_id": ""}"#.as_slice(),
            br#"{"exceptionId": "EX-1", "exception_id": "a b"}"#,
            br#"{"exceptionId": "EX-1", "exception_id": 7}"#,
        ] {
            let refused = prepare("acme", &HashSet::new(), body, now).unwrap_err();
            assert!(refused.0.contains("payload exception_id"), "{refused:?}");
        }
        let both = br#"{"exceptionId": "EX-1", "exception_id": "EX-2"}"#;
        let envelope = prepare("acme", &HashSet::new(), both, now).unwrap();
        assert_eq!(envelope.exception_id.as_deref(), Some("EX-1"));
    }

    #[test]
    fn the_exception_id_is_known_before_intake_runs() {
        let given = prepare(
            "acme",
            &HashSet::new(),
            br#"{"exceptionId": "EX-7"}"#,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(given.exception_id.as_deref(), Some("EX-7"));
        let derived = prepare(
            "acme",
            &HashSet::new(),
            br#"{"exceptionType": "TRADE_BREAK"}"#,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(
            derived.exception_id,
            Some(crate::normalize::derive_exception_id(&derived.event_id))
        );
        assert_eq!(
            derived.partition_key(),
            format!("acme:{}", derived.exception_id.unwrap())
        );
    }

    #[test]
    fn pii_never_reaches_the_stored_event() {
        let pii: HashSet<String> = ["iban".to_owned()].into_iter().collect();
        let envelope = prepare(
            "acme",
            &pii,
            br#"{"IBAN": "DE89", "nested": {"iban": "x"}}"#,
            Utc::now(),
        )
        .unwrap();
        assert!(!envelope.encode().contains("DE89"));
    }
}
