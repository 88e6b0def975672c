//! Errors in Anthropic's shape: `{"type":"error","error":{"type":…,"message":…},"request_id":…}`
//! with the documented statuses, and the in-stream `event: error`.

use std::borrow::Cow;

use bytes::BytesMut;
use serde_json::{Value, json};

use super::sse::write_event;
use super::wire::{ErrorDetail, ErrorOut};
use crate::canonical::{ClientError, ErrorKind};
use crate::encode::ErrorEncoder;

/// The Anthropic error encoder for errors before any reply bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicErrors;

impl ErrorEncoder for AnthropicErrors {
    fn error_body(err: &ClientError) -> (u16, Value) {
        AnthropicErrors::body_with_request_id(err, None)
    }
}

impl AnthropicErrors {
    /// The HTTP status: 400, 401, 403, 404, 413, 429, 500, 504, and 529 for overload.
    pub fn status(kind: ErrorKind) -> u16 {
        kind.status()
    }

    /// The error body with the top-level `request_id` the real API adds (the same value as the
    /// `request-id` header).
    pub fn body_with_request_id(err: &ClientError, request_id: Option<&str>) -> (u16, Value) {
        let mut body = json!({
            "type": "error",
            "error": { "type": error_type(err.kind), "message": message(err) },
        });
        if let (Some(id), Value::Object(map)) = (request_id, &mut body) {
            map.insert("request_id".to_owned(), Value::String(id.to_owned()));
        }
        (Self::status(err.kind), body)
    }
}

/// Anthropic's `error.type` for a kind. `timeout_error` (504) is in the API's published error
/// types; `request_too_large` is what the 413 carries.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::Api => "api_error",
        ErrorKind::Timeout => "timeout_error",
    }
}

/// Appends `event: error` for a failure after the stream started. Nothing may follow it (no
/// `message_stop`): Claude Code then falls back to a non-streaming request, the SDK raises.
pub fn error_event(err: &ClientError, out: &mut BytesMut) {
    let message = message(err);
    write_event(
        out,
        "error",
        &ErrorOut {
            kind: "error",
            error: ErrorDetail {
                kind: error_type(err.kind),
                message: &message,
            },
            request_id: None,
        },
    );
}

const TOO_LONG: &str = "prompt is too long";

/// A context-overflow error worded as the real API words it, which Claude Code recognises
/// (`prompt is too long: 215000 tokens > 200000 maximum`).
pub fn prompt_too_long(tokens: Option<u64>, maximum: Option<u64>) -> ClientError {
    let message = match (tokens, maximum) {
        (Some(n), Some(m)) => format!("{TOO_LONG}: {n} tokens > {m} maximum"),
        _ => TOO_LONG.to_owned(),
    };
    ClientError::new(ErrorKind::ContextLengthExceeded, message)
}

/// The message shown: context overflows always start with `prompt is too long`; a `param` the
/// message does not mention is prefixed, since Anthropic bodies have no `param` field.
fn message(err: &ClientError) -> Cow<'_, str> {
    let text = err.message.as_str();
    if err.kind == ErrorKind::ContextLengthExceeded {
        return if text.is_empty() {
            Cow::Borrowed(TOO_LONG)
        } else if text.starts_with(TOO_LONG) {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(format!("{TOO_LONG}: {text}"))
        };
    }
    if text.is_empty() {
        return Cow::Borrowed(default_message(err.kind));
    }
    match &err.param {
        Some(param) if !param.is_empty() && !text.contains(param.as_str()) => {
            Cow::Owned(format!("{param}: {text}"))
        }
        _ => Cow::Borrowed(text),
    }
}

fn default_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid request",
        ErrorKind::ContextLengthExceeded => TOO_LONG,
        ErrorKind::Authentication => "invalid x-api-key",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::NotFound => "not found",
        ErrorKind::RequestTooLarge => "request exceeds the maximum allowed number of bytes",
        ErrorKind::RateLimited => "rate limited",
        ErrorKind::Overloaded => "Overloaded",
        ErrorKind::Api => "Internal server error",
        ErrorKind::Timeout => "the upstream did not answer in time",
    }
}
