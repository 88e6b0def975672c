//! Every client request on the chat routes produces exactly one `RequestRecord`, with the
//! fields its outcome calls for: replies streamed and folded, refusals before and after the
//! key check, upstream errors, and a client that leaves mid-stream.

#![cfg(test)]

pub mod pipeline_support;
pub mod stats_support;

use std::time::Duration;

use kiro_proxy::telemetry::KeyRef;
use pipeline_support::*;
use serde_json::json;
use stats_support::Records;

const SONNET: &str = "claude-sonnet-4-5";

#[tokio::test]
async fn a_streamed_reply() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    let records = Records::subscribe(&h.app);
    let resp = h
        .post("/v1/messages")
        .header("x-request-id", "stream-1")
        .json(&anthropic_body(SONNET, "hello", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(!check_anthropic_sse(&events));
    let final_usage = fold_anthropic(&events)["usage"].clone();

    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(r.request_id, "stream-1");
    assert_eq!(r.dialect, "anthropic");
    assert!(r.stream);
    assert_eq!(r.key, KeyRef::Configured { index: 0 });
    assert_eq!(r.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(r.model_requested.as_deref(), Some(SONNET));
    assert!(r.model_upstream.as_deref().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.account_id.as_deref(), Some(acct.id.as_str()));
    assert_eq!((r.attempts, r.status), (1, 200));
    assert_eq!(r.stop_reason, Some("end_turn"));
    assert_eq!(r.error, None);
    assert!(!r.client_disconnected);
    assert_eq!(Some(r.output_tokens), final_usage["output_tokens"].as_u64());
    assert!(r.output_tokens > 0 && r.input_tokens > 0, "{r:?}");
    assert!(r.credits > 0.0, "the simulator meters every reply: {r:?}");
    let ttft = r.ttft_ms.expect("content was sent");
    assert!(ttft > 0.0 && ttft <= r.latency_ms, "{r:?}");
    assert!(
        r.upstream_ms > 0.0 && r.upstream_ms <= r.latency_ms,
        "{r:?}"
    );
    assert!(r.started_at_ms > 1_700_000_000_000);
}

#[tokio::test]
async fn a_folded_reply() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    let records = Records::subscribe(&h.app);
    let resp = h.openai(&openai_body(SONNET, "hello", false)).await;
    assert_eq!(resp.status(), 200);
    let rid = resp
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();

    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(r.request_id, rid);
    assert_eq!((r.dialect, r.stream, r.status), ("openai", false, 200));
    assert_eq!(r.account_id.as_deref(), Some(acct.id.as_str()));
    assert_eq!(r.stop_reason, Some("end_turn"));
    assert_eq!(
        Some(r.output_tokens),
        body["usage"]["completion_tokens"].as_u64()
    );
    assert_eq!(
        Some(r.input_tokens + r.cache_read_input_tokens + r.cache_creation_input_tokens),
        body["usage"]["prompt_tokens"].as_u64()
    );
    assert!(r.ttft_ms.is_some() && !r.client_disconnected);
}

#[tokio::test]
async fn refusals_before_any_upstream_attempt() {
    let h = Harness::start().await;
    h.add_account().await;
    let records = Records::subscribe(&h.app);

    // 401: no key recognised.
    let resp = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", "sk-wrong-key")
        .json(&anthropic_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!((r.status, r.key.clone()), (401, KeyRef::None));
    assert_eq!(r.error.as_deref(), Some("authentication"));
    assert_eq!((r.attempts, r.account_id.clone()), (0, None));
    assert_eq!(r.model_requested, None);
    assert!(!r.client_disconnected);

    // 400: the key is known, the body is not JSON.
    let resp = h
        .post("/v1/messages")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let got = records.wait_for(2).await;
    assert_eq!(got.len(), 2);
    let r = &got[1];
    assert_eq!(
        (r.status, r.key.clone()),
        (400, KeyRef::Configured { index: 0 })
    );
    assert_eq!(r.error.as_deref(), Some("invalid_request"));
    assert_eq!((r.attempts, r.stop_reason), (0, None));
    assert!(h.chats().is_empty());
}

#[tokio::test]
async fn an_upstream_error() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    let records = Records::subscribe(&h.app);
    h.queue(json!({"type": "error", "kind": "content_length_exceeded"}));
    let resp = h.openai(&openai_body(SONNET, "hi", true)).await;
    assert_eq!(resp.status(), 400);
    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!((r.status, r.stream, r.attempts), (400, true, 1));
    assert_eq!(r.account_id.as_deref(), Some(acct.id.as_str()));
    // The fault's label, not just the client error's kind.
    let error = r.error.as_deref().unwrap();
    assert!(error != "invalid_request" && !error.is_empty(), "{error}");
    assert_eq!((r.stop_reason, r.ttft_ms), (None, None));
    assert!(r.upstream_ms > 0.0);
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    let records = Records::subscribe(&h.app);
    // 100 frames, 50 ms apart: five seconds of answer.
    h.script(json!({"pace": {"frame_interval_ms": 50},
        "parts": [{"type": "text", "text": "word ".repeat(100), "chunk_chars": 5}]}));
    let mut resp = h.anthropic(&anthropic_body(SONNET, "hi", true)).await;
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    while !seen.contains("content_block_delta") {
        let chunk = resp.chunk().await.unwrap().unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    drop(resp);
    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert!(r.client_disconnected, "{r:?}");
    assert_eq!((r.status, r.stream), (200, true));
    assert_eq!(r.account_id.as_deref(), Some(acct.id.as_str()));
    assert_eq!(r.stop_reason, None, "the reply never ended");
    assert!(r.ttft_ms.is_some());
    assert!(
        r.latency_ms < 4000.0,
        "recorded when the client left: {r:?}"
    );

    // Still exactly one record, and the next request is recorded normally.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(records.all().len(), 1);
    let resp = h.anthropic(&anthropic_body(SONNET, "again", false)).await;
    assert_eq!(resp.status(), 200);
    let got = records.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert!(!got[1].client_disconnected);
}

#[tokio::test]
async fn a_client_that_leaves_before_any_output() {
    let h = Harness::start().await;
    h.add_account().await;
    let records = Records::subscribe(&h.app);
    h.script(json!({"pace": {"first_event_ms": 1500}}));
    let gave_up = h
        .post("/v1/messages")
        .timeout(Duration::from_millis(300))
        .json(&anthropic_body(SONNET, "hi", true))
        .send()
        .await;
    assert!(gave_up.is_err());
    let got = records.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert!(r.client_disconnected);
    assert_eq!(r.status, kiro_proxy::telemetry::CLIENT_CLOSED);
    assert_eq!(r.attempts, 1);
}
