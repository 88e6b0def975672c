//! Lenient deserialisers for non-numeric scalars (numbers live in [`crate::num`]).
//!
//! Used where a wrong-typed value should read as "absent" rather than fail the whole body: files
//! written by other programs, and flags whose type has varied between service builds.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string; a number or boolean is kept as its JSON text; anything else becomes `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
        _ => None,
    })
}

/// A boolean; `"true"`/`"false"` strings (any case) are accepted; anything else becomes `None`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// A boolean that reads as `false` when absent, `null` or unreadable.
pub(crate) fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// A list where `null` means empty (AWS services sometimes send `null` for an absent list).
pub(crate) fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "vec_or_null")]
        v: Vec<u8>,
    }

    fn parse(s: &str) -> T {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn wrong_types_read_as_absent() {
        assert_eq!(parse(r#"{"s": "x"}"#).s.as_deref(), Some("x"));
        assert_eq!(parse(r#"{"s": 12}"#).s.as_deref(), Some("12"));
        assert_eq!(parse(r#"{"s": {"a": 1}}"#).s, None);
        assert_eq!(parse(r#"{"s": null}"#).s, None);
        assert_eq!(parse(r#"{"b": true}"#).b, Some(true));
        assert_eq!(parse(r#"{"b": "FALSE"}"#).b, Some(false));
        assert_eq!(parse(r#"{"b": 1}"#).b, None);
        assert_eq!(parse(r#"{}"#).b, None);
        assert_eq!(parse(r#"{"v": null}"#).v, Vec::<u8>::new());
        assert_eq!(parse(r#"{"v": [1]}"#).v, vec![1]);
    }
}
