//! Opaque page cursors: the key of a page's last row (a store type), as base64url (no padding)
//! of its JSON. Clients pass them back unchanged; anything else is a 400 naming `cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::params::ParamError;

/// The parameter a cursor is passed in.
pub const PARAMETER: &str = "cursor";

/// Cursors longer than this are refused unread (keys hold two ids and a timestamp).
const MAX_CURSOR_CHARS: usize = 2048;

const ALLOWED: &str = "a next_cursor returned by this listing";

pub fn encode(key: &impl Serialize) -> String {
    // A key of strings, numbers and timestamps always serializes.
    let json = serde_json::to_vec(key).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ParamError> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(refused(cursor));
    }
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| refused(cursor))
}

/// The refusal of a cursor that does not fit the request (another order or tenant).
pub fn refused(cursor: &str) -> ParamError {
    ParamError::invalid(PARAMETER, cursor, ALLOWED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Key {
        id: i64,
        name: String,
    }

    #[test]
    fn a_key_survives_the_round_trip() {
        let key = Key {
            id: 7,
            name: "ü/+=".into(),
        };
        let cursor = encode(&key);
        assert!(cursor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(decode::<Key>(&cursor).unwrap(), key);
    }

    #[test]
    fn garbage_is_refused_naming_the_parameter() {
        for cursor in ["not base64!", "e30", &"A".repeat(5000)] {
            let error = decode::<Key>(cursor).unwrap_err();
            assert!(error.to_string().contains("cursor"), "{error}");
        }
    }
}
