//! The event envelope every event travels in (docs/architecture.md, "The envelope"): decoding
//! with every rejection reasoned, encoding, and the partition key. Decoding never panics and
//! never allocates past `MAX_ENVELOPE_BYTES`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The current envelope version.
pub const ENVELOPE_VERSION: u32 = 1;
/// Messages larger than this are rejected before parsing.
pub const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub event_id: Uuid,
    pub event_type: String,
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<String>,
    #[serde(with = "rfc3339")]
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub correlation_id: String,
    pub payload: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    pub version: u32,
}

/// Why a message could not be accepted as an envelope. Every variant is permanent: the same
/// bytes will never decode, so the message goes to the dead-letter path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message of {0} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("undecodable envelope: {0}")]
    Undecodable(String),
    #[error("envelope field {field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("envelope version {0} is newer than supported version {ENVELOPE_VERSION} (set ALLOW_FUTURE_SCHEMA=true to accept it)")]
    FutureVersion(u32),
}

impl Envelope {
    /// A new version-1 envelope with a fresh event id.
    pub fn new(
        event_type: &str,
        tenant_id: &str,
        exception_id: Option<String>,
        payload: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Self {
        let event_id = Uuid::new_v4();
        Self::with_id(event_id, event_type, tenant_id, exception_id, payload, now)
    }

    pub fn with_id(
        event_id: Uuid,
        event_type: &str,
        tenant_id: &str,
        exception_id: Option<String>,
        payload: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Self {
        let correlation_id = exception_id.clone().unwrap_or_else(|| event_id.to_string());
        Self {
            event_id,
            event_type: event_type.to_owned(),
            tenant_id: tenant_id.to_owned(),
            exception_id,
            timestamp: now,
            correlation_id,
            payload,
            metadata: Map::new(),
            version: ENVELOPE_VERSION,
        }
    }

    /// Decodes and validates one message.
    pub fn decode(bytes: &[u8], allow_future_schema: bool) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge(bytes.len()));
        }
        let mut envelope: Envelope = serde_json::from_slice(bytes)
            .map_err(|error| EnvelopeError::Undecodable(error.to_string()))?;
        envelope.validate(allow_future_schema)?;
        if envelope.correlation_id.is_empty() {
            envelope.correlation_id = envelope
                .exception_id
                .clone()
                .unwrap_or_else(|| envelope.event_id.to_string());
        }
        Ok(envelope)
    }

    fn validate(&self, allow_future_schema: bool) -> Result<(), EnvelopeError> {
        if self.version == 0 {
            return Err(invalid("version", "must be 1 or more"));
        }
        if self.version > ENVELOPE_VERSION && !allow_future_schema {
            return Err(EnvelopeError::FutureVersion(self.version));
        }
        if self.event_type.trim().is_empty() {
            return Err(invalid("event_type", "must not be empty"));
        }
        if self.tenant_id.trim().is_empty() {
            return Err(invalid("tenant_id", "must not be empty"));
        }
        if self.tenant_id.len() > 128 {
            return Err(invalid("tenant_id", "longer than 128 bytes"));
        }
        if let Some(exception_id) = &self.exception_id {
            validate_exception_id(exception_id)
                .map_err(|reason| invalid("exception_id", reason))?;
        }
        Ok(())
    }

    /// Serialises the envelope; this is the exact byte string stored and published.
    pub fn encode(&self) -> String {
        // Serialising a struct of strings, maps and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The partition key: `"{tenant_id}:{exception_id}"`, so one exception's events stay in order.
    pub fn partition_key(&self) -> String {
        partition_key(
            &self.tenant_id,
            self.exception_id.as_deref().unwrap_or(&self.correlation_id),
        )
    }
}

pub fn partition_key(tenant_id: &str, exception_id: &str) -> String {
    format!("{tenant_id}:{exception_id}")
}

/// Exception ids are opaque, but bounded and printable so they are safe in keys, URLs and logs.
pub fn validate_exception_id(exception_id: &str) -> Result<(), &'static str> {
    if exception_id.trim().is_empty() {
        return Err("must not be empty");
    }
    if exception_id.len() > 128 {
        return Err("longer than 128 bytes");
    }
    if exception_id
        .chars()
        .any(|c| c.is_control() || c == '/' || c.is_whitespace())
    {
        return Err("contains whitespace, '/' or control characters");
    }
    Ok(())
}

fn invalid(field: &'static str, reason: &str) -> EnvelopeError {
    EnvelopeError::InvalidField {
        field,
        reason: reason.to_owned(),
    }
}

mod rfc3339 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|parsed| parsed.with_timezone(&Utc))
            .map_err(|error| {
                serde::de::Error::custom(format!("timestamp '{text}' is not RFC 3339: {error}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Envelope {
        let payload = json!({"exceptionType": "SETTLEMENT_FAIL"})
            .as_object()
            .cloned()
            .unwrap();
        Envelope::new(
            "ExceptionIngested",
            "acme",
            Some("EX-1".into()),
            payload,
            Utc::now(),
        )
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let envelope = sample();
        let decoded = Envelope::decode(envelope.encode().as_bytes(), false).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(decoded.correlation_id, "EX-1");
    }

    #[test]
    fn rejections_carry_their_reason() {
        let good = serde_json::to_value(sample()).unwrap();
        let cases: Vec<(Value, &str)> = vec![
            (json!("not an object"), "undecodable"),
            (
                {
                    let mut v = good.clone();
                    v["extra"] = json!(1);
                    v
                },
                "unknown field",
            ),
            (
                {
                    let mut v = good.clone();
                    v["version"] = json!(2);
                    v
                },
                "newer than supported",
            ),
            (
                {
                    let mut v = good.clone();
                    v["version"] = json!(0);
                    v
                },
                "version",
            ),
            (
                {
                    let mut v = good.clone();
                    v["tenant_id"] = json!(" ");
                    v
                },
                "tenant_id",
            ),
            (
                {
                    let mut v = good.clone();
                    v["timestamp"] = json!("yesterday");
                    v
                },
                "RFC 3339",
            ),
            (
                {
                    let mut v = good.clone();
                    v["event_id"] = json!("nope");
                    v
                },
                "UUID",
            ),
            (
                {
                    let mut v = good.clone();
                    v["exception_id"] = json!("a/b");
                    v
                },
                "exception_id",
            ),
            (
                {
                    let mut v = good.clone();
                    v.as_object_mut().unwrap().remove("payload");
                    v
                },
                "payload",
            ),
        ];
        for (value, expected) in cases {
            let error = Envelope::decode(value.to_string().as_bytes(), false).unwrap_err();
            assert!(
                error.to_string().contains(expected),
                "{error} should mention {expected}"
            );
        }
    }

    #[test]
    fn future_versions_pass_only_when_allowed() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["version"] = json!(2);
        assert!(Envelope::decode(value.to_string().as_bytes(), true).is_ok());
    }

    #[test]
    fn oversized_messages_are_rejected_before_parsing() {
        let bytes = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert_eq!(
            Envelope::decode(&bytes, false),
            Err(EnvelopeError::TooLarge(MAX_ENVELOPE_BYTES + 1))
        );
    }

    #[test]
    fn missing_correlation_defaults_to_the_exception() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value.as_object_mut().unwrap().remove("correlation_id");
        assert_eq!(
            Envelope::decode(value.to_string().as_bytes(), false)
                .unwrap()
                .correlation_id,
            "EX-1"
        );
    }

    #[test]
    fn partition_key_joins_tenant_and_exception() {
        assert_eq!(sample().partition_key(), "acme:EX-1");
    }
}
