//! The two client dialects, as the handlers see them: decode, encode, fold, errors.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use dialects::anthropic::{self, AnthropicErrors};
use dialects::canonical::{ClientError, ErrorKind, Request};
use dialects::encode::{ErrorEncoder, ReplyEncoder, ReplyFolder};
use dialects::openai::{self, OpenAiErrors};

/// Which client API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
}

impl Dialect {
    pub fn label(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
        }
    }

    pub fn decode(self, body: &[u8]) -> Result<Request, ClientError> {
        match self {
            Dialect::OpenAi => openai::decode_request(body),
            Dialect::Anthropic => anthropic::decode_request(body),
        }
    }

    pub fn encoder(self, req: &Request) -> Box<dyn ReplyEncoder> {
        match self {
            Dialect::OpenAi => Box::new(openai::SseEncoder::new(req.include_usage, &req.model)),
            Dialect::Anthropic => Box::new(anthropic::SseEncoder::new()),
        }
    }

    pub fn folder(self, req: &Request) -> Box<dyn ReplyFolder> {
        match self {
            Dialect::OpenAi => Box::new(openai::Folder::new(&req.model)),
            Dialect::Anthropic => Box::new(anthropic::Folder::new()),
        }
    }

    /// The status and JSON body of `err` in this dialect.
    pub fn error_body(self, err: &ClientError, request_id: &str) -> (u16, serde_json::Value) {
        match self {
            Dialect::OpenAi => OpenAiErrors::error_body(err),
            Dialect::Anthropic => AnthropicErrors::body_with_request_id(err, Some(request_id)),
        }
    }

    /// A complete error response: status, JSON body, `retry-after` and `x-should-retry`.
    pub fn error_response(self, err: &ClientError, request_id: &str) -> Response {
        let (status, body) = self.error_body(err, request_id);
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(body),
        )
            .into_response();
        error_headers(resp.headers_mut(), err);
        resp
    }

    /// SSE bytes of an error that happens after the stream started.
    pub fn error_event(self, err: &ClientError, out: &mut BytesMut) {
        match self {
            Dialect::OpenAi => openai::error_chunk(err, out),
            Dialect::Anthropic => anthropic::error_event(err, out),
        }
    }
}

/// `retry-after` when known, and `x-should-retry: false` when a retry cannot help (Claude Code
/// otherwise retries a 401 ten times over three minutes).
pub fn error_headers(headers: &mut HeaderMap, err: &ClientError) {
    if let Some(secs) = err.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if !err.kind.retryable() {
        headers.insert("x-should-retry", HeaderValue::from_static("false"));
    }
}

/// The error for a body the JSON extractor did not even get to read (over the size limit).
pub fn too_large(limit: usize) -> ClientError {
    ClientError::new(
        ErrorKind::RequestTooLarge,
        format!("request body is larger than the {limit}-byte limit"),
    )
}
