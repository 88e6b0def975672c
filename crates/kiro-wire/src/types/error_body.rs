//! The JSON error body of chat, usage, models and MCP errors (§8.2), also seen under HTTP 200
//! (§8.4): `{"message", "reason", "__type"}`.

use serde::{Deserialize, Serialize};

use super::lenient;

/// An upstream error body. Reads `message` or `Message` (AWS uses both); writes `message`.
/// Classification reads [`UpstreamErrorBody::reason`] first, then
/// [`UpstreamErrorBody::error_type`] (§8.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "RawErrorBody")]
pub struct UpstreamErrorBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `null` in many bodies; authoritative when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `__type`, e.g. `com.amazon.aws.codewhisperer#ThrottlingException`.
    #[serde(rename = "__type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// Both spellings of `message` as separate keys, so a body carrying both still parses.
#[derive(Deserialize)]
struct RawErrorBody {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    message: Option<String>,
    #[serde(default, rename = "Message", deserialize_with = "lenient::opt_string")]
    message_upper: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    reason: Option<String>,
    #[serde(default, rename = "__type", deserialize_with = "lenient::opt_string")]
    type_: Option<String>,
}

impl From<RawErrorBody> for UpstreamErrorBody {
    fn from(raw: RawErrorBody) -> Self {
        UpstreamErrorBody {
            message: raw.message.or(raw.message_upper),
            reason: raw.reason,
            type_: raw.type_,
        }
    }
}

impl UpstreamErrorBody {
    /// Parses a body; `None` when it is not a JSON object (an empty or HTML body, say).
    pub fn parse(body: &[u8]) -> Option<UpstreamErrorBody> {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v @ serde_json::Value::Object(_)) => serde_json::from_value(v).ok(),
            _ => None,
        }
    }

    /// The message, when non-blank.
    pub fn message(&self) -> Option<&str> {
        non_blank(self.message.as_deref())
    }

    /// The reason (`INVALID_MODEL_ID`, ...), when non-blank.
    pub fn reason(&self) -> Option<&str> {
        non_blank(self.reason.as_deref())
    }

    /// The exception name from `__type` without its namespace: `ThrottlingException`.
    pub fn error_type(&self) -> Option<&str> {
        self.type_
            .as_deref()
            .map(strip_exception_decoration)
            .filter(|s| !s.is_empty())
    }
}

/// The exception name of an `x-amzn-ErrorType` header value or `__type`, stripped of its `…#`
/// prefix and `:…` suffix (`ThrottlingException:http://internal.amazon.com/…` gives
/// `ThrottlingException`). `None` when blank.
pub fn error_type_name(raw: &str) -> Option<&str> {
    Some(strip_exception_decoration(raw)).filter(|s| !s.is_empty())
}

/// Strips the AWS decorations around an exception name: a `…#` namespace prefix and a `:…`
/// suffix (the `x-amzn-ErrorType` header form). Shared with the OIDC error code
/// reader.
pub(crate) fn strip_exception_decoration(raw: &str) -> &str {
    let raw = raw.trim();
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

fn non_blank(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decorations_are_stripped() {
        assert_eq!(
            strip_exception_decoration("com.amazonaws.ssooidc#SlowDownException"),
            "SlowDownException"
        );
        assert_eq!(
            strip_exception_decoration("SlowDownException:http://internal.amazon.com/coral/x/"),
            "SlowDownException"
        );
        assert_eq!(strip_exception_decoration("  "), "");
    }
}
