//! Field-by-field reading of a JSON object from an imported file: every error names the field,
//! never the value (which may be a secret).

use serde_json::{Map, Value};

/// Field-by-field reading of a JSON object; errors name the field, never the value.
pub(super) struct Fields<'a>(pub(super) &'a Map<String, Value>);

impl Fields<'_> {
    pub(super) fn value(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A trimmed string; empty counts as absent.
    pub(super) fn str(&self, key: &str) -> Result<Option<String>, String> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_owned()))
            }
            Some(_) => Err(format!("`{key}` must be a string")),
        }
    }

    pub(super) fn first_str(&self, keys: &[&str]) -> Result<Option<String>, String> {
        for key in keys {
            if let Some(s) = self.str(key)? {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("`{key}` must be a boolean")),
        }
    }

    pub(super) fn u32(&self, key: &str) -> Result<Option<u32>, String> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("`{key}` must be a whole number ≥ 0")),
        }
    }

    /// Unix seconds (or milliseconds, told apart by size), as a number or digits, or an
    /// ISO-8601 / RFC 3339 date.
    pub(super) fn time(&self, key: &str) -> Result<Option<i64>, String> {
        let bad = || format!("`{key}` must be Unix seconds or an RFC 3339 date");
        let number = |n: f64| -> Option<i64> {
            if !n.is_finite() || !(0.0..=1e16).contains(&n) {
                return None;
            }
            // 1e11 seconds is the year 5138: anything larger is milliseconds.
            let secs = if n >= 1e11 { n / 1000.0 } else { n };
            Some(secs.floor() as i64)
        };
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().and_then(number).map(Some).ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.bytes().all(|b| b.is_ascii_digit()) {
                    s.parse::<f64>()
                        .ok()
                        .and_then(number)
                        .map(Some)
                        .ok_or_else(bad)
                } else {
                    kiro_wire::num::parse_iso8601(s).map(Some).ok_or_else(bad)
                }
            }
            Some(_) => Err(bad()),
        }
    }
}
