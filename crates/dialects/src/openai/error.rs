//! OpenAI error bodies: `{"error":{"message","type","param","code"}}`.
//!
//! | kind | status | `type` | `code` |
//! |---|---|---|---|
//! | InvalidRequest | 400 | `invalid_request_error` | null |
//! | ContextLengthExceeded | 400 | `invalid_request_error` | `context_length_exceeded` (`param` defaults to `messages`) |
//! | Authentication | 401 | `invalid_request_error` | `invalid_api_key` (what OpenAI sends for a bad key) |
//! | PermissionDenied | 403 | `permission_error` | null |
//! | NotFound | 404 | `invalid_request_error` | `model_not_found` |
//! | RequestTooLarge | 413 | `invalid_request_error` | `request_too_large` |
//! | RateLimited | 429 | `requests` | `rate_limit_exceeded` (OpenAI's request-rate limit) |
//! | Overloaded | 503 | `server_error` | `service_unavailable` |
//! | Api | 500 | `server_error` | null |
//! | Timeout | 504 | `server_error` | `timeout` |
//!
//! Overloaded is 503 rather than Anthropic's 529: 503 is what OpenAI itself answers when it is
//! overloaded, and the OpenAI SDKs retry it. The SDKs map errors by status only; `type` and
//! `code` are for people and for clients that switch on `code`.
//!
//! Mid-stream, the same object goes out as one `data: {"error":{…}}` chunk and the stream ends
//! without `[DONE]`: the OpenAI SDKs raise `APIError` on that chunk (captures README §3), and a
//! `[DONE]` after it would let lenient clients take a truncated answer for a complete one.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::write;
use crate::canonical::{ClientError, ErrorKind};
use crate::encode::ErrorEncoder;

/// The OpenAI dialect's [`ErrorEncoder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiErrors;

struct Shape {
    status: u16,
    kind: &'static str,
    code: Option<&'static str>,
}

fn shape(kind: ErrorKind) -> Shape {
    let (status, kind, code) = match kind {
        ErrorKind::InvalidRequest => (400, "invalid_request_error", None),
        ErrorKind::ContextLengthExceeded => (
            400,
            "invalid_request_error",
            Some("context_length_exceeded"),
        ),
        ErrorKind::Authentication => (401, "invalid_request_error", Some("invalid_api_key")),
        ErrorKind::PermissionDenied => (403, "permission_error", None),
        ErrorKind::NotFound => (404, "invalid_request_error", Some("model_not_found")),
        ErrorKind::RequestTooLarge => (413, "invalid_request_error", Some("request_too_large")),
        ErrorKind::RateLimited => (429, "requests", Some("rate_limit_exceeded")),
        ErrorKind::Overloaded => (503, "server_error", Some("service_unavailable")),
        ErrorKind::Api => (500, "server_error", None),
        ErrorKind::Timeout => (504, "server_error", Some("timeout")),
    };
    Shape { status, kind, code }
}

fn param(err: &ClientError) -> Option<&str> {
    match (&err.param, err.kind) {
        (Some(p), _) => Some(p.as_str()),
        (None, ErrorKind::ContextLengthExceeded) => Some("messages"),
        (None, _) => None,
    }
}

impl OpenAiErrors {
    /// The HTTP status OpenAI clients get for `kind` (differs from [`ErrorKind::status`] for
    /// Overloaded).
    pub fn status(kind: ErrorKind) -> u16 {
        shape(kind).status
    }
}

impl ErrorEncoder for OpenAiErrors {
    fn error_body(err: &ClientError) -> (u16, Value) {
        let shape = shape(err.kind);
        let body = json!({
            "error": {
                "message": err.message,
                "type": shape.kind,
                "param": param(err),
                "code": shape.code,
            }
        });
        (shape.status, body)
    }
}

/// Appends the mid-stream error chunk `data: {"error":{…}}\n\n` (no `[DONE]` follows).
pub fn error_chunk(err: &ClientError, out: &mut BytesMut) {
    let shape = shape(err.kind);
    out.extend_from_slice(b"data: {\"error\":{\"message\":");
    write::json_str(out, &err.message);
    out.extend_from_slice(b",\"type\":");
    write::json_str(out, shape.kind);
    out.extend_from_slice(b",\"param\":");
    opt_str(out, param(err));
    out.extend_from_slice(b",\"code\":");
    opt_str(out, shape.code);
    out.extend_from_slice(b"}}\n\n");
}

fn opt_str(out: &mut BytesMut, value: Option<&str>) {
    match value {
        Some(s) => write::json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}
