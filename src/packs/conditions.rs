//! Validated payload conditions (`{ field, op, value }`) and their evaluation against a JSON
//! payload. Pure: no I/O.

use serde_json::Value;

/// One validated condition: a dot path into the payload and the test to apply there.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The dot path as written, e.g. `trade.counterparty.lei`.
    pub field: String,
    pub test: ConditionTest,
}

/// The test of a condition; the value kind is already checked against the op.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionTest {
    /// Scalar (string, number or bool) equality.
    Eq(Value),
    /// Scalar inequality (a missing field is still false).
    Ne(Value),
    /// Equal to one of these scalars.
    In(Vec<Value>),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    /// Present and not null (`true`), or missing/null (`false`).
    Exists(bool),
}

impl ConditionTest {
    pub const OPS: [&'static str; 8] = ["eq", "ne", "in", "gt", "gte", "lt", "lte", "exists"];
}

/// Whether every condition holds (an empty list holds).
pub fn all_conditions_hold(conditions: &[Condition], payload: &Value) -> bool {
    conditions
        .iter()
        .all(|condition| condition_holds(condition, payload))
}

/// Whether one condition holds. A missing (or null) field makes every test false except
/// `exists = false`. Numeric comparisons accept JSON numbers and numeric strings; `eq`/`ne`/`in`
/// compare strings case-sensitively and numbers numerically.
pub fn condition_holds(condition: &Condition, payload: &Value) -> bool {
    let found = lookup_field(payload, &condition.field).filter(|value| !value.is_null());
    let Some(actual) = found else {
        return matches!(condition.test, ConditionTest::Exists(false));
    };
    match &condition.test {
        ConditionTest::Exists(expected) => *expected,
        ConditionTest::Eq(expected) => scalars_equal(actual, expected),
        ConditionTest::Ne(expected) => !scalars_equal(actual, expected),
        ConditionTest::In(options) => options.iter().any(|option| scalars_equal(actual, option)),
        ConditionTest::Gt(limit) => numeric(actual).is_some_and(|number| number > *limit),
        ConditionTest::Gte(limit) => numeric(actual).is_some_and(|number| number >= *limit),
        ConditionTest::Lt(limit) => numeric(actual).is_some_and(|number| number < *limit),
        ConditionTest::Lte(limit) => numeric(actual).is_some_and(|number| number <= *limit),
    }
}

/// Follows a dot path through objects (by key) and arrays (by index).
pub fn lookup_field<'a>(payload: &'a Value, dot_path: &str) -> Option<&'a Value> {
    dot_path
        .split('.')
        .try_fold(payload, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|index| items.get(index)),
            _ => None,
        })
}

/// A JSON number, or a string holding a finite number.
pub fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

fn scalars_equal(actual: &Value, expected: &Value) -> bool {
    match expected {
        Value::Number(_) => match (numeric(actual), numeric(expected)) {
            (Some(left), Some(right)) => left == right,
            _ => false,
        },
        Value::String(expected_text) => actual.as_str() == Some(expected_text.as_str()),
        Value::Bool(expected_flag) => actual.as_bool() == Some(*expected_flag),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn condition(field: &str, test: ConditionTest) -> Condition {
        Condition {
            field: field.into(),
            test,
        }
    }

    #[test]
    fn each_op_case_by_case() {
        // Arrange
        let payload = json!({
            "amount": 2500000,
            "amountText": "2500000.50",
            "currency": "USD",
            "flags": { "manual": true },
            "legs": [{ "venue": "XLON" }],
            "note": null
        });
        let cases: Vec<(&str, ConditionTest, bool)> = vec![
            ("currency", ConditionTest::Eq(json!("USD")), true),
            ("currency", ConditionTest::Eq(json!("usd")), false),
            ("amount", ConditionTest::Eq(json!(2500000.0)), true),
            ("amountText", ConditionTest::Eq(json!(2500000.5)), true),
            ("flags.manual", ConditionTest::Eq(json!(true)), true),
            ("currency", ConditionTest::Ne(json!("EUR")), true),
            ("currency", ConditionTest::Ne(json!("USD")), false),
            (
                "currency",
                ConditionTest::In(vec![json!("EUR"), json!("USD")]),
                true,
            ),
            ("currency", ConditionTest::In(vec![json!("JPY")]), false),
            ("amount", ConditionTest::Gt(2500000.0), false),
            ("amount", ConditionTest::Gte(2500000.0), true),
            ("amount", ConditionTest::Lt(2500001.0), true),
            ("amount", ConditionTest::Lte(2499999.0), false),
            ("amountText", ConditionTest::Gt(2500000.0), true),
            ("currency", ConditionTest::Gt(1.0), false),
            ("legs.0.venue", ConditionTest::Eq(json!("XLON")), true),
            ("legs.1.venue", ConditionTest::Exists(false), true),
            ("flags", ConditionTest::Exists(true), true),
            ("note", ConditionTest::Exists(true), false),
            ("note", ConditionTest::Exists(false), true),
        ];
        for (field, test, expected) in cases {
            let described = format!("{field} {test:?}");
            // Act
            let holds = condition_holds(&condition(field, test), &payload);

            // Assert
            assert_eq!(holds, expected, "{described}");
        }
    }

    #[test]
    fn missing_field_is_false_for_every_op_but_exists_false() {
        // Arrange
        let payload = json!({ "amount": 1 });
        let tests = [
            (ConditionTest::Eq(json!("x")), false),
            (ConditionTest::Ne(json!("x")), false),
            (ConditionTest::In(vec![json!("x")]), false),
            (ConditionTest::Gt(0.0), false),
            (ConditionTest::Gte(0.0), false),
            (ConditionTest::Lt(0.0), false),
            (ConditionTest::Lte(0.0), false),
            (ConditionTest::Exists(true), false),
            (ConditionTest::Exists(false), true),
        ];
        for (test, expected) in tests {
            let described = format!("{test:?}");
            // Act
            let holds = condition_holds(&condition("counterparty.lei", test), &payload);

            // Assert
            assert_eq!(holds, expected, "{described}");
        }
    }

    #[test]
    fn numeric_accepts_numbers_and_numeric_strings_only() {
        let cases = [
            (json!(12), Some(12.0)),
            (json!(" 1e3 "), Some(1000.0)),
            (json!("12,000"), None),
            (json!("NaN"), None),
            (json!(true), None),
        ];
        for (value, expected) in cases {
            assert_eq!(numeric(&value), expected, "{value}");
        }
    }

    #[test]
    fn all_conditions_hold_needs_every_condition() {
        // Arrange
        let payload = json!({ "amount": 5, "currency": "USD" });
        let both = [
            condition("amount", ConditionTest::Gte(5.0)),
            condition("currency", ConditionTest::Eq(json!("USD"))),
        ];
        let one_fails = [
            condition("amount", ConditionTest::Gte(5.0)),
            condition("currency", ConditionTest::Eq(json!("EUR"))),
        ];

        // Act / Assert
        assert!(all_conditions_hold(&both, &payload));
        assert!(!all_conditions_hold(&one_fails, &payload));
        assert!(all_conditions_hold(&[], &payload));
    }
}
