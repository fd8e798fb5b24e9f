//! Validates one raw `{ field, op, value }` condition: a known op and a value of the right kind.

use serde_json::Value;

use crate::packs::conditions::{Condition, ConditionTest};
use crate::packs::error::FileProblems;
use crate::packs::raw::RawCondition;

/// Validates a condition at `place` (e.g. `severity_rules[2].when[0]`).
pub(crate) fn validate_condition(
    raw: RawCondition,
    place: &str,
    problems: &mut FileProblems,
) -> Option<Condition> {
    let field_ok = !raw.field.is_empty() && raw.field.split('.').all(|part| !part.is_empty());
    if !field_ok {
        problems.report(
            format!("{place}.field"),
            format!("'{}' is not a dot path like 'trade.amount'", raw.field),
        );
    }
    let value_place = format!("{place}.value");
    let Some(value) = raw.value else {
        if ConditionTest::OPS.contains(&raw.op.as_str()) {
            problems.report(value_place, format!("op '{}' needs a value", raw.op));
        } else {
            report_unknown_op(&raw.op, place, problems);
        }
        return None;
    };
    let test = match raw.op.as_str() {
        "eq" => scalar(value, &raw.op, &value_place, problems).map(ConditionTest::Eq),
        "ne" => scalar(value, &raw.op, &value_place, problems).map(ConditionTest::Ne),
        "in" => scalar_list(value, &value_place, problems).map(ConditionTest::In),
        "gt" => number(&value, &raw.op, &value_place, problems).map(ConditionTest::Gt),
        "gte" => number(&value, &raw.op, &value_place, problems).map(ConditionTest::Gte),
        "lt" => number(&value, &raw.op, &value_place, problems).map(ConditionTest::Lt),
        "lte" => number(&value, &raw.op, &value_place, problems).map(ConditionTest::Lte),
        "exists" => match value {
            Value::Bool(flag) => Some(ConditionTest::Exists(flag)),
            other => {
                report_kind(&value_place, "exists", "true or false", &other, problems);
                None
            }
        },
        _ => {
            report_unknown_op(&raw.op, place, problems);
            None
        }
    }?;
    field_ok.then_some(Condition {
        field: raw.field,
        test,
    })
}

fn report_unknown_op(op: &str, place: &str, problems: &mut FileProblems) {
    problems.report(
        format!("{place}.op"),
        format!(
            "unknown op '{op}' (expected one of {})",
            ConditionTest::OPS.join(", ")
        ),
    );
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn scalar(value: Value, op: &str, place: &str, problems: &mut FileProblems) -> Option<Value> {
    if is_scalar(&value) {
        Some(value)
    } else {
        report_kind(place, op, "a string, number or boolean", &value, problems);
        None
    }
}

fn scalar_list(value: Value, place: &str, problems: &mut FileProblems) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(is_scalar) => Some(items),
        other => {
            report_kind(
                place,
                "in",
                "a non-empty list of strings, numbers or booleans",
                &other,
                problems,
            );
            None
        }
    }
}

fn number(value: &Value, op: &str, place: &str, problems: &mut FileProblems) -> Option<f64> {
    let parsed = value.as_f64();
    if parsed.is_none() {
        report_kind(place, op, "a number", value, problems);
    }
    parsed
}

fn report_kind(place: &str, op: &str, expected: &str, found: &Value, problems: &mut FileProblems) {
    problems.report(place, format!("op '{op}' needs {expected}, found {found}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn raw(field: &str, op: &str, value: Option<Value>) -> RawCondition {
        RawCondition {
            field: field.into(),
            op: op.into(),
            value,
        }
    }

    #[test]
    fn valid_and_invalid_conditions_case_by_case() {
        let cases: Vec<(RawCondition, Option<&str>)> = vec![
            (raw("amount", "gte", Some(json!(1000000))), None),
            (raw("currency", "in", Some(json!(["USD", "EUR"]))), None),
            (raw("counterparty.lei", "exists", Some(json!(true))), None),
            (raw("currency", "eq", Some(json!("USD"))), None),
            (raw("amount", "like", Some(json!(1))), Some("when[0].op")),
            (
                raw("amount", "gte", Some(json!("lots"))),
                Some("when[0].value"),
            ),
            (
                raw("currency", "in", Some(json!("USD"))),
                Some("when[0].value"),
            ),
            (
                raw("currency", "in", Some(json!([]))),
                Some("when[0].value"),
            ),
            (
                raw("currency", "eq", Some(json!(["USD"]))),
                Some("when[0].value"),
            ),
            (
                raw("flag", "exists", Some(json!("yes"))),
                Some("when[0].value"),
            ),
            (raw("amount", "gt", None), Some("when[0].value")),
            (
                raw("trade..amount", "gt", Some(json!(1))),
                Some("when[0].field"),
            ),
        ];
        for (condition, expected_place) in cases {
            // Arrange
            let described = format!("{condition:?}");
            let mut problems = FileProblems::new(Path::new("d.toml"));

            // Act
            let validated = validate_condition(condition, "when[0]", &mut problems);

            // Assert
            let places: Vec<String> = problems
                .into_errors()
                .into_iter()
                .map(|e| e.place)
                .collect();
            match expected_place {
                None => {
                    assert!(validated.is_some(), "{described}");
                    assert!(places.is_empty(), "{described}: {places:?}");
                }
                Some(place) => {
                    assert!(validated.is_none(), "{described}");
                    assert_eq!(places, vec![place.to_string()], "{described}");
                }
            }
        }
    }
}
