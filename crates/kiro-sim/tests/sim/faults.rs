//! Fault injection: timing, cut and reset connections, corrupt frames, and every catalogued
//! error on the endpoints it belongs to.

use std::time::{Duration, Instant};

use kiro_sim::accounts::{AccountKind, AccountSecrets};
use kiro_sim::errors::ErrorKind;
use kiro_wire::{DecodeError, FrameDecoder};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

#[tokio::test]
async fn slow_headers_and_slow_first_event() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    sim.queue_script(json!({"pace": {"headers_ms": 250}})).await;
    let t = Instant::now();
    let resp = sim
        .chat_request(&acct, &chat_body("x", "claude-sonnet-4.5"))
        .send()
        .await
        .unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(240),
        "{:?}",
        t.elapsed()
    );
    resp.bytes().await.unwrap();

    sim.queue_script(json!({"pace": {"first_event_ms": 250}}))
        .await;
    let t = Instant::now();
    let resp = sim
        .chat_request(&acct, &chat_body("x", "claude-sonnet-4.5"))
        .send()
        .await
        .unwrap();
    let headers_at = t.elapsed();
    let bytes = resp.bytes().await.unwrap();
    assert!(headers_at < Duration::from_millis(200), "{headers_at:?}");
    assert!(t.elapsed() >= Duration::from_millis(240));
    assert!(!text_of(&events(&bytes)).is_empty());
}

#[tokio::test]
async fn mid_stream_stall_then_continue_close_or_abort() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let parts = |then: &str| json!({"parts": [{"type": "text", "text": "before"}, {"type": "stall", "ms": 150, "then": then}, {"type": "text", "text": "after"}]});
    sim.queue_script(parts("continue")).await;
    let t = Instant::now();
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    assert!(t.elapsed() >= Duration::from_millis(140));
    let ev = events(&bytes);
    assert_eq!(text_of(&ev), "beforeafter");
    assert_eq!(event_types(&ev).last().unwrap(), "contextUsageEvent");

    sim.queue_script(parts("close")).await;
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    let ev = events(&bytes);
    assert_eq!(text_of(&ev), "before");
    assert!(
        event_types(&ev)
            .iter()
            .all(|t| t == "assistantResponseEvent"),
        "clean end, no tail"
    );

    sim.queue_script(parts("abort")).await;
    let resp = sim
        .chat_request(&acct, &chat_body("x", "claude-sonnet-4.5"))
        .send()
        .await
        .unwrap();
    let (got, err) = read_until_error(resp).await;
    assert!(err.is_some(), "aborted body must fail");
    assert_eq!(text_of(&events(&got)), "before");
}

fn raw_request(acct: &AccountSecrets) -> Vec<u8> {
    let body = chat_body("x", "claude-sonnet-4.5").to_string();
    format!(
        "POST /generateAssistantResponse HTTP/1.1\r\nhost: sim\r\ncontent-type: application/json\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\n\r\n{}",
        acct.access_token.as_deref().unwrap(),
        body.len(),
        body
    )
    .into_bytes()
}

/// Sends one raw HTTP/1.1 chat and reads until EOF or error.
async fn raw_exchange(sim: &Sim, acct: &AccountSecrets) -> (Vec<u8>, std::io::Result<()>) {
    let mut s = tokio::net::TcpStream::connect(sim.handle.addr())
        .await
        .unwrap();
    s.write_all(&raw_request(acct)).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

/// Decodes the chunked body of a raw HTTP/1.1 response (without requiring the terminator).
fn dechunk(raw: &[u8]) -> (Vec<u8>, bool) {
    let start = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut rest = &raw[start..];
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
        if size == 0 {
            return (out, true);
        }
        let data = &rest[eol + 2..];
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        if data.len() < size + 2 {
            return (out, false);
        }
        rest = &data[size + 2..];
    }
}

#[tokio::test]
async fn connection_cut_inside_prelude_headers_and_payload() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    for at in ["prelude", "headers", "payload"] {
        sim.queue_script(json!({"parts": [{"type": "text", "text": "whole frame", "chunk_chars": 100}, {"type": "cut", "at": at}]}))
            .await;
        let (raw, res) = raw_exchange(&sim, &acct).await;
        assert!(res.is_ok(), "a cut is an EOF, not a reset ({at})");
        let (body, terminated) = dechunk(&raw);
        assert!(!terminated, "no chunked terminator after a cut ({at})");
        let mut dec = FrameDecoder::new();
        let mut buf = bytes::BytesMut::from(&body[..]);
        let first = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(first.event_type(), Some("assistantResponseEvent"));
        let left = buf.len();
        match at {
            "prelude" => assert!(left > 0 && left < 12, "{left}"),
            "headers" => assert!(left > 12 && left < 12 + 92, "{left}"),
            _ => assert!(left > 12 + 92, "{left}"),
        }
        assert!(matches!(
            dec.decode_eof(&mut buf),
            Err(DecodeError::Truncated { .. })
        ));
    }
}

#[tokio::test]
async fn tcp_reset_mid_stream() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    sim.queue_script(json!({"parts": [{"type": "text", "text": "partial"}, {"type": "reset"}]}))
        .await;
    let (raw, res) = raw_exchange(&sim, &acct).await;
    let err = res.expect_err("reset must surface as an error");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    let _ = raw;

    // reqwest sees a failed body too.
    sim.queue_script(json!({"parts": [{"type": "text", "text": "partial"}, {"type": "reset"}]}))
        .await;
    let resp = sim
        .chat_request(&acct, &chat_body("x", "claude-sonnet-4.5"))
        .send()
        .await;
    if let Ok(r) = resp {
        assert!(read_until_error(r).await.1.is_some());
    }
}

#[tokio::test]
async fn corrupt_frames_crc_and_lengths() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let cases = [
        (json!({"type": "bad_prelude_crc"}), "prelude_crc"),
        (json!({"type": "bad_message_crc"}), "message_crc"),
        (
            json!({"type": "bad_length", "total_length": 32 * 1024 * 1024}),
            "frame_too_large",
        ),
        (
            json!({"type": "bad_length", "total_length": 8}),
            "frame_too_short",
        ),
    ];
    for (part, label) in cases {
        sim.queue_script(json!({"parts": [{"type": "text", "text": "ok"}, part]}))
            .await;
        let (status, _, bytes) = sim.chat(&acct, "x").await;
        assert_eq!(status, 200);
        let err = kiro_wire::decode_all(&bytes).unwrap_err();
        assert_eq!(err.label(), label);
        // The good frame before it still decodes.
        let mut dec = FrameDecoder::new();
        let mut buf = bytes::BytesMut::from(&bytes[..]);
        assert!(dec.decode(&mut buf).unwrap().is_some());
    }
}

#[tokio::test]
async fn extra_header_types_are_skippable() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [{"type": "extra_headers", "text": "still text"}]}),
        )
        .await;
    assert_eq!(text_of(&ev), "still text");
    let (_, _, bytes) = {
        sim.queue_script(json!({"parts": [{"type": "extra_headers"}]}))
            .await;
        sim.chat(&acct, "x").await
    };
    let f = &frames(&bytes)[0];
    let types: std::collections::BTreeSet<u8> =
        f.headers.iter().map(|h| h.value.type_byte()).collect();
    assert_eq!(types, (0..=9).collect());
}

#[tokio::test]
async fn every_chat_error_with_retry_after_and_status_override() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    for &kind in ErrorKind::all().iter().filter(|k| !k.is_auth_endpoint()) {
        sim.queue(json!({"type": "error", "kind": kind, "retry_after": 7}))
            .await;
        let resp = sim
            .chat_request(&acct, &chat_body("x", "claude-sonnet-4.5"))
            .send()
            .await
            .unwrap();
        let want = kind.response_with(None, Some(7));
        assert_eq!(resp.status().as_u16(), want.status, "{kind}");
        assert_eq!(resp.headers()["retry-after"], "7", "{kind}");
        if let Some(t) = kind.exception_type() {
            assert_eq!(resp.headers()["x-amzn-errortype"], t);
        }
        let body = resp.text().await.unwrap();
        if kind == ErrorKind::TemporarilySuspended {
            assert!(
                body.contains(&acct.account.user_id),
                "names the account: {body}"
            );
        } else {
            assert_eq!(body, want.body, "{kind}");
        }
    }
    // Capacity as 400 as well as 429.
    sim.queue(json!({"type": "error", "kind": "insufficient_model_capacity", "status": 400}))
        .await;
    let (status, _, body) = sim.chat(&acct, "x").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("INSUFFICIENT_MODEL_CAPACITY"));
    // Behaviours also reach usage, models and MCP by path.
    sim.queue(json!({"type": "error", "kind": "throttling", "path": "/ListAvailableModels"}))
        .await;
    let r = sim
        .http
        .get(sim.url("/ListAvailableModels?origin=AI_EDITOR"))
        .bearer_auth(acct.access_token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn every_auth_error_on_the_auth_endpoints() {
    let sim = Sim::start().await;
    let social = sim.account(AccountKind::Social);
    for &kind in ErrorKind::all().iter().filter(|k| k.is_auth_endpoint()) {
        let social_kind = kind.oidc_error().is_none();
        let (path, body) = if social_kind {
            (
                "/refreshToken",
                json!({"refreshToken": social.refresh_token}),
            )
        } else {
            (
                "/token",
                json!({"clientId": "c", "clientSecret": "s", "grantType": "refresh_token", "refreshToken": "r"}),
            )
        };
        sim.queue(json!({"type": "error", "kind": kind, "path": path}))
            .await;
        let resp = sim
            .http
            .post(sim.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let want = kind.response();
        assert_eq!(resp.status().as_u16(), want.status, "{kind}");
        assert_eq!(resp.text().await.unwrap(), want.body, "{kind}");
    }
    // Register and device endpoints take behaviours too.
    for path in ["/client/register", "/device_authorization"] {
        sim.queue(json!({"type": "error", "kind": "server_error", "path": path}))
            .await;
        let resp = sim
            .http
            .post(sim.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
    }
    // And raw HTTP answers, e.g. the short 401 of a superseded social token.
    sim.queue(json!({"type": "http", "status": 401, "body": "", "path": "/refreshToken"}))
        .await;
    let resp = sim
        .http
        .post(sim.url("/refreshToken"))
        .json(&json!({"refreshToken": social.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn validation_rejections_use_the_catalogue() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    // Unknown model -> INVALID_MODEL_ID.
    let (status, _, body) = sim.chat_body(&acct, &chat_body("x", "gpt-4o")).await;
    assert_eq!(status, 400);
    assert_eq!(body, ErrorKind::InvalidModelId.body());
    // Not MANUAL -> generic 400.
    let mut b = chat_body("x", "claude-sonnet-4.5");
    b["conversationState"]["chatTriggerType"] = json!("AUTO");
    let (status, _, body) = sim.chat_body(&acct, &b).await;
    assert_eq!(status, 400);
    assert_eq!(body, ErrorKind::ImproperlyFormed.body());
    // Body ceiling and token ceiling come from the settings.
    sim.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"max_body_bytes": 300}),
    )
    .await;
    let (status, _, _) = sim.chat(&acct, &"y".repeat(400)).await;
    assert_eq!(status, 400);
    sim.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"max_body_bytes": 600000, "context_token_ceiling": 2100}),
    )
    .await;
    let (status, _, body) = sim.chat(&acct, &"z".repeat(1000)).await;
    assert_eq!(status, 400);
    assert_eq!(body, ErrorKind::ContentLengthExceeded.body());
    let log = sim.handle.state().requests();
    assert!(
        log.last()
            .unwrap()
            .outcome
            .as_deref()
            .unwrap()
            .starts_with("rejected:context")
    );
}
