//! Upstream error classification (spec §8): one row per line of the §8.2 and §8.3 tables with
//! the spec's exact bodies, the classification order (reason → `__type` → message → status),
//! in-stream error frames, and how a reply that already showed output ends.

mod kiro_response_support;

use bytes::Bytes;
use dialects::canonical::{ErrorKind, StopReason, StreamEvent};
use dialects::kiro::response::{
    AfterOutput, AuthEndpoint, Reaction, ReplyContext, ReplyMapper, TransportFailure,
    UpstreamFault, after_output, classify_auth, classify_event, classify_http, classify_transport,
};
use insta::assert_snapshot;
use kiro_response_support::*;
use kiro_wire::Event;
use kiro_wire::event::ErrorFrame;

const IMPROPERLY_FORMED: &str = r#"{"message":"Improperly formed request.","reason":null}"#;
const INPUT_TOO_LONG: &str =
    r#"{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}"#;
const INVALID_MODEL: &str = r#"{"message":"Invalid model. Please select a different model to continue.","reason":"INVALID_MODEL_ID"}"#;
const CAPACITY: &str = r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"I am experiencing high traffic, please try again shortly.","reason":"INSUFFICIENT_MODEL_CAPACITY"}"#;
const RATE_EXCEEDED: &str = r#"{"message":"Too many requests, please wait before trying again.","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}"#;
const MONTHLY: &str =
    r#"{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}"#;
const BEARER_INVALID: &str =
    r#"{"message":"The bearer token included in the request is invalid.","reason":null}"#;
const SUSPENDED: &str = r#"{"message":"Your User ID (d-9067642ac7.34488418-b0d1-70e5-6b4e-4e7c1a2e7a5b) temporarily is suspended. We've locked your account as a security precaution. Please contact support.","reason":"TEMPORARILY_SUSPENDED"}"#;

struct Row {
    name: &'static str,
    status: u16,
    header: Option<&'static str>,
    retry_after: Option<&'static str>,
    body: &'static str,
    reaction: Reaction,
    kind: ErrorKind,
    label: &'static str,
}

fn check(row: &Row, fault: &UpstreamFault) {
    assert_eq!(fault.reaction, row.reaction, "{}: reaction", row.name);
    assert_eq!(
        fault.client_error.kind, row.kind,
        "{}: client kind",
        row.name
    );
    assert_eq!(fault.label, row.label, "{}: label", row.name);
    assert_eq!(
        fault.context_overflow,
        row.label == "context_overflow",
        "{}: overflow flag",
        row.name
    );
}

/// Spec §8.2, row by row.
#[test]
fn chat_error_table() {
    use ErrorKind as K;
    use Reaction as R;
    let rows = [
        Row {
            name: "400 improperly formed",
            status: 400,
            header: None,
            retry_after: None,
            body: IMPROPERLY_FORMED,
            reaction: R::FailFastClientError,
            kind: K::InvalidRequest,
            label: "improperly_formed",
        },
        Row {
            name: "400 REQUEST_BODY_INVALID variant",
            status: 400,
            header: None,
            retry_after: None,
            body: r#"{"message":"Improperly formed request.","reason":"REQUEST_BODY_INVALID"}"#,
            reaction: R::FailFastClientError,
            kind: K::InvalidRequest,
            label: "improperly_formed",
        },
        Row {
            name: "400 ValidationException variant",
            status: 400,
            header: None,
            retry_after: None,
            body: r#"{"__type":"com.amazon.aws.codewhisperer#ValidationException","message":"Improperly formed request."}"#,
            reaction: R::FailFastClientError,
            kind: K::InvalidRequest,
            label: "improperly_formed",
        },
        Row {
            name: "400 input too long",
            status: 400,
            header: None,
            retry_after: None,
            body: INPUT_TOO_LONG,
            reaction: R::FailFastClientError,
            kind: K::ContextLengthExceeded,
            label: "context_overflow",
        },
        Row {
            name: "400 invalid model",
            status: 400,
            header: None,
            retry_after: None,
            body: INVALID_MODEL,
            reaction: R::InvalidModelTryOther,
            kind: K::InvalidRequest,
            label: "invalid_model",
        },
        Row {
            name: "400 invalid model ID (message only)",
            status: 400,
            header: None,
            retry_after: None,
            body: r#"{"message":"Invalid model ID.","reason":null}"#,
            reaction: R::InvalidModelTryOther,
            kind: K::InvalidRequest,
            label: "invalid_model",
        },
        Row {
            name: "400 thinking signature",
            status: 400,
            header: None,
            retry_after: None,
            body: r#"{"message":"messages.3.content.0: Invalid signature in thinking block","reason":"THINKING_SIGNATURE_INVALID"}"#,
            reaction: R::FailFastClientError,
            kind: K::InvalidRequest,
            label: "thinking_signature_invalid",
        },
        Row {
            name: "400 capacity",
            status: 400,
            header: None,
            retry_after: None,
            body: CAPACITY,
            reaction: R::TransientRetryWithBackoff,
            kind: K::Overloaded,
            label: "insufficient_capacity",
        },
        Row {
            name: "429 capacity",
            status: 429,
            header: None,
            retry_after: None,
            body: CAPACITY,
            reaction: R::TransientRetryWithBackoff,
            kind: K::Overloaded,
            label: "insufficient_capacity",
        },
        Row {
            name: "429 rate exceeded",
            status: 429,
            header: None,
            retry_after: Some("17"),
            body: RATE_EXCEEDED,
            reaction: R::AccountCooldownAndSwitch {
                cooldown_secs: Some(17),
            },
            kind: K::RateLimited,
            label: "rate_exceeded",
        },
        Row {
            name: "429 ThrottlingException without reason",
            status: 429,
            header: None,
            retry_after: None,
            body: r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"Rate exceeded"}"#,
            reaction: R::AccountCooldownAndSwitch {
                cooldown_secs: None,
            },
            kind: K::RateLimited,
            label: "throttled",
        },
        Row {
            name: "429 suspicious activity (text body)",
            status: 429,
            header: None,
            retry_after: None,
            body: "We have detected suspicious activity on your account. Please try again later.",
            reaction: R::AccountCooldownAndSwitch {
                cooldown_secs: Some(600),
            },
            kind: K::RateLimited,
            label: "suspicious_activity",
        },
        Row {
            name: "402 monthly limit",
            status: 402,
            header: None,
            retry_after: None,
            body: MONTHLY,
            reaction: R::AccountExhaustedUntilReset,
            kind: K::RateLimited,
            label: "quota_exhausted",
        },
        Row {
            name: "402 ServiceQuotaExceededException",
            status: 402,
            header: None,
            retry_after: None,
            body: r#"{"__type":"com.amazon.aws.codewhisperer#ServiceQuotaExceededException","message":"Quota exceeded"}"#,
            reaction: R::AccountExhaustedUntilReset,
            kind: K::RateLimited,
            label: "quota_exhausted",
        },
        Row {
            name: "401 any",
            status: 401,
            header: None,
            retry_after: None,
            body: "",
            reaction: R::RefreshAndRetryOnce,
            kind: K::Overloaded,
            label: "unauthorized",
        },
        Row {
            name: "403 bearer token invalid",
            status: 403,
            header: None,
            retry_after: None,
            body: BEARER_INVALID,
            reaction: R::RefreshAndRetryOnce,
            kind: K::Overloaded,
            label: "token_rejected",
        },
        Row {
            name: "403 temporarily suspended",
            status: 403,
            header: None,
            retry_after: None,
            body: SUSPENDED,
            reaction: R::AccountDisabledNeedsRelogin,
            kind: K::Overloaded,
            label: "suspended",
        },
        Row {
            name: "403 AccessDeniedException",
            status: 403,
            header: None,
            retry_after: None,
            body: r#"{"__type":"com.amazon.aws.codewhisperer#AccessDeniedException","message":"User is not authorized to make this call."}"#,
            reaction: R::AccountDisabledNeedsRelogin,
            kind: K::Overloaded,
            label: "access_denied",
        },
        Row {
            name: "500 InternalServerException",
            status: 500,
            header: None,
            retry_after: None,
            body: r#"{"__type":"com.amazon.aws.codewhisperer#InternalServerException","message":"Internal server error"}"#,
            reaction: R::TransientRetryWithBackoff,
            kind: K::Api,
            label: "internal",
        },
        Row {
            name: "500 legacy high load",
            status: 500,
            header: None,
            retry_after: None,
            body: r#"{"message":"Encountered unexpectedly high load when processing the request, please try again."}"#,
            reaction: R::TransientRetryWithBackoff,
            kind: K::Overloaded,
            label: "high_load",
        },
        Row {
            name: "502 any",
            status: 502,
            header: None,
            retry_after: None,
            body: "<html>Bad Gateway</html>",
            reaction: R::TransientRetryWithBackoff,
            kind: K::Overloaded,
            label: "unavailable",
        },
        Row {
            name: "503 model temporarily unavailable",
            status: 503,
            header: None,
            retry_after: None,
            body: r#"{"message":"Model is temporarily unavailable.","reason":"MODEL_TEMPORARILY_UNAVAILABLE"}"#,
            reaction: R::TransientRetryWithBackoff,
            kind: K::Overloaded,
            label: "model_unavailable",
        },
        Row {
            name: "504 any",
            status: 504,
            header: None,
            retry_after: None,
            body: "",
            reaction: R::TransientRetryWithBackoff,
            kind: K::Timeout,
            label: "gateway_timeout",
        },
    ];
    for row in &rows {
        let fault = classify_http(row.status, row.header, row.retry_after, row.body.as_bytes());
        check(row, &fault);
        assert_eq!(fault.status, Some(row.status));
    }
}

#[test]
fn client_errors_carry_what_dialects_need() {
    let overflow = classify_http(400, None, None, INPUT_TOO_LONG.as_bytes());
    assert!(
        overflow
            .client_error
            .message
            .starts_with("prompt is too long")
    );
    assert_eq!(
        overflow.reason.as_deref(),
        Some("CONTENT_LENGTH_EXCEEDS_THRESHOLD")
    );
    assert_eq!(overflow.message, "Input is too long.");

    let model = classify_http(400, None, None, INVALID_MODEL.as_bytes());
    assert_eq!(model.client_error.param.as_deref(), Some("model"));

    let rate = classify_http(429, None, Some("17"), RATE_EXCEEDED.as_bytes());
    assert_eq!(rate.client_error.retry_after, Some(17));

    // Account details in the upstream message stay in the fault, not in the client error.
    let suspended = classify_http(403, None, None, SUSPENDED.as_bytes());
    assert!(suspended.message.contains("User ID"));
    assert!(!suspended.client_error.message.contains("User ID"));

    let bad = classify_http(400, None, None, IMPROPERLY_FORMED.as_bytes());
    assert_eq!(
        bad.client_error.message,
        "the upstream rejected the request: Improperly formed request."
    );
    assert_snapshot!(format!("{bad:#?}"));
}

/// `reason` is authoritative: the same reason under different statuses classifies the same.
#[test]
fn reason_beats_status() {
    let cases = [
        ("INSUFFICIENT_MODEL_CAPACITY", "insufficient_capacity"),
        ("SERVICE_REQUEST_RATE_EXCEEDED", "rate_exceeded"),
        ("CONTENT_LENGTH_EXCEEDS_THRESHOLD", "context_overflow"),
        ("MONTHLY_REQUEST_COUNT", "quota_exhausted"),
        ("TEMPORARILY_SUSPENDED", "suspended"),
        ("INVALID_MODEL_ID", "invalid_model"),
    ];
    for (reason, label) in cases {
        for status in [200, 400, 402, 403, 429, 500, 503] {
            let body = format!(r#"{{"message":"whatever","reason":"{reason}"}}"#);
            let fault = classify_http(
                status,
                Some("InternalServerException"),
                None,
                body.as_bytes(),
            );
            assert_eq!(fault.label, label, "{reason} under {status}");
        }
    }
}

#[test]
fn reason_beats_type_and_message() {
    // A ThrottlingException type and "high traffic" message, but the reason says rate limit.
    let body = r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"I am experiencing high traffic","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}"#;
    assert_eq!(
        classify_http(429, None, None, body.as_bytes()).label,
        "rate_exceeded"
    );
}

#[test]
fn unknown_reason_falls_through() {
    let body = r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException","message":"Slow down","reason":"SOMETHING_NEW"}"#;
    let fault = classify_http(400, None, None, body.as_bytes());
    assert_eq!(fault.label, "throttled");
    assert_eq!(fault.reason.as_deref(), Some("SOMETHING_NEW"));
}

#[test]
fn type_prefix_and_suffix_are_stripped() {
    for (header, body) in [
        (
            None,
            r#"{"__type":"com.amazon.aws.codewhisperer#ThrottlingException"}"#,
        ),
        (Some("ThrottlingException"), ""),
        (
            Some(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.aws.codewhisperer/",
            ),
            "",
        ),
        (
            Some("com.amazon.aws.codewhisperer#ThrottlingException"),
            "{}",
        ),
    ] {
        let fault = classify_http(400, header, Some("3"), body.as_bytes());
        assert_eq!(
            fault.error_type.as_deref(),
            Some("ThrottlingException"),
            "{header:?}"
        );
        assert_eq!(fault.label, "throttled", "{header:?}");
        assert_eq!(
            fault.reaction,
            Reaction::AccountCooldownAndSwitch {
                cooldown_secs: Some(3)
            }
        );
    }
    // The body's `__type` wins over the header.
    let body = r#"{"__type":"com.amazon.aws.codewhisperer#ContentLengthExceededException"}"#;
    let fault = classify_http(400, Some("ThrottlingException"), None, body.as_bytes());
    assert_eq!(fault.label, "context_overflow");
}

#[test]
fn message_only_matches() {
    let cases = [
        (
            429,
            r#"{"message":"Your request was throttled due to suspicious activity."}"#,
            "suspicious_activity",
        ),
        (
            500,
            r#"{"message":"Encountered unexpectedly high load when processing the request, please try again."}"#,
            "high_load",
        ),
        (
            400,
            r#"{"Message":"Input is too long."}"#,
            "context_overflow",
        ),
        (
            400,
            "Too many requests, please wait before trying again.",
            "rate_exceeded",
        ),
        (
            403,
            r#"{"message":"You have reached the limit."}"#,
            "quota_exhausted",
        ),
    ];
    for (status, body, label) in cases {
        assert_eq!(
            classify_http(status, None, None, body.as_bytes()).label,
            label,
            "{body}"
        );
    }
    // A longer Retry-After wins over the suspicious-activity floor.
    let fault = classify_http(429, None, Some("3600"), b"suspicious activity detected");
    assert_eq!(
        fault.reaction,
        Reaction::AccountCooldownAndSwitch {
            cooldown_secs: Some(3600)
        }
    );
}

#[test]
fn status_is_the_last_resort() {
    let cases = [
        (400, "bad_request"),
        (401, "unauthorized"),
        (402, "quota_exhausted"),
        (403, "forbidden"),
        (404, "client_error"),
        (408, "request_timeout"),
        (413, "too_large"),
        (429, "throttled"),
        (500, "internal"),
        (503, "unavailable"),
        (504, "gateway_timeout"),
        (599, "server_error"),
        (200, "unexpected"),
    ];
    for (status, label) in cases {
        assert_eq!(
            classify_http(status, None, None, b"").label,
            label,
            "{status}"
        );
    }
}

/// Spec §7.5 / §8.4: HTTP 200 carrying a JSON error object instead of frames.
#[test]
fn http_200_with_json_error_body() {
    let fault = classify_http(200, None, None, CAPACITY.as_bytes());
    assert_eq!(fault.label, "insufficient_capacity");
    assert_eq!(fault.reaction, Reaction::TransientRetryWithBackoff);
    let fault = classify_http(200, None, None, INPUT_TOO_LONG.as_bytes());
    assert!(fault.context_overflow);
    let fault = classify_http(200, None, None, MONTHLY.as_bytes());
    assert_eq!(fault.reaction, Reaction::AccountExhaustedUntilReset);
    let fault = classify_http(200, None, None, b"{}");
    assert_eq!(fault.label, "unexpected");
}

#[test]
fn retry_after_forms() {
    let rate = |ra| classify_http(429, None, Some(ra), RATE_EXCEEDED.as_bytes()).reaction;
    let cd = |s| Reaction::AccountCooldownAndSwitch { cooldown_secs: s };
    assert_eq!(rate(" 5 "), cd(Some(5)));
    assert_eq!(rate("1.2"), cd(Some(2)));
    assert_eq!(rate("Wed, 21 Oct 2015 07:28:00 GMT"), cd(None));
    assert_eq!(rate("-3"), cd(None));
}

/// Spec §8.3, row by row.
#[test]
fn auth_error_table() {
    use AuthEndpoint::{Oidc, Social};
    use Reaction as R;
    let disabled = R::AccountDisabledNeedsRelogin;
    let transient = R::TransientRetryWithBackoff;
    type Case = (
        AuthEndpoint,
        u16,
        &'static str,
        Option<&'static str>,
        Reaction,
        &'static str,
    );
    let cases: [Case; 12] = [
        (
            Social,
            400,
            r#"{"message":"Invalid refresh token provided"}"#,
            None,
            disabled,
            "invalid_refresh_token",
        ),
        (Social, 401, "", None, disabled, "refresh_unauthorized"),
        (
            Social,
            401,
            "Unauthorized",
            None,
            disabled,
            "refresh_unauthorized",
        ),
        (
            Oidc,
            400,
            r#"{"error":"invalid_grant","error_description":"Invalid refresh token provided"}"#,
            None,
            disabled,
            "invalid_grant",
        ),
        (
            Oidc,
            401,
            r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            None,
            disabled,
            "invalid_client",
        ),
        (
            Oidc,
            400,
            r#"{"message":"Client is expired"}"#,
            Some("ExpiredClientException"),
            disabled,
            "invalid_client",
        ),
        (
            Oidc,
            400,
            r#"{"__type":"com.amazonaws.ssooidc#ExpiredClientException","error_description":"Client is expired"}"#,
            None,
            disabled,
            "invalid_client",
        ),
        (
            Oidc,
            400,
            r#"{"error":"expired_token","error_description":"Token is expired"}"#,
            None,
            disabled,
            "expired_token",
        ),
        (Social, 500, "", None, transient, "auth_unavailable"),
        (Social, 503, "<html>", None, transient, "auth_unavailable"),
        (
            Oidc,
            500,
            r#"{"error":"server_error"}"#,
            None,
            transient,
            "auth_unavailable",
        ),
        (Oidc, 502, "", None, transient, "auth_unavailable"),
    ];
    for (endpoint, status, body, header, reaction, label) in cases {
        let fault = classify_auth(endpoint, status, body.as_bytes(), header);
        assert_eq!(fault.reaction, reaction, "{endpoint:?} {status} {body}");
        assert_eq!(fault.label, label, "{endpoint:?} {status} {body}");
        assert_eq!(fault.client_error.kind, ErrorKind::Overloaded);
        assert!(!fault.context_overflow);
    }
    // Device-flow polling states are not credential failures.
    let pending = classify_auth(Oidc, 400, br#"{"error":"authorization_pending"}"#, None);
    assert_eq!(pending.reaction, transient);
    assert_eq!(pending.label, "authorization_pending");
    let slow = classify_auth(Oidc, 400, b"", Some("SlowDownException"));
    assert_eq!(slow.label, "slow_down");
}

#[test]
fn transport_failures_are_transient() {
    let cases = [
        (TransportFailure::Connect, "connect", ErrorKind::Overloaded),
        (TransportFailure::Timeout, "timeout", ErrorKind::Timeout),
        (TransportFailure::Reset, "reset", ErrorKind::Overloaded),
        (TransportFailure::BadFrame, "bad_frame", ErrorKind::Api),
    ];
    for (kind, label, client) in cases {
        let fault = classify_transport(kind, "tcp connect error: connection refused");
        assert_eq!(fault.reaction, Reaction::TransientRetryWithBackoff);
        assert_eq!(fault.label, label);
        assert_eq!(fault.client_error.kind, client);
        assert_eq!(fault.status, None);
    }
}

/// Every in-stream failure frame (spec §8.4) classifies like the HTTP error it stands for.
#[test]
fn in_stream_fault_frames() {
    use Reaction as R;
    let cases: Vec<(Event, Reaction, &str)> = vec![
        (
            exception(
                "ContentLengthExceededException",
                Some("Input is too long."),
                None,
            ),
            R::FailFastClientError,
            "context_overflow",
        ),
        (
            exception(
                "ThrottlingException",
                Some("I am experiencing high traffic, please try again shortly."),
                Some("INSUFFICIENT_MODEL_CAPACITY"),
            ),
            R::TransientRetryWithBackoff,
            "insufficient_capacity",
        ),
        (
            exception("ThrottlingException", Some("Rate exceeded"), None),
            R::AccountCooldownAndSwitch {
                cooldown_secs: None,
            },
            "throttled",
        ),
        (
            exception(
                "ValidationException",
                Some("Improperly formed request."),
                None,
            ),
            R::FailFastClientError,
            "improperly_formed",
        ),
        (
            exception("InternalServerException", None, None),
            R::TransientRetryWithBackoff,
            "internal",
        ),
        (
            exception("SomethingNewException", None, None),
            R::TransientRetryWithBackoff,
            "unexpected",
        ),
        (
            error_frame(
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            ),
            R::AccountCooldownAndSwitch {
                cooldown_secs: None,
            },
            "rate_exceeded",
        ),
        (
            error_frame("INSUFFICIENT_MODEL_CAPACITY", "high traffic"),
            R::TransientRetryWithBackoff,
            "insufficient_capacity",
        ),
        (
            error_frame("InternalServerError", "boom"),
            R::TransientRetryWithBackoff,
            "internal",
        ),
        (
            invalid_state("INVALID_CONVERSATION_STATE", "Invalid conversation state"),
            R::FailFastClientError,
            "invalid_conversation_state",
        ),
        (
            invalid_state("CONTENT_LENGTH_EXCEEDS_THRESHOLD", "Input is too long."),
            R::FailFastClientError,
            "context_overflow",
        ),
        (
            invalid_state("MONTHLY_REQUEST_COUNT", "You have reached the limit."),
            R::AccountExhaustedUntilReset,
            "quota_exhausted",
        ),
    ];
    for (ev, reaction, label) in cases {
        let fault = classify_event(&ev).expect("a fault");
        assert_eq!(fault.reaction, reaction, "{ev:?}");
        assert_eq!(fault.label, label, "{ev:?}");
        assert_eq!(fault.status, None);
        // The mapper returns the same fault and counts the frame.
        let mut mapper = ReplyMapper::new(ReplyContext::default());
        let got = mapper.on_event(&ev, &mut Vec::new()).expect_err("fault");
        assert_eq!(got, fault);
        assert_eq!(mapper.stats().fault_frames, 1);
    }
}

#[test]
fn error_frame_payload_body_is_read() {
    let ev = Event::Error(ErrorFrame {
        code: String::new(),
        message: String::new(),
        payload: Bytes::from_static(
            br#"{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}"#,
        ),
    });
    let fault = classify_event(&ev).expect("fault");
    assert!(fault.context_overflow);
    assert_eq!(fault.message, "Input is too long.");
}

#[test]
fn ordinary_events_are_not_faults() {
    for ev in [
        text("x"),
        metering(0.1),
        context(5.0),
        legacy("codeEvent"),
        unknown("x"),
    ] {
        assert!(classify_event(&ev).is_none());
    }
}

#[test]
fn after_partial_output() {
    let overflow =
        classify_event(&invalid_state("CONTENT_LENGTH_EXCEEDS_THRESHOLD", "x")).expect("fault");
    assert_eq!(after_output(&overflow), AfterOutput::EndWithMaxTokens);
    let capacity = classify_http(429, None, None, CAPACITY.as_bytes());
    match after_output(&capacity) {
        AfterOutput::InBandError(e) => assert_eq!(e.kind, ErrorKind::Overloaded),
        other => panic!("expected an in-band error, got {other:?}"),
    }
}

#[test]
fn mapper_ends_overflow_with_max_tokens() {
    let mut mapper = ReplyMapper::new(ReplyContext {
        stop_sequences: vec!["STOP".into()],
        ..ReplyContext::default()
    });
    let mut out = Vec::new();
    mapper.on_event(&text("Partial ST"), &mut out).expect("ok");
    mapper
        .on_event(&tool("t1", "Write", Some("{\"a\":"), false), &mut out)
        .expect("ok");
    let fault = mapper
        .on_event(
            &exception("ContentLengthExceededException", None, None),
            &mut out,
        )
        .expect_err("fault");
    assert!(mapper.has_visible_output());
    mapper.finish_after_fault(&fault, &mut out);
    assert_snapshot!(render(&out), @r#"
    text "Partial "
    text "ST"
    tool_start #0 id=t1 name=Write
    tool_input #0 "{\"a\":"
    tool_end #0
    usage input=0 output=4 cache_read=0 cache_write=0 reasoning=None
    stop max_tokens
    "#);
    assert_eq!(stop_of(&out), Some(&StopReason::MaxTokens));
    assert!(mapper.is_done());
}

#[test]
fn mapper_ends_other_faults_in_band() {
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let mut out = Vec::new();
    mapper.on_event(&text("Partial"), &mut out).expect("ok");
    let fault = mapper
        .on_event(
            &error_frame("ThrottlingException", "Rate exceeded"),
            &mut out,
        )
        .expect_err("fault");
    mapper.finish_after_fault(&fault, &mut out);
    mapper.finish(&mut out);
    assert_snapshot!(render(&out), @r#"
    text "Partial"
    error RateLimited "upstream rate limit reached; retry later"
    "#);
    assert!(matches!(out.last(), Some(StreamEvent::Error(_))));
}
