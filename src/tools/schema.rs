//! Input validation against a tool's JSON schema; each schema is compiled once and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use jsonschema::Validator;
use serde_json::Value;

use super::failure::{bounded, FailureKind, ToolFailure};

/// How many validation errors a reason quotes.
const MAX_QUOTED_ERRORS: usize = 3;
/// Longest single quoted error, in bytes.
const MAX_ERROR_BYTES: usize = 200;

/// A compiled schema, or why it does not compile (cached too, so it is not recompiled).
type Compiled = Result<Arc<Validator>, SchemaDoesNotCompile>;

/// Why a tool's input schema does not compile (the compiler's message, bounded).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SchemaDoesNotCompile(String);

/// Compiled schemas keyed by tool name and the schema's text: two domains may declare tools
/// with the same name and different schemas.
#[derive(Default)]
pub(crate) struct SchemaCache {
    compiled: Mutex<HashMap<(String, String), Compiled>>,
}

impl SchemaCache {
    /// `InvalidInput` when `input` does not satisfy `schema`, or when `schema` does not compile.
    pub(crate) fn validate(
        &self,
        tool_name: &str,
        schema: &Value,
        input: &Value,
    ) -> Result<(), ToolFailure> {
        let validator = self.validator(tool_name, schema).map_err(|why| {
            ToolFailure::new(
                FailureKind::InvalidInput,
                format!("tool '{tool_name}' has an input_schema that does not compile: {why}"),
            )
        })?;
        let errors: Vec<String> = validator
            .iter_errors(input)
            .take(MAX_QUOTED_ERRORS + 1)
            .map(|error| {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                bounded(format!("{at}: {error}"), MAX_ERROR_BYTES)
            })
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let more = if errors.len() > MAX_QUOTED_ERRORS {
            "; …"
        } else {
            ""
        };
        let quoted: Vec<&str> = errors
            .iter()
            .take(MAX_QUOTED_ERRORS)
            .map(String::as_str)
            .collect();
        Err(ToolFailure::new(
            FailureKind::InvalidInput,
            format!(
                "input does not match the input_schema of tool '{tool_name}': {}{more}",
                quoted.join("; ")
            ),
        ))
    }

    fn validator(&self, tool_name: &str, schema: &Value) -> Compiled {
        let key = (tool_name.to_string(), schema.to_string());
        if let Some(found) = self.lock().get(&key) {
            return found.clone();
        }
        // Compiled outside the lock; a concurrent compile of the same schema is harmless.
        let compiled = jsonschema::validator_for(schema)
            .map(Arc::new)
            .map_err(|error| SchemaDoesNotCompile(bounded(error.to_string(), MAX_ERROR_BYTES)));
        self.lock().insert(key, compiled.clone());
        compiled
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Compiled>> {
        // The map holds no invariant a panicking holder could break.
        self.compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["tradeId"],
            "properties": {
                "tradeId": {"type": "string", "minLength": 1},
                "amount": {"type": "number", "minimum": 0}
            }
        })
    }

    #[test]
    fn valid_input_passes() {
        let cache = SchemaCache::default();
        let input = json!({"tradeId": "T-1", "amount": 10});
        assert_eq!(cache.validate("retry", &schema(), &input), Ok(()));
    }

    #[test]
    fn invalid_input_quotes_the_first_errors() {
        let cache = SchemaCache::default();
        let input = json!({"amount": -5});

        let failure = cache.validate("retry", &schema(), &input).unwrap_err();

        assert_eq!(failure.kind, FailureKind::InvalidInput);
        assert!(failure.reason.contains("tradeId"), "{}", failure.reason);
        assert!(failure.reason.contains("/amount"), "{}", failure.reason);
    }

    #[test]
    fn many_errors_are_bounded() {
        let cache = SchemaCache::default();
        let schema = json!({"type": "object", "additionalProperties": {"type": "string"}});
        let input: serde_json::Map<String, Value> =
            (0..50).map(|i| (format!("k{i}"), json!(i))).collect();

        let failure = cache
            .validate("t", &schema, &Value::Object(input))
            .unwrap_err();

        assert!(failure.reason.ends_with("; …"), "{}", failure.reason);
        assert!(failure.reason.len() < 1024);
    }

    #[test]
    fn a_schema_that_does_not_compile_is_invalid_input() {
        let cache = SchemaCache::default();
        let broken = json!({"type": "no-such-type"});

        let failure = cache.validate("bad", &broken, &json!({})).unwrap_err();

        assert_eq!(failure.kind, FailureKind::InvalidInput);
        assert!(
            failure.reason.contains("does not compile"),
            "{}",
            failure.reason
        );
    }

    #[test]
    fn schemas_compile_once_per_tool_and_schema() {
        let cache = SchemaCache::default();
        let other = json!({"type": "object"});
        for _ in 0..3 {
            let _ = cache.validate("retry", &schema(), &json!({}));
        }
        assert_eq!(cache.len(), 1);
        let _ = cache.validate("retry", &other, &json!({}));
        let _ = cache.validate("other", &other, &json!({}));
        assert_eq!(cache.len(), 3);
    }
}
