//! Reading admin request bodies field by field, so that every error names its field.
//!
//! Unknown fields are accepted and ignored; a known field with the wrong type is a 400 naming it.
//! Strings are trimmed (pasted tokens often carry a newline) and an empty string counts as absent.

use serde_json::{Map, Value};

use super::error::ApiError;

/// A JSON object body.
#[derive(Debug)]
pub(super) struct JsonBody(Map<String, Value>);

impl JsonBody {
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("request body must be a JSON object"));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::bad_request("request body must be a JSON object")),
            Err(e) => Err(ApiError::bad_request(format!(
                "request body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))),
        }
    }

    /// True when `field` is present, even as `null` (a PATCH clears a field with `null`).
    pub(super) fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The field names present.
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The raw value of `field`, `None` when absent or `null`.
    pub(super) fn value(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// An optional string field.
    pub(super) fn opt_str(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_owned()))
            }
            Some(other) => Err(wrong_type(field, "a string", other)),
        }
    }

    /// A required string field; `why` completes "`field` is required …".
    pub(super) fn req_str(&self, field: &str, why: &str) -> Result<String, ApiError> {
        self.opt_str(field)?
            .ok_or_else(|| ApiError::bad_request(format!("`{field}` is required {why}")))
    }

    /// An optional boolean field.
    pub(super) fn opt_bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(field, "a boolean", other)),
        }
    }
}

/// "`field` must be X, not Y" (naming the JSON type, never echoing the value).
pub(super) fn wrong_type(field: &str, expected: &str, got: &Value) -> ApiError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ApiError::bad_request(format!("`{field}` must be {expected}, not {got}"))
}
