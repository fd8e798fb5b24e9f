//! Pieces of the OpenAPI document (`http::openapi`) for values the code keeps as string
//! constants rather than as types: a string schema allowing exactly those spellings, so the
//! document and the code that checks them read the same list.

use serde_json::Value;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string that is one of `values`.
pub fn one_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A string that is one of `values`, or null (a JSON field that may be left out).
pub fn optional_one_of(values: &[&str]) -> Object {
    let mut allowed: Vec<Value> = values.iter().map(|value| Value::from(*value)).collect();
    allowed.push(Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(allowed))
        .build()
}
