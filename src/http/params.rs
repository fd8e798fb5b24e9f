//! The parameters of a request (its query string, or the fields of a JSON body), checked by
//! name before any is used: an unknown or repeated parameter, or a value outside what the
//! parameter allows, is a 400 naming the parameter and what it allows, never a silent default.
//! An empty value is the same as no value.

use std::collections::BTreeMap;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Why a parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter '{name}' (allowed: {allowed})")]
    Unknown { name: String, allowed: String },
    #[error("parameter '{0}' is given more than once")]
    Repeated(String),
    #[error("invalid {parameter} '{value}' (allowed: {allowed})")]
    Invalid {
        parameter: String,
        value: String,
        allowed: String,
    },
    #[error("the query string could not be read: {0}")]
    Unreadable(String),
}

impl ParamError {
    pub fn invalid(parameter: &str, value: &str, allowed: impl Into<String>) -> Self {
        ParamError::Invalid {
            parameter: parameter.to_owned(),
            value: value.chars().take(200).collect(),
            allowed: allowed.into(),
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            ParamError::Unknown { name, .. } | ParamError::Repeated(name) => Some(name),
            ParamError::Invalid { parameter, .. } => Some(parameter),
            ParamError::Unreadable(_) => None,
        }
    }

    fn allowed(&self) -> Option<&str> {
        match self {
            ParamError::Unknown { allowed, .. } | ParamError::Invalid { allowed, .. } => {
                Some(allowed)
            }
            ParamError::Repeated(_) | ParamError::Unreadable(_) => None,
        }
    }
}

impl ResponseError for ParamError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::BadRequest().json(ParamRefusal {
            error: self.to_string(),
            parameter: self.parameter().map(str::to_owned),
            allowed: self.allowed().map(str::to_owned),
        })
    }
}

/// The 400 answer to a refused parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParamRefusal {
    /// What is wrong, for a person to read.
    pub error: String,
    /// The parameter refused; null when the query string or body could not be read at all.
    pub parameter: Option<String>,
    /// What the parameter allows, when that can be said.
    pub allowed: Option<String>,
}

/// The JSON type of a body field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    String,
    Bool,
}

impl JsonKind {
    fn allowed(self) -> &'static str {
        match self {
            JsonKind::String => "a string",
            JsonKind::Bool => "true, false",
        }
    }
}

/// The given, non-empty parameters of a request, by name.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// The parameters of `query` (a URL query string); each must be one of `allowed`.
    pub fn from_query(query: &str, allowed: &[&str]) -> Result<Self, ParamError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
            .map_err(|error| ParamError::Unreadable(error.to_string()))?
            .into_inner();
        Self::from_pairs(pairs, allowed)
    }

    /// The fields of a JSON object as parameters: each must be one of `allowed`, of the JSON
    /// type `allowed` pairs it with (null is no value), so `"reason": false` is refused rather
    /// than read as the text `false`.
    pub fn from_json(body: &[u8], allowed: &[(&str, JsonKind)]) -> Result<Self, ParamError> {
        let object = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return Err(ParamError::Unreadable(
                    "the body is not a JSON object".into(),
                ))
            }
            Err(error) => return Err(ParamError::Unreadable(format!("not valid JSON: {error}"))),
        };
        let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
        let mut pairs = Vec::with_capacity(object.len());
        for (name, value) in object {
            let kind = allowed
                .iter()
                .find(|(allowed, _)| *allowed == name)
                .map(|(_, kind)| *kind);
            let text = match (kind, value) {
                (None, _) => {
                    return Err(ParamError::Unknown {
                        name: name.chars().take(100).collect(),
                        allowed: names.join(", "),
                    })
                }
                (_, Value::Null) => String::new(),
                (Some(JsonKind::String), Value::String(text)) => text,
                (Some(JsonKind::Bool), Value::Bool(flag)) => flag.to_string(),
                (Some(kind), other) => {
                    return Err(ParamError::invalid(
                        &name,
                        &other.to_string(),
                        kind.allowed(),
                    ))
                }
            };
            pairs.push((name, text));
        }
        Self::from_pairs(pairs, &names)
    }

    fn from_pairs(pairs: Vec<(String, String)>, allowed: &[&str]) -> Result<Self, ParamError> {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(ParamError::Unknown {
                    name: name.chars().take(100).collect(),
                    allowed: allowed.join(", "),
                });
            }
            if values.contains_key(&name) {
                return Err(ParamError::Repeated(name));
            }
            values.insert(name, value);
        }
        values.retain(|_, value| !value.is_empty());
        Ok(Self { values })
    }

    /// The value of `name`, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `name` if given, which must be one of `allowed` (spelled exactly so).
    pub fn one_of<'a>(
        &'a self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<&'a str>, ParamError> {
        match self.text(name) {
            Some(value) if !allowed.contains(&value) => {
                Err(ParamError::invalid(name, value, allowed.join(", ")))
            }
            value => Ok(value),
        }
    }

    /// The value of `name` parsed as `T`, whose spellings are `allowed`.
    pub fn parsed<T: FromStr>(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<T>, ParamError> {
        self.one_of(name, allowed)?
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| ParamError::invalid(name, value, allowed.join(", ")))
            })
            .transpose()
    }

    /// The value of `name` as an RFC 3339 timestamp.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ParamError> {
        self.text(name)
            .map(|value| {
                DateTime::parse_from_rfc3339(value)
                    .map(|time| time.with_timezone(&Utc))
                    .map_err(|_| {
                        ParamError::invalid(
                            name,
                            value,
                            "an RFC 3339 timestamp, e.g. 2026-01-31T09:30:00Z",
                        )
                    })
            })
            .transpose()
    }

    /// The value of `name` as a count from 1 to `max`; `default` when not given.
    pub fn limit(&self, name: &str, default: u64, max: u64) -> Result<u64, ParamError> {
        let Some(value) = self.text(name) else {
            return Ok(default);
        };
        match value.parse::<u64>() {
            Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
            _ => Err(ParamError::invalid(
                name,
                value,
                format!("an integer from 1 to {max}"),
            )),
        }
    }

    /// The value of `name` as `true` or `false`, which must be given.
    pub fn required_flag(&self, name: &str) -> Result<bool, ParamError> {
        match self.text(name) {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            other => Err(ParamError::invalid(
                name,
                other.unwrap_or(""),
                "true, false",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: [&str; 3] = ["status", "limit", "since"];

    #[test]
    fn an_unknown_parameter_is_named_with_the_allowed_ones() {
        let error = Params::from_query("stauts=open", &ALLOWED).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown parameter 'stauts' (allowed: status, limit, since)"
        );
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        let error = Params::from_query("status=a&status=b", &ALLOWED).unwrap_err();
        assert_eq!(error, ParamError::Repeated("status".into()));
    }

    #[test]
    fn an_empty_value_is_no_value() {
        let params = Params::from_query("status=&limit=", &ALLOWED).unwrap();
        assert_eq!(params.text("status"), None);
        assert_eq!(params.limit("limit", 50, 200), Ok(50));
    }

    #[test]
    fn limits_outside_the_range_are_refused_not_clamped() {
        for query in ["limit=0", "limit=201", "limit=-1", "limit=ten"] {
            let params = Params::from_query(query, &ALLOWED).unwrap();
            let error = params.limit("limit", 50, 200).unwrap_err();
            assert!(
                error.to_string().contains("from 1 to 200"),
                "{query}: {error}"
            );
        }
        let params = Params::from_query("limit=200", &ALLOWED).unwrap();
        assert_eq!(params.limit("limit", 50, 200), Ok(200));
    }

    #[test]
    fn times_are_rfc3339_in_any_offset() {
        let params = Params::from_query("since=2026-01-01T02:00:00%2B02:00", &ALLOWED).unwrap();
        let time = params.time("since").unwrap().unwrap();
        assert_eq!(time.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let params = Params::from_query("since=yesterday", &ALLOWED).unwrap();
        assert!(params.time("since").is_err());
    }

    #[test]
    fn json_fields_are_parameters_of_their_own_type() {
        let fields = [("status", JsonKind::String), ("dry_run", JsonKind::Bool)];
        let params = Params::from_json(br#"{"status": "x", "dry_run": true}"#, &fields).unwrap();
        assert_eq!(params.text("status"), Some("x"));
        assert_eq!(params.required_flag("dry_run"), Ok(true));
        let params = Params::from_json(br#"{"status": null}"#, &fields).unwrap();
        assert_eq!(params.text("status"), None);
        let error = Params::from_json(br#"{"tenant": "x"}"#, &fields).unwrap_err();
        assert!(matches!(error, ParamError::Unknown { .. }));
        for (body, field, allowed) in [
            (br#"{"status": ["x"]}"#.as_slice(), "status", "a string"),
            (br#"{"status": false}"#, "status", "a string"),
            (br#"{"status": 5}"#, "status", "a string"),
            (br#"{"dry_run": "true"}"#, "dry_run", "true, false"),
            (br#"{"dry_run": 1}"#, "dry_run", "true, false"),
        ] {
            let error = Params::from_json(body, &fields).unwrap_err();
            assert_eq!(error.parameter(), Some(field), "{error}");
            assert_eq!(error.allowed(), Some(allowed), "{error}");
        }
    }
}
