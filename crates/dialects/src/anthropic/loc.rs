//! Where a value sits in a request body, and typed access to JSON fields that reports that place.
//!
//! A [`Loc`] is a chain of borrowed steps on the stack: nothing is allocated unless an error has
//! to name the field (`messages[2].content[0].source.data`).

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use crate::canonical::ClientError;

pub(super) type Object = Map<String, Value>;

#[derive(Debug, Clone, Copy)]
pub(super) enum Loc<'a> {
    Root,
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl<'a> Loc<'a> {
    pub(super) fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc::Key(self, key)
    }

    pub(super) fn index(&'a self, index: usize) -> Loc<'a> {
        Loc::Index(self, index)
    }

    /// A 400 naming this field, both in `param` and at the start of the message (Anthropic error
    /// bodies have no `param`, so the message must carry it).
    pub(super) fn invalid(&self, message: impl fmt::Display) -> ClientError {
        let param = self.to_string();
        if param.is_empty() {
            return ClientError::invalid(message.to_string());
        }
        let message = format!("{param}: {message}");
        ClientError::invalid_param(param, message)
    }

    pub(super) fn required(&self) -> ClientError {
        self.invalid("field required")
    }

    pub(super) fn wrong_type(&self, expected: &str, got: &Value) -> ClientError {
        self.invalid(format_args!("expected {expected}, got {}", kind_of(got)))
    }
}

impl fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Root => Ok(()),
            Loc::Key(parent, key) => {
                if matches!(parent, Loc::Root) {
                    f.write_str(key)
                } else {
                    write!(f, "{parent}.{key}")
                }
            }
            Loc::Index(parent, index) => {
                fmt::Display::fmt(parent, f)?;
                f.write_char('[')?;
                write!(f, "{index}")?;
                f.write_char(']')
            }
        }
    }
}

/// How a JSON value is described in error messages.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn into_object(value: Value, loc: &Loc<'_>) -> Result<Object, ClientError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(loc.wrong_type("an object", &other)),
    }
}

/// Removes `key` from `obj`; an explicit `null` counts as absent, as in the real API.
pub(super) fn take(obj: &mut Object, key: &str) -> Option<Value> {
    match obj.remove(key) {
        None | Some(Value::Null) => None,
        Some(value) => Some(value),
    }
}

pub(super) fn opt_string(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<Option<String>, ClientError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(loc.key(key).wrong_type("a string", &other)),
    }
}

pub(super) fn req_string(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<String, ClientError> {
    opt_string(obj, key, loc)?.ok_or_else(|| loc.key(key).required())
}

/// A required string that must not be empty (ids, names).
pub(super) fn req_nonempty(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<String, ClientError> {
    let s = req_string(obj, key, loc)?;
    if s.is_empty() {
        return Err(loc.key(key).invalid("must not be empty"));
    }
    Ok(s)
}

pub(super) fn opt_bool(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<Option<bool>, ClientError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(loc.key(key).wrong_type("a boolean", &other)),
    }
}

/// A non-negative integer; `64000.0` is accepted as `64000` (JSON has one number type).
pub(super) fn opt_u64(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<Option<u64>, ClientError> {
    let Some(value) = take(obj, key) else {
        return Ok(None);
    };
    let here = loc.key(key);
    let Value::Number(n) = &value else {
        return Err(here.wrong_type("an integer", &value));
    };
    if let Some(u) = n.as_u64() {
        return Ok(Some(u));
    }
    match n.as_f64() {
        // `as` saturates; the guard keeps it to whole non-negative numbers in range.
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => Ok(Some(f as u64)),
        Some(f) if f < 0.0 => Err(here.invalid("must be a non-negative integer")),
        _ => Err(here.invalid("must be an integer")),
    }
}

pub(super) fn opt_array(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<Option<Vec<Value>>, ClientError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(loc.key(key).wrong_type("an array", &other)),
    }
}

pub(super) fn opt_object(
    obj: &mut Object,
    key: &str,
    loc: &Loc<'_>,
) -> Result<Option<Object>, ClientError> {
    match take(obj, key) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(loc.key(key).wrong_type("an object", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paths() {
        let root = Loc::Root;
        let messages = root.key("messages");
        let m2 = messages.index(2);
        let content = m2.key("content");
        let c0 = content.index(0);
        let data = c0.key("source");
        let data = data.key("data");
        assert_eq!(data.to_string(), "messages[2].content[0].source.data");
        let err = data.required();
        assert_eq!(
            err.param.as_deref(),
            Some("messages[2].content[0].source.data")
        );
        assert_eq!(
            err.message,
            "messages[2].content[0].source.data: field required"
        );
        assert_eq!(Loc::Root.invalid("x").param, None);
    }
}
