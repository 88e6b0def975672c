//! Typed access to request JSON, with OpenAI-style `param` paths (`messages[1].content[0].text`)
//! and OpenAI-style messages in every error.
//!
//! Paths are built on the stack and only formatted when an error is reported, so the happy path
//! allocates nothing for them.

use std::fmt;

use serde_json::{Map, Value};

use crate::canonical::ClientError;

/// Where a value sits in the request body, formatted the way OpenAI reports `param`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Path<'a> {
    Field(&'static str),
    Key(&'a Path<'a>, &'static str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(super) fn key(&'a self, key: &'static str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(super) fn at(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Field(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// How OpenAI names a JSON type in its "Invalid type" messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn invalid_type(path: Path<'_>, expected: &str, got: &Value) -> ClientError {
    let param = path.to_string();
    let message = format!(
        "Invalid type for '{param}': expected {expected}, but got {} instead.",
        type_name(got)
    );
    ClientError::invalid_param(param, message)
}

pub(super) fn missing(path: Path<'_>) -> ClientError {
    let param = path.to_string();
    let message = format!("Missing required parameter: '{param}'.");
    ClientError::invalid_param(param, message)
}

/// `supported` is a ready-made list such as `'auto', 'none' and 'required'`.
pub(super) fn invalid_value(path: Path<'_>, value: &str, supported: &str) -> ClientError {
    let message = format!("Invalid value: '{value}'. Supported values are: {supported}.");
    ClientError::invalid_param(path.to_string(), message)
}

pub(super) fn invalid(path: Path<'_>, message: impl Into<String>) -> ClientError {
    ClientError::invalid_param(path.to_string(), message)
}

/// Removes `key`; JSON `null` counts as absent, as it does for OpenAI's optional parameters.
pub(super) fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    match map.remove(key) {
        None | Some(Value::Null) => None,
        some => some,
    }
}

pub(super) fn require(map: &mut Map<String, Value>, path: Path<'_>) -> Result<Value, ClientError> {
    let key = match path {
        Path::Field(key) | Path::Key(_, key) => key,
        Path::Index(..) => return Err(missing(path)),
    };
    take(map, key).ok_or_else(|| missing(path))
}

pub(super) fn into_object(value: Value, path: Path<'_>) -> Result<Map<String, Value>, ClientError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(invalid_type(path, "an object", &other)),
    }
}

pub(super) fn into_string(value: Value, path: Path<'_>) -> Result<String, ClientError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(invalid_type(path, "a string", &other)),
    }
}

pub(super) fn into_array(value: Value, path: Path<'_>) -> Result<Vec<Value>, ClientError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(invalid_type(path, "an array", &other)),
    }
}

/// The string at `key`, if present and not null.
pub(super) fn opt_string(
    map: &mut Map<String, Value>,
    path: Path<'_>,
    key: &'static str,
) -> Result<Option<String>, ClientError> {
    take(map, key)
        .map(|v| into_string(v, path.key(key)))
        .transpose()
}

/// The string at the field `path` names (a `Key` or `Field` path), required.
pub(super) fn required_string(
    map: &mut Map<String, Value>,
    path: Path<'_>,
) -> Result<String, ClientError> {
    into_string(require(map, path)?, path)
}

pub(super) fn opt_bool(value: Option<Value>, path: Path<'_>) -> Result<Option<bool>, ClientError> {
    match value {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(invalid_type(path, "a boolean", &other)),
    }
}

/// A non-negative integer (`1.0` is not one, as for OpenAI).
pub(super) fn opt_u64(value: Option<Value>, path: Path<'_>) -> Result<Option<u64>, ClientError> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
        Some(other) => Err(invalid_type(path, "a non-negative integer", &other)),
    }
}

/// Checks the type of a parameter that is accepted and otherwise ignored.
pub(super) fn check_type(
    value: Option<&Value>,
    path: Path<'_>,
    expected: Expected,
) -> Result<(), ClientError> {
    let Some(value) = value else { return Ok(()) };
    let ok = match expected {
        Expected::Number => value.is_number(),
        Expected::Integer => value.is_i64() || value.is_u64(),
        Expected::Bool => value.is_boolean(),
        Expected::String => value.is_string(),
        Expected::Object => value.is_object(),
    };
    if ok || value.is_null() {
        Ok(())
    } else {
        Err(invalid_type(path, expected.describe(), value))
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Expected {
    Number,
    Integer,
    Bool,
    String,
    Object,
}

impl Expected {
    fn describe(self) -> &'static str {
        match self {
            Expected::Number => "a decimal",
            Expected::Integer => "an integer",
            Expected::Bool => "a boolean",
            Expected::String => "a string",
            Expected::Object => "an object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_format_like_openai() {
        let messages = Path::Field("messages");
        let msg = messages.at(2);
        let content = msg.key("content");
        let part = content.at(0);
        assert_eq!(
            part.key("image_url").to_string(),
            "messages[2].content[0].image_url"
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let mut map = Map::new();
        map.insert("a".into(), Value::Null);
        assert!(take(&mut map, "a").is_none());
        let err = require(&mut map, Path::Field("a")).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("a"));
    }
}
