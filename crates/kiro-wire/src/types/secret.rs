//! A string that must never reach a log: tokens, client secrets, device codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A credential carried on the wire. It serialises as the plain string (the upstream needs it),
/// but its `Debug` prints `[redacted]`, so deriving `Debug` on a body cannot leak it.
///
/// Equality is not constant-time: this is for tokens handed to the upstream, not for comparing
/// client API keys.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text, for building a request or a header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in bytes, for sanity checks (spec §2.1: truncated refresh tokens are short).
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_serde_is_transparent() {
        let s = Secret::from("aorAAAA-secret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""aorAAAA-secret""#);
        let back: Secret = serde_json::from_str(r#""x""#).unwrap();
        assert_eq!(back.expose(), "x");
    }
}
