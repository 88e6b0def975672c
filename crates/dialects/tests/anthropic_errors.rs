//! Error bodies, the in-stream error event, models and count_tokens replies.

use bytes::BytesMut;
use dialects::anthropic::{
    AnthropicErrors, ModelListing, count_tokens_response, error_event, models_response,
    prompt_too_long,
};
use dialects::canonical::{ClientError, ErrorKind};
use dialects::encode::ErrorEncoder;
use serde_json::json;

#[test]
fn statuses_and_types() {
    let cases = [
        (ErrorKind::InvalidRequest, 400, "invalid_request_error"),
        (
            ErrorKind::ContextLengthExceeded,
            400,
            "invalid_request_error",
        ),
        (ErrorKind::Authentication, 401, "authentication_error"),
        (ErrorKind::PermissionDenied, 403, "permission_error"),
        (ErrorKind::NotFound, 404, "not_found_error"),
        (ErrorKind::RequestTooLarge, 413, "request_too_large"),
        (ErrorKind::RateLimited, 429, "rate_limit_error"),
        (ErrorKind::Api, 500, "api_error"),
        (ErrorKind::Timeout, 504, "timeout_error"),
        (ErrorKind::Overloaded, 529, "overloaded_error"),
    ];
    for (kind, status, ty) in cases {
        let (got, body) = AnthropicErrors::error_body(&ClientError::new(kind, "msg"));
        assert_eq!(got, status, "{kind:?}");
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], ty, "{kind:?}");
        assert!(body.get("request_id").is_none());
    }
}

#[test]
fn golden_bodies() {
    let (_, body) = AnthropicErrors::body_with_request_id(
        &ClientError::new(ErrorKind::NotFound, "model `claude-x` not found"),
        Some("req_011CTest"),
    );
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "not_found_error", "message": "model `claude-x` not found"}, "request_id": "req_011CTest"})
    );
    let (_, body) = AnthropicErrors::error_body(&ClientError::invalid_param(
        "messages[0].content",
        "must not be empty",
    ));
    assert_eq!(
        body["error"]["message"],
        "messages[0].content: must not be empty"
    );
    let (_, body) = AnthropicErrors::error_body(&ClientError::new(ErrorKind::Overloaded, ""));
    assert_eq!(body["error"]["message"], "Overloaded");
}

#[test]
fn prompt_too_long_wording() {
    let (status, body) =
        AnthropicErrors::error_body(&prompt_too_long(Some(215_000), Some(200_000)));
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: 215000 tokens > 200000 maximum"
    );
    let (_, body) = AnthropicErrors::error_body(&prompt_too_long(None, Some(1)));
    assert_eq!(body["error"]["message"], "prompt is too long");
    let (_, body) = AnthropicErrors::error_body(&ClientError::new(
        ErrorKind::ContextLengthExceeded,
        "Input is too long.",
    ));
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: Input is too long."
    );
    let (_, body) =
        AnthropicErrors::error_body(&ClientError::new(ErrorKind::ContextLengthExceeded, ""));
    assert_eq!(body["error"]["message"], "prompt is too long");
}

#[test]
fn in_stream_error_event() {
    let mut out = BytesMut::new();
    error_event(
        &ClientError::new(ErrorKind::Overloaded, "Overloaded \"now\"\nretry"),
        &mut out,
    );
    assert_eq!(
        std::str::from_utf8(&out).expect("utf-8"),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded \\\"now\\\"\\nretry\"}}\n\n"
    );
}

#[test]
fn models_list_shape() {
    let models = [
        ModelListing {
            id: "claude-sonnet-4-6".into(),
            display_name: "Claude Sonnet 4.6".into(),
            created: 1_759_276_800,
        },
        ModelListing {
            id: "claude-haiku-4-5".into(),
            display_name: "Claude Haiku 4.5".into(),
            created: 1_760_000_000,
        },
    ];
    insta::assert_json_snapshot!("models_list", models_response(&models));
    assert_eq!(
        models_response(&[]),
        json!({"data": [], "has_more": false, "first_id": null, "last_id": null})
    );
}

#[test]
fn count_tokens_shape() {
    assert_eq!(count_tokens_response(7626), json!({"input_tokens": 7626}));
}
