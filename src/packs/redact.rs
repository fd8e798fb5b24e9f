//! PII redaction of a JSON payload: replaces the value of every object key that is a PII key
//! (exact key match, case-insensitive, never substring), at any depth. Pure and iterative.

use std::collections::HashSet;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Replaces the value of every object key whose lowercase form is in `pii_keys_lowercase`
/// with `"[REDACTED]"`, at any depth and inside arrays; returns how many values it replaced.
/// Walks with an explicit stack, so arbitrarily deep input cannot overflow the call stack.
pub fn redact(value: &mut Value, pii_keys_lowercase: &HashSet<String>) -> usize {
    let mut redacted = 0;
    let mut pending: Vec<&mut Value> = vec![value];
    while let Some(current) = pending.pop() {
        match current {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if is_pii_key(key, pii_keys_lowercase) {
                        *child = Value::String(REDACTED.to_string());
                        redacted += 1;
                    } else {
                        pending.push(child);
                    }
                }
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
    redacted
}

fn is_pii_key(key: &str, pii_keys_lowercase: &HashSet<String>) -> bool {
    // Only ASCII without A-Z is its own lowercase: 'ǅ' is not uppercase yet lowercases to 'ǆ'.
    if key.is_ascii() && !key.bytes().any(|byte| byte.is_ascii_uppercase()) {
        pii_keys_lowercase.contains(key)
    } else {
        pii_keys_lowercase.contains(&key.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| name.to_lowercase()).collect()
    }

    #[test]
    fn redaction_case_by_case() {
        let cases = [
            (
                json!({ "email": "a@b.c", "amount": 5 }),
                json!({ "email": REDACTED, "amount": 5 }),
                1,
            ),
            (json!({ "EMAIL": "a@b.c" }), json!({ "EMAIL": REDACTED }), 1),
            (
                json!({ "emailVerified": true }),
                json!({ "emailVerified": true }),
                0,
            ),
            (json!({ "workEmail": "x" }), json!({ "workEmail": "x" }), 0),
            (
                json!({ "trade": { "client": { "iban": "GB00", "taxId": "123" } } }),
                json!({ "trade": { "client": { "iban": REDACTED, "taxId": REDACTED } } }),
                2,
            ),
            (
                json!({ "legs": [{ "accountNumber": "1" }, { "accountNumber": "2" }, 7] }),
                json!({ "legs": [{ "accountNumber": REDACTED }, { "accountNumber": REDACTED }, 7] }),
                2,
            ),
            (
                json!([{ "email": { "nested": 1 } }]),
                json!([{ "email": REDACTED }]),
                1,
            ),
            (json!("email"), json!("email"), 0),
        ];
        for (mut payload, expected, expected_count) in cases {
            let described = payload.to_string();
            // Act
            let count = redact(
                &mut payload,
                &keys(&["email", "iban", "taxId", "accountNumber"]),
            );

            // Assert
            assert_eq!(payload, expected, "{described}");
            assert_eq!(count, expected_count, "{described}");
        }
    }

    #[test]
    fn very_deep_payload_does_not_overflow_the_stack() {
        // Arrange: 100k nested arrays with a PII object at the bottom.
        let mut payload = json!({ "email": "deep@example.com" });
        for _ in 0..100_000 {
            payload = Value::Array(vec![payload]);
        }

        // Act
        let count = redact(&mut payload, &keys(&["email"]));

        // Assert
        assert_eq!(count, 1);
        dismantle(payload);
    }

    /// Drops a deep value without recursion (serde_json's own drop is recursive).
    fn dismantle(value: Value) {
        let mut pending = vec![value];
        while let Some(current) = pending.pop() {
            match current {
                Value::Array(items) => pending.extend(items),
                Value::Object(map) => pending.extend(map.into_iter().map(|(_, child)| child)),
                _ => {}
            }
        }
    }
}
