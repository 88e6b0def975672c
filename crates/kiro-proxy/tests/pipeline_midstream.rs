//! After the reply is committed: mid-stream faults end in-band (or with `max_tokens` for a
//! context overflow), faults before any visible output are retried transparently, SSE leaves as
//! each upstream frame arrives (no coalescing), silences get keep-alives, and a client that goes
//! away cancels the upstream request.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use std::time::{Duration, Instant};

use pipeline_support::*;
use serde_json::{Value, json};

const SONNET: &str = "claude-sonnet-4-5";

fn text_then(part: Value) -> Value {
    json!({"parts": [{"type": "text", "text": "Partial answer here", "chunk_chars": 4}, part]})
}

fn streamed_text(events: &[Sse]) -> String {
    fold_anthropic(events)["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

fn exception(kind: &str, reason: Option<&str>) -> Value {
    json!({"type": "exception", "exception_type": kind, "message": "upstream trouble", "reason": reason})
}

#[tokio::test]
async fn exception_after_text_is_an_in_band_error() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(text_then(exception("InternalServerException", None)));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", true)).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(check_anthropic_sse(&events), "ends with event: error");
    assert!(!events.iter().any(|e| e.name() == "message_stop"));
    let last = events.last().unwrap().json();
    assert_eq!(last["type"], "error");
    assert!(last["error"]["type"].is_string() && last["error"]["message"].is_string());
    assert_eq!(streamed_text(&events), "Partial answer here");

    h.script(text_then(exception("InternalServerException", None)));
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert!(check_openai_sse(&events), "ends with an error chunk");
    assert!(!events.iter().any(|e| e.data == "[DONE]"));
    assert_eq!(fold_openai(&events)["content"], "Partial answer here");
    assert_eq!(h.chats().len(), 2, "no retry after output was committed");
}

#[tokio::test]
async fn invalid_state_after_text_is_not_swallowed() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(text_then(
        json!({"type": "invalid_state", "reason": "INVALID_CONVERSATION_STATE"}),
    ));
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(check_anthropic_sse(&events));
}

#[tokio::test]
async fn non_streaming_reply_with_a_mid_stream_fault_is_an_error() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(text_then(exception("InternalServerException", None)));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");

    h.script(text_then(exception("InternalServerException", None)));
    let resp = h.openai(&openai_body(SONNET, "hi", false)).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn context_overflow_after_text_ends_with_max_tokens() {
    let h = Harness::start().await;
    h.add_account().await;
    let overflow = exception(
        "ContentLengthExceededException",
        Some("CONTENT_LENGTH_EXCEEDS_THRESHOLD"),
    );
    h.script(text_then(overflow.clone()));
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(!check_anthropic_sse(&events), "a normal end");
    let message = fold_anthropic(&events);
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(streamed_text(&events), "Partial answer here");

    h.script(text_then(overflow.clone()));
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert!(!check_openai_sse(&events));
    assert_eq!(fold_openai(&events)["finish_reason"], "length");

    h.script(text_then(overflow));
    let folded: Value = h
        .anthropic(&anthropic_body(SONNET, "hi", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(folded["stop_reason"], "max_tokens");
    assert_eq!(folded["content"][0]["text"], "Partial answer here");
}

#[tokio::test]
async fn cut_connection_after_text_is_an_in_band_error() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(text_then(json!({"type": "cut", "at": "payload"})));
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(check_anthropic_sse(&events));
    assert_eq!(streamed_text(&events), "Partial answer here");

    h.script(text_then(json!({"type": "reset"})));
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert!(check_openai_sse(&events));
}

#[tokio::test]
async fn idle_timeout_after_text_is_an_in_band_error() {
    let h = Harness::start_with(|c| c.upstream.idle_timeout = Duration::from_millis(300)).await;
    h.add_account().await;
    h.script(text_then(json!({"type": "stall", "ms": 2000})));
    let started = Instant::now();
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(check_anthropic_sse(&events));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn faults_before_any_output_are_retried_transparently() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    // In-stream capacity exception before any text: retried (no account penalty).
    h.script(
        json!({"parts": [exception("ThrottlingException", Some("INSUFFICIENT_MODEL_CAPACITY"))]}),
    );
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(
        !check_anthropic_sse(&events),
        "the client sees a normal reply"
    );
    assert!(!streamed_text(&events).is_empty());
    assert_eq!(h.chats().len(), 2);

    // A rate-limit exception before any text: switched to the other account.
    h.script(
        json!({"parts": [exception("ThrottlingException", Some("SERVICE_REQUEST_RATE_EXCEEDED"))]}),
    );
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert!(!check_openai_sse(&events));
    let chats = h.chats();
    assert_eq!(chats.len(), 4);
    assert_ne!(chats[2].account, chats[3].account, "switched accounts");
    let limited = if chats[2].account.as_deref() == Some(&a.sim_id) {
        &a
    } else {
        &b
    };
    assert!(
        h.app.pool.state(&limited.id).is_some(),
        "the throttled account cools down"
    );

    // A connection cut before any frame: retried too.
    h.script(json!({"parts": [{"type": "cut", "at": "headers"}]}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(h.chats().len(), 6);
}

#[tokio::test]
async fn stream_is_not_coalesced() {
    let h = Harness::start().await;
    h.add_account().await;
    let text = "abcde".repeat(20);
    let paced = json!({"pace": {"frame_interval_ms": 30},
        "parts": [{"type": "text", "text": text, "chunk_chars": 5}]});

    h.script(paced.clone());
    let started = Instant::now();
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", true)).await;
    let events = read_sse_from(resp, started).await;
    check_anthropic_sse(&events);
    let deltas: Vec<&Sse> = events
        .iter()
        .filter(|e| e.name() == "content_block_delta")
        .collect();
    assert_eq!(deltas.len(), 20, "one text delta per upstream text frame");
    let spread = deltas[19].at - deltas[0].at;
    // 19 intervals of 30 ms between the first and last text frames.
    assert!(
        spread >= Duration::from_millis(400),
        "deltas arrived within {spread:?}"
    );
    let frames = served_events(&h.chats()[0])
        .iter()
        .filter(|e| matches!(e, kiro_wire::Event::AssistantResponse(_)))
        .count();
    assert_eq!(frames, 20);

    h.script(paced);
    let started = Instant::now();
    let events = read_sse_from(h.openai(&openai_body(SONNET, "hi", true)).await, started).await;
    let deltas: Vec<&Sse> = events
        .iter()
        .filter(|e| !e.comment && e.data != "[DONE]")
        .filter(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
        .collect();
    assert_eq!(deltas.len(), 20);
    assert!(deltas[19].at - deltas[0].at >= Duration::from_millis(400));
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_request() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let relay = Relay::start(sim.addr()).await;
    let h = Harness::start_on(sim, Some(relay.url.clone()), |_| {}).await;
    h.add_account().await;
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
    let dropped = Instant::now();
    drop(resp);
    assert!(
        eventually(Duration::from_millis(1500), || !relay.closed().is_empty()).await,
        "the proxy kept reading the upstream after the client left"
    );
    let closed_after = relay.closed()[0].saturating_duration_since(dropped);
    assert!(
        closed_after < Duration::from_millis(1500),
        "{closed_after:?}"
    );

    // The next request is served normally.
    let resp = h.anthropic(&anthropic_body(SONNET, "again", false)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["stop_reason"], "end_turn");
}

#[tokio::test]
async fn silences_get_keepalives() {
    let h =
        Harness::start_with(|c| c.upstream.keepalive_interval = Duration::from_millis(100)).await;
    h.add_account().await;
    let stalled = text_then(json!({"type": "stall", "ms": 650}));

    h.script(stalled.clone());
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(!check_anthropic_sse(&events), "{events:?}");
    // The early ping after message_start, then pings during the stall, after the text.
    let first_delta = events
        .iter()
        .position(|e| e.name() == "content_block_delta")
        .unwrap();
    let pings = events[first_delta..]
        .iter()
        .filter(|e| e.name() == "ping")
        .count();
    assert!((3..=8).contains(&pings), "{pings} pings in a 650 ms stall");
    assert_eq!(streamed_text(&events), "Partial answer here");

    h.script(stalled);
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert!(!check_openai_sse(&events));
    let comments = events.iter().filter(|e| e.comment).count();
    assert!(
        (3..=8).contains(&comments),
        "{comments} keep-alive comments"
    );
    assert_eq!(fold_openai(&events)["content"], "Partial answer here");
}

#[tokio::test]
async fn client_disconnect_before_any_output_cancels_the_upstream_request() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let relay = Relay::start(sim.addr()).await;
    let h = Harness::start_on(sim, Some(relay.url.clone()), |_| {}).await;
    h.add_account().await;
    // The upstream thinks for 2.5 s before its first frame (under the 3 s first-event timeout).
    h.script(json!({"pace": {"first_event_ms": 2500}}));
    let gave_up = h
        .post("/v1/messages")
        .timeout(Duration::from_millis(300))
        .json(&anthropic_body(SONNET, "hi", true))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    let left = Instant::now();
    assert!(
        eventually(Duration::from_millis(1500), || !relay.closed().is_empty()).await,
        "the proxy kept waiting on the upstream after the client left"
    );
    assert!(relay.closed()[0].saturating_duration_since(left) < Duration::from_millis(1500));
    assert_eq!(
        h.chats().len(),
        1,
        "and did not retry for a client that is gone"
    );
}

#[test]
fn keepalive_interval_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        kiro_proxy::Config::default().upstream.keepalive_interval,
        Duration::from_secs(15)
    );
    let file = dir.path().join("kiro.toml");
    std::fs::write(&file, "[upstream]\nkeepalive_interval = \"2s\"\n").unwrap();
    let args = kiro_proxy::ServeArgs {
        config: Some(file),
        ..Default::default()
    };
    let from_file = kiro_proxy::Config::load_from(&args, |_| None).unwrap();
    assert_eq!(
        from_file.upstream.keepalive_interval,
        Duration::from_secs(2)
    );
    let from_env = kiro_proxy::Config::load_from(&args, |name| {
        (name == "KIRO_KEEPALIVE_INTERVAL").then(|| "250ms".to_owned())
    })
    .unwrap();
    assert_eq!(
        from_env.upstream.keepalive_interval,
        Duration::from_millis(250)
    );
    let zero = kiro_proxy::Config::load_from(&args, |name| {
        (name == "KIRO_KEEPALIVE_INTERVAL").then(|| "0".to_owned())
    });
    assert!(zero.is_err());
}
