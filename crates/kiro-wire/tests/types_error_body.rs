//! The upstream JSON error body (spec §8.2).

mod types_common;

use kiro_wire::types::*;
use serde_json::json;
use types_common::{parse, parse_lenient};

#[test]
fn every_catalogue_body_parses() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            r#"{"message":"Improperly formed request.","reason":null}"#,
            None,
            None,
        ),
        (
            r#"{"message":"Improperly formed request.","reason":"REQUEST_BODY_INVALID"}"#,
            Some("REQUEST_BODY_INVALID"),
            None,
        ),
        (
            r#"{"__type":"com.amazon.aws.codewhisperer#ValidationException","message":"Improperly formed request."}"#,
            None,
            Some("ValidationException"),
        ),
        (
            r#"{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}"#,
            Some("CONTENT_LENGTH_EXCEEDS_THRESHOLD"),
            None,
        ),
        (
            r#"{"message":"Invalid model. Please select a different model to continue.","reason":"INVALID_MODEL_ID"}"#,
            Some("INVALID_MODEL_ID"),
            None,
        ),
        (
            r#"{"message":"messages.1.content.0: Invalid signature in thinking block","reason":"THINKING_SIGNATURE_INVALID"}"#,
            Some("THINKING_SIGNATURE_INVALID"),
            None,
        ),
        (
            r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"I am experiencing high traffic, please try again shortly.","reason":"INSUFFICIENT_MODEL_CAPACITY"}"#,
            Some("INSUFFICIENT_MODEL_CAPACITY"),
            Some("ThrottlingException"),
        ),
        (
            r#"{"message":"Too many requests, please wait before trying again.","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}"#,
            Some("SERVICE_REQUEST_RATE_EXCEEDED"),
            None,
        ),
        (
            r#"{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}"#,
            Some("MONTHLY_REQUEST_COUNT"),
            None,
        ),
        (
            r#"{"message":"The bearer token included in the request is invalid.","reason":null}"#,
            None,
            None,
        ),
        (
            r#"{"message":"Your User ID (x) temporarily is suspended.","reason":"TEMPORARILY_SUSPENDED"}"#,
            Some("TEMPORARILY_SUSPENDED"),
            None,
        ),
        (
            r#"{"__type":"AccessDeniedException","Message":"not authorized to make this call"}"#,
            None,
            Some("AccessDeniedException"),
        ),
        (
            r#"{"message":"","reason":"MODEL_TEMPORARILY_UNAVAILABLE"}"#,
            Some("MODEL_TEMPORARILY_UNAVAILABLE"),
            None,
        ),
    ];
    for (json, reason, error_type) in cases {
        let body: UpstreamErrorBody = parse_lenient(json);
        assert_eq!(body.reason(), *reason, "{json}");
        assert_eq!(body.error_type(), *error_type, "{json}");
        assert_eq!(UpstreamErrorBody::parse(json.as_bytes()), Some(body));
    }
}

#[test]
fn message_spellings() {
    let upper: UpstreamErrorBody = parse(r#"{"Message": "Client is expired"}"#);
    assert_eq!(upper.message(), Some("Client is expired"));
    assert_eq!(
        serde_json::to_value(&upper).unwrap(),
        json!({"message": "Client is expired"})
    );
    let both: UpstreamErrorBody = parse(r#"{"message": "lower", "Message": "upper"}"#);
    assert_eq!(both.message(), Some("lower"));
    let blank: UpstreamErrorBody = parse(r#"{"message": "  ", "reason": ""}"#);
    assert_eq!((blank.message(), blank.reason()), (None, None));
}

#[test]
fn error_type_prefix_and_header_forms() {
    let body = UpstreamErrorBody {
        type_: Some("com.amazon.coral.service#InternalServerException".into()),
        ..Default::default()
    };
    assert_eq!(body.error_type(), Some("InternalServerException"));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"__type": "com.amazon.coral.service#InternalServerException"})
    );
    assert_eq!(
        error_type_name(
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.aws.codewhisperer/"
        ),
        Some("ThrottlingException")
    );
    assert_eq!(
        error_type_name("ServiceQuotaExceededException"),
        Some("ServiceQuotaExceededException")
    );
    assert_eq!(error_type_name(""), None);
}

#[test]
fn non_json_bodies() {
    assert_eq!(UpstreamErrorBody::parse(b""), None);
    assert_eq!(UpstreamErrorBody::parse(b"<html>502</html>"), None);
    assert_eq!(UpstreamErrorBody::parse(b"[1,2]"), None);
    assert_eq!(
        UpstreamErrorBody::parse(br#"{"reason": 7}"#).and_then(|b| b.reason),
        Some("7".into())
    );
}
