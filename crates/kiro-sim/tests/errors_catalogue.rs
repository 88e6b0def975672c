//! Every error kind answers with the exact body of spec §8.2/§8.3 (or, where the spec gives no
//! text, the wording documented in `errors.rs`), its default status and the right headers.

use std::collections::HashSet;
use std::str::FromStr;

use kiro_sim::errors::{self, ErrorKind};

/// (snake_case name, default status, exact body). Rows marked `spec` quote the spec verbatim.
const TABLE: &[(&str, u16, &str)] = &[
    // spec
    (
        "improperly_formed",
        400,
        r#"{"message":"Improperly formed request.","reason":null}"#,
    ),
    (
        "improperly_formed_body_invalid",
        400,
        r#"{"message":"Improperly formed request.","reason":"REQUEST_BODY_INVALID"}"#,
    ),
    (
        "improperly_formed_validation",
        400,
        r#"{"__type":"com.amazon.aws.codewhisperer#ValidationException","message":"Improperly formed request.","reason":null}"#,
    ),
    (
        "content_length_exceeded",
        400,
        r#"{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}"#,
    ),
    (
        "invalid_model_id",
        400,
        r#"{"message":"Invalid model. Please select a different model to continue.","reason":"INVALID_MODEL_ID"}"#,
    ),
    (
        "invalid_model_id_short",
        400,
        r#"{"message":"Invalid model ID.","reason":"INVALID_MODEL_ID"}"#,
    ),
    (
        "thinking_signature_invalid",
        400,
        r#"{"message":"messages.1.content.0: Invalid signature in thinking block","reason":"THINKING_SIGNATURE_INVALID"}"#,
    ),
    (
        "insufficient_model_capacity",
        429,
        r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"I am experiencing high traffic, please try again shortly.","reason":"INSUFFICIENT_MODEL_CAPACITY"}"#,
    ),
    (
        "service_request_rate_exceeded",
        429,
        r#"{"message":"Too many requests, please wait before trying again.","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}"#,
    ),
    (
        "monthly_request_count",
        402,
        r#"{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}"#,
    ),
    (
        "bearer_token_invalid",
        403,
        r#"{"message":"The bearer token included in the request is invalid.","reason":null}"#,
    ),
    (
        "high_load",
        500,
        r#"{"message":"Encountered unexpectedly high load when processing the request, please try again.","reason":null}"#,
    ),
    (
        "social_invalid_refresh_token",
        400,
        r#"{"message":"Invalid refresh token provided"}"#,
    ),
    ("social_unauthorized", 401, ""),
    (
        "invalid_grant",
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid grant provided"}"#,
    ),
    (
        "expired_client",
        401,
        r#"{"error":"invalid_client","error_description":"Client is expired"}"#,
    ),
    // our wording where the spec has none
    (
        "throttling",
        429,
        r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"Rate exceeded."}"#,
    ),
    (
        "suspicious_activity",
        429,
        r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"We have detected suspicious activity on your account and temporarily limited its requests. Please try again later.","reason":null}"#,
    ),
    (
        "unauthorized",
        401,
        r#"{"message":"Unauthorized.","reason":null}"#,
    ),
    (
        "temporarily_suspended",
        403,
        r#"{"message":"Your User ID (d-9067642ac7.14e8a4f8-50b1-70c3-1bcd-3b5e7c9d2f10) temporarily is suspended. We've locked your account as a security precaution. To unlock it, please contact AWS Support.","reason":"TEMPORARILY_SUSPENDED"}"#,
    ),
    (
        "access_denied_exception",
        403,
        r#"{"__type":"com.amazon.aws.codewhisperer#AccessDeniedException","message":"User is not authorized to make this call.","reason":null}"#,
    ),
    (
        "internal_server",
        500,
        r#"{"__type":"com.amazon.aws.codewhisperer#InternalServerException","message":"Encountered an unexpected error when processing the request, please try again.","reason":null}"#,
    ),
    (
        "bad_gateway",
        502,
        r#"{"message":"Bad Gateway","reason":null}"#,
    ),
    (
        "service_unavailable",
        503,
        r#"{"__type":"com.amazon.aws.codewhisperer#ServiceUnavailableException","message":"Service is temporarily unavailable. Please try again later.","reason":null}"#,
    ),
    (
        "model_temporarily_unavailable",
        503,
        r#"{"message":"The model is temporarily unavailable. Please try again later.","reason":"MODEL_TEMPORARILY_UNAVAILABLE"}"#,
    ),
    (
        "gateway_timeout",
        504,
        r#"{"message":"Gateway Timeout","reason":null}"#,
    ),
    (
        "invalid_profile_arn",
        400,
        r#"{"__type":"com.amazon.aws.codewhisperer#ValidationException","message":"Invalid profileArn","reason":null}"#,
    ),
    (
        "feature_not_supported",
        403,
        r#"{"__type":"com.amazon.aws.codewhisperer#AccessDeniedException","message":"This feature is not supported for your profile.","reason":"FEATURE_NOT_SUPPORTED"}"#,
    ),
    (
        "authorization_pending",
        400,
        r#"{"error":"authorization_pending","error_description":null}"#,
    ),
    (
        "slow_down",
        400,
        r#"{"error":"slow_down","error_description":null}"#,
    ),
    (
        "expired_token",
        400,
        r#"{"error":"expired_token","error_description":"Token is expired"}"#,
    ),
    (
        "access_denied",
        400,
        r#"{"error":"access_denied","error_description":"Authorization request was denied"}"#,
    ),
    (
        "invalid_client",
        401,
        r#"{"error":"invalid_client","error_description":"Invalid client provided"}"#,
    ),
    (
        "unauthorized_client",
        400,
        r#"{"error":"unauthorized_client","error_description":"Client is not authorized for this grant type"}"#,
    ),
    (
        "unsupported_grant_type",
        400,
        r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type"}"#,
    ),
    (
        "invalid_request",
        400,
        r#"{"error":"invalid_request","error_description":"Invalid request"}"#,
    ),
    (
        "invalid_scope",
        400,
        r#"{"error":"invalid_scope","error_description":"Invalid scope requested"}"#,
    ),
    (
        "invalid_client_metadata",
        400,
        r#"{"error":"invalid_client_metadata","error_description":"Invalid client metadata"}"#,
    ),
    (
        "server_error",
        500,
        r#"{"error":"server_error","error_description":"An internal server error occurred"}"#,
    ),
];

fn header<'a>(resp: &'a errors::UpstreamErrorResponse, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn every_kind_has_its_exact_body_and_status() {
    for (name, status, body) in TABLE {
        let kind = ErrorKind::from_str(name).unwrap();
        let resp = kind.response();
        assert_eq!(resp.body, *body, "{name}");
        assert_eq!(resp.status, *status, "{name}");
        assert_eq!(kind.name(), *name);
        assert_eq!(kind.to_string(), *name);
    }
}

#[test]
fn table_covers_every_kind_once() {
    let names: HashSet<&str> = TABLE.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(names.len(), TABLE.len(), "duplicate row");
    assert_eq!(ErrorKind::all().len(), TABLE.len());
    for kind in ErrorKind::all() {
        assert!(
            names.contains(kind.name().as_str()),
            "{kind:?} not in table"
        );
    }
}

#[test]
fn bodies_are_json_and_accessors_agree_with_them() {
    for kind in ErrorKind::all() {
        let resp = kind.response();
        if resp.body.is_empty() {
            assert_eq!(header(&resp, "content-type"), None);
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(
            header(&resp, "content-type"),
            Some("application/json"),
            "{kind:?}"
        );
        assert_eq!(v["reason"].as_str(), kind.reason(), "{kind:?}");
        let text = v
            .get("message")
            .or_else(|| v.get("error_description"))
            .and_then(|m| m.as_str())
            .unwrap_or("");
        assert_eq!(text, kind.message(), "{kind:?}");
        assert_eq!(v["error"].as_str(), kind.oidc_error(), "{kind:?}");
        assert_eq!(
            kind.is_auth_endpoint(),
            kind.oidc_error().is_some() || kind.name().starts_with("social_")
        );
        if let Some(t) = v["__type"].as_str() {
            let short = t.strip_prefix("com.amazon.aws.codewhisperer#").unwrap();
            assert_eq!(kind.exception_type(), Some(short), "{kind:?}");
        }
        assert_eq!(
            header(&resp, "x-amzn-ErrorType"),
            kind.exception_type(),
            "{kind:?}"
        );
    }
}

#[test]
fn classification_headers_do_not_mislead() {
    // §8.1 reads the exception name before the message: the bearer-invalid 403 must not look
    // like an AccessDeniedException, nor the plain 400 like anything but a bad request.
    for kind in [
        ErrorKind::BearerTokenInvalid,
        ErrorKind::Unauthorized,
        ErrorKind::ImproperlyFormed,
    ] {
        assert_eq!(
            header(&kind.response(), "x-amzn-ErrorType"),
            None,
            "{kind:?}"
        );
    }
    assert_eq!(
        ErrorKind::InsufficientModelCapacity.exception_type(),
        Some("ThrottlingException")
    );
    assert_eq!(
        ErrorKind::InvalidGrant.exception_type(),
        Some("InvalidGrantException")
    );
}

#[test]
fn status_override_and_retry_after() {
    let capacity = ErrorKind::InsufficientModelCapacity.response_with(Some(400), Some(7));
    assert_eq!(capacity.status, 400);
    assert_eq!(
        capacity.body,
        ErrorKind::InsufficientModelCapacity.response().body
    );
    assert_eq!(header(&capacity, "retry-after"), Some("7"));
    assert_eq!(
        header(&ErrorKind::Throttling.response(), "retry-after"),
        None
    );
}

#[test]
fn suspended_names_the_user() {
    let resp = errors::temporarily_suspended("a1b2c3d4-0000-1111-2222-333344445555", None);
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.body,
        r#"{"message":"Your User ID (a1b2c3d4-0000-1111-2222-333344445555) temporarily is suspended. We've locked your account as a security precaution. To unlock it, please contact AWS Support.","reason":"TEMPORARILY_SUSPENDED"}"#
    );
}

#[test]
fn unknown_names_are_refused() {
    assert!(ErrorKind::from_str("ImproperlyFormed").is_err());
    assert!(ErrorKind::from_str("no_such_error").is_err());
}
