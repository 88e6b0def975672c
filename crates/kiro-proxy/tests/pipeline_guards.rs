//! Output-side rules end to end: stop sequences and `max_tokens` enforced on the stream (and the
//! upstream dropped once the reply is over), truncated tool input reported as `max_tokens`,
//! tool names the upstream cannot take restored for the client, upstream quirks survived.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use std::time::Duration;

use pipeline_support::*;
use serde_json::{Value, json};

const SONNET: &str = "claude-sonnet-4-5";

#[tokio::test]
async fn stop_sequence_ends_the_reply_and_drops_the_upstream() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let relay = Relay::start(sim.addr()).await;
    let h = Harness::start_on(sim, Some(relay.url.clone()), |_| {}).await;
    h.add_account().await;
    // The stop sequence arrives early; the rest would take 3 s more.
    let script = json!({"pace": {"frame_interval_ms": 30},
        "parts": [{"type": "text", "text": format!("Alpha beta STOP{}", " gamma".repeat(100)), "chunk_chars": 3}]});
    let mut body = anthropic_body(SONNET, "hi", true);
    body["stop_sequences"] = json!(["STOP"]);

    h.script(script.clone());
    let started = std::time::Instant::now();
    let events = read_sse(h.anthropic(&body).await).await;
    assert!(!check_anthropic_sse(&events));
    let message = fold_anthropic(&events);
    assert_eq!(message["stop_reason"], "stop_sequence");
    assert_eq!(message["stop_sequence"], "STOP");
    assert_eq!(message["content"][0]["text"], "Alpha beta ");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        eventually(Duration::from_millis(1000), || !relay.closed().is_empty()).await,
        "the upstream connection is closed once the reply is over"
    );

    h.script(script);
    let mut body = openai_body(SONNET, "hi", false);
    body["stop"] = json!("STOP");
    let reply: Value = h.openai(&body).await.json().await.unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "Alpha beta ");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn max_tokens_caps_the_output() {
    let h = Harness::start().await;
    h.add_account().await;
    let script = json!({"parts": [{"type": "words", "count": 400, "chunk_chars": 8}]});
    let mut body = anthropic_body(SONNET, "hi", true);
    body["max_tokens"] = json!(10);
    h.script(script.clone());
    let events = read_sse(h.anthropic(&body).await).await;
    assert!(!check_anthropic_sse(&events));
    let message = fold_anthropic(&events);
    assert_eq!(message["stop_reason"], "max_tokens");
    let text = message["content"][0]["text"].as_str().unwrap();
    assert!(!text.is_empty() && text.len() < 200, "{} chars", text.len());

    let mut body = openai_body(SONNET, "hi", true);
    body["max_completion_tokens"] = json!(10);
    h.script(script);
    let events = read_sse(h.openai(&body).await).await;
    assert!(!check_openai_sse(&events));
    assert_eq!(fold_openai(&events)["finish_reason"], "length");
}

#[tokio::test]
async fn truncated_tool_input_is_max_tokens_not_a_call() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut body = anthropic_body(SONNET, "write it", true);
    body["tools"] = json!([{"name": "Write", "description": "Write a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"},
        "content": {"type": "string"}}, "required": ["file_path", "content"]}}]);
    h.script(json!({"parts": [{"type": "truncated_tool", "name": "Write", "bytes": 3000}]}));
    let events = read_sse(h.anthropic(&body).await).await;
    check_anthropic_sse(&events);
    let last_delta = events
        .iter()
        .rev()
        .find(|e| e.name() == "message_delta")
        .unwrap()
        .json();
    assert_eq!(last_delta["delta"]["stop_reason"], "max_tokens");

    h.script(json!({"parts": [{"type": "truncated_tool", "name": "Write", "bytes": 3000}]}));
    let mut body = openai_body(SONNET, "write it", false);
    body["tools"] = json!([{"type": "function", "function": {"name": "Write",
        "parameters": {"type": "object", "properties": {}}}}]);
    let reply: Value = h.openai(&body).await.json().await.unwrap();
    assert_eq!(reply["choices"][0]["finish_reason"], "length", "{reply}");
}

#[tokio::test]
async fn tool_names_the_upstream_cannot_take_are_restored() {
    let h = Harness::start().await;
    h.add_account().await;
    let name = "mcp__files.server__read file";
    let mut body = anthropic_body(SONNET, "read", false);
    body["tools"] = json!([{"name": name, "description": "Read",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]);

    // Learn the upstream name from the first request, then answer with a call to it.
    let resp = h.anthropic(&body).await;
    assert_eq!(resp.status(), 200);
    let sent = current_message(&h.chats()[0]);
    let upstream_name = sent["userInputMessageContext"]["tools"][0]["toolSpecification"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(upstream_name, name);
    assert!(
        upstream_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{upstream_name}"
    );

    h.script(json!({"parts": [{"type": "tool", "name": upstream_name, "input": {"path": "/x"}}]}));
    let reply: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(reply["content"][0]["type"], "tool_use", "{reply}");
    assert_eq!(reply["content"][0]["name"], name);
    assert_eq!(reply["content"][0]["input"], json!({"path": "/x"}));
}

#[tokio::test]
async fn upstream_quirks_are_survived() {
    let h = Harness::start().await;
    h.add_account().await;
    // EventStream labelled application/json, noise events, HTTP chunks cutting frames and
    // characters, a surrogate pair split across frames.
    h.script(
        json!({"content_type": "application/json", "noise": true, "http_chunk_bytes": 7,
        "parts": [{"type": "text", "text": "héllo wörld ", "chunk_chars": 2},
                  {"type": "surrogate_split", "before": "a", "after": "b"},
                  {"type": "grapheme_split"}]}),
    );
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(!check_anthropic_sse(&events));
    let text = fold_anthropic(&events)["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        text,
        format!(
            "héllo wörld a\u{1F600}b{}",
            kiro_sim::render::GRAPHEME_SPLIT_TEXT
        )
    );
    assert!(!text.contains('\u{FFFD}'));
}

#[tokio::test]
async fn json_error_under_http_200_is_classified_and_retried() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(json!({"body": {"error": "insufficient_model_capacity"}}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(h.chats().len(), 2);

    h.script(json!({"body": {"error": "content_length_exceeded"}}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", true)).await;
    assert_eq!(
        resp.status(),
        400,
        "a context overflow before output is an HTTP error"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long")
    );
}

#[tokio::test]
async fn context_overflow_frame_before_output_is_an_http_400() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(
        json!({"parts": [{"type": "exception", "exception_type": "ContentLengthExceededException",
        "reason": "CONTENT_LENGTH_EXCEEDS_THRESHOLD", "message": "Input is too long."}]}),
    );
    let resp = h.openai(&openai_body(SONNET, "hi", true)).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(h.chats().len(), 1);
}

#[tokio::test]
async fn first_event_timeout_before_output_is_retried() {
    let h =
        Harness::start_with(|c| c.upstream.first_event_timeout = Duration::from_millis(300)).await;
    h.add_account().await;
    h.script(json!({"pace": {"first_event_ms": 2000}}));
    let started = std::time::Instant::now();
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(h.chats().len(), 2);
}

#[tokio::test]
async fn quota_exhaustion_mid_stream_still_takes_the_account_out() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.script(
        json!({"parts": [{"type": "text", "text": "Some text", "chunk_chars": 3},
        {"type": "invalid_state", "reason": "MONTHLY_REQUEST_COUNT"}]}),
    );
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(check_anthropic_sse(&events), "an in-band error");
    assert!(matches!(
        h.app.pool.state(&a.id),
        Some(kiro_proxy::accounts::Unavailable::Exhausted { .. })
    ));
}

#[tokio::test]
async fn concurrent_requests_are_all_served() {
    let h = Harness::start().await;
    for _ in 0..3 {
        h.add_account().await;
    }
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (http, url) = (h.http.clone(), h.url.clone());
        tasks.push(tokio::spawn(async move {
            let stream = i % 2 == 0;
            let resp = http
                .post(format!("{url}/v1/messages"))
                .header("x-api-key", CLIENT_KEY)
                .json(&anthropic_body(SONNET, &format!("request {i}"), stream))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            if stream {
                let events = read_sse(resp).await;
                assert!(!check_anthropic_sse(&events));
            } else {
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["stop_reason"], "end_turn");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(h.chats().len(), 24);
}
