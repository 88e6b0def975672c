//! Errors before any reply byte, in the client's own format: status, body shape, `retry-after`,
//! `x-should-retry`, and the request-id headers.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

const SONNET: &str = "claude-sonnet-4-5";

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The request-id headers are present and equal; returns the id.
fn request_id(resp: &reqwest::Response) -> String {
    let id = header(resp, "request-id").expect("request-id header");
    assert_eq!(header(resp, "x-request-id").as_deref(), Some(id.as_str()));
    id
}

async fn anthropic_error(resp: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(resp.status(), status);
    let id = request_id(&resp);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(body["request_id"], id.as_str());
    body
}

async fn openai_error(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status(), status);
    request_id(&resp);
    let body: Value = resp.json().await.unwrap();
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(e["type"].is_string(), "{body}");
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "{body}"
    );
    body
}

#[tokio::test]
async fn malformed_json_is_400_in_both_dialects() {
    let h = Harness::start().await;
    h.add_account().await;
    let resp = h
        .post("/v1/messages")
        .header("content-type", "application/json")
        .body("{\"model\": \"claude-sonnet-4-5\", \"messages\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "x-should-retry").as_deref(), Some("false"));
    anthropic_error(resp, 400, "invalid_request_error").await;

    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(CLIENT_KEY)
        .header("content-type", "application/json")
        .body("not json at all")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "x-should-retry").as_deref(), Some("false"));
    openai_error(resp, 400).await;
    assert!(h.chats().is_empty(), "nothing reached the upstream");
}

#[tokio::test]
async fn wrong_types_name_the_param() {
    let h = Harness::start().await;
    h.add_account().await;
    let body = json!({"model": SONNET, "messages": [{"role": "user", "content": "hi"}], "max_tokens": "many"});
    let resp = h.openai(&body).await;
    let err = openai_error(resp, 400).await;
    assert_eq!(err["error"]["param"], "max_tokens", "{err}");

    let body = json!({"model": SONNET, "messages": "hello"});
    let err = openai_error(h.openai(&body).await, 400).await;
    assert_eq!(err["error"]["param"], "messages", "{err}");

    let body =
        json!({"model": SONNET, "max_tokens": 10, "messages": [{"role": "user", "content": 5}]});
    let err = anthropic_error(h.anthropic(&body).await, 400, "invalid_request_error").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages"),
        "{err}"
    );

    let body = json!({"model": SONNET, "messages": []});
    openai_error(h.openai(&body).await, 400).await;
    let body = json!({"model": SONNET, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}], "n": 2});
    let err = openai_error(h.openai(&body).await, 400).await;
    assert_eq!(err["error"]["param"], "n", "{err}");
    assert!(h.chats().is_empty());
}

#[tokio::test]
async fn unknown_model_is_404_without_an_upstream_call() {
    let h = Harness::start().await;
    h.add_account().await;
    let resp = h
        .anthropic(&anthropic_body("no-such-model-9", "hi", false))
        .await;
    let body = anthropic_error(resp, 404, "not_found_error").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-model-9")
    );
    let resp = h.openai(&openai_body("no-such-model-9", "hi", false)).await;
    let body = openai_error(resp, 404).await;
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(h.chats().is_empty());
}

#[tokio::test]
async fn bad_key_is_401_and_not_retryable() {
    let h = Harness::start().await;
    h.add_account().await;
    let resp = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", "sk-wrong")
        .json(&anthropic_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "x-should-retry").as_deref(), Some("false"));
    anthropic_error(resp, 401, "authentication_error").await;

    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth("sk-wrong")
        .json(&openai_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "x-should-retry").as_deref(), Some("false"));
    let body = openai_error(resp, 401).await;
    assert_eq!(body["error"]["code"], "invalid_api_key");
    // Either header works for either dialect.
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .header("x-api-key", CLIENT_KEY)
        .json(&openai_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h.chats().len(), 1);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let h = Harness::start_with(|c| c.limits.max_request_body_bytes = 64 * 1024).await;
    h.add_account().await;
    let big = "x".repeat(100 * 1024);
    let resp = h.anthropic(&anthropic_body(SONNET, &big, false)).await;
    anthropic_error(resp, 413, "request_too_large").await;
    let resp = h.openai(&openai_body(SONNET, &big, false)).await;
    let body = openai_error(resp, 413).await;
    assert_eq!(body["error"]["code"], "request_too_large");
    assert!(h.chats().is_empty());
}

#[tokio::test]
async fn upstream_context_overflow_is_prompt_too_long() {
    let h = Harness::start().await;
    h.add_account().await;
    h.queue(json!({"type": "error", "kind": "content_length_exceeded", "count": 2}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", true)).await;
    assert_eq!(header(&resp, "x-should-retry").as_deref(), Some("false"));
    let body = anthropic_error(resp, 400, "invalid_request_error").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long"),
        "{body}"
    );
    let resp = h.openai(&openai_body(SONNET, "hi", false)).await;
    let body = openai_error(resp, 400).await;
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(h.chats().len(), 2, "fail fast: no retry");
}

#[tokio::test]
async fn simulator_token_ceiling_overflow_is_prompt_too_long() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut settings = h.sim.state().settings();
    settings.context_token_ceiling = Some(50);
    h.sim.state().set_settings(settings);
    let long = "word ".repeat(400);
    let resp = h.anthropic(&anthropic_body(SONNET, &long, false)).await;
    let body = anthropic_error(resp, 400, "invalid_request_error").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long")
    );
    assert_eq!(h.chats().len(), 1);
}

#[tokio::test]
async fn over_the_upstream_budget_is_refused_locally() {
    let h = Harness::start_with(|c| c.upstream.max_body_bytes = 20_000).await;
    h.add_account().await;
    let long = "word ".repeat(10_000);
    let resp = h.anthropic(&anthropic_body(SONNET, &long, false)).await;
    let body = anthropic_error(resp, 400, "invalid_request_error").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long"),
        "{body}"
    );
    let resp = h.openai(&openai_body(SONNET, &long, false)).await;
    let body = openai_error(resp, 400).await;
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert!(h.chats().is_empty());
}

#[tokio::test]
async fn request_ids_are_stamped_and_echoed() {
    let h = Harness::start().await;
    h.add_account().await;
    // Success, non-stream and stream.
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 200);
    let id = request_id(&resp);
    assert!(id.starts_with("req_"), "{id}");
    let body: Value = resp.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));

    let resp = h
        .post("/v1/messages")
        .header("x-request-id", "client-chosen-id-42")
        .json(&anthropic_body(SONNET, "hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&resp), "client-chosen-id-42");
    check_anthropic_sse(&read_sse(resp).await);

    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(CLIENT_KEY)
        .header("x-request-id", "openai-id-7")
        .json(&openai_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&resp), "openai-id-7");

    // Errors carry it too, in the header and the Anthropic body.
    let resp = h
        .post("/v1/messages")
        .header("x-request-id", "err-id-1")
        .json(&anthropic_body("nope-model", "hi", false))
        .send()
        .await
        .unwrap();
    let body = anthropic_error(resp, 404, "not_found_error").await;
    assert_eq!(body["request_id"], "err-id-1");
    let resp = h.get("/v1/models").await;
    request_id(&resp);
}

#[tokio::test]
async fn query_strings_and_the_anthropic_prefix_are_accepted() {
    let h = Harness::start().await;
    h.add_account().await;
    let resp = h
        .post("/anthropic/v1/messages?beta=true")
        .header("anthropic-beta", "some-future-beta-2099-01-01")
        .header("anthropic-version", "2099-12-31")
        .json(&anthropic_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = h
        .post("/v1/messages?beta=true")
        .json(&anthropic_body(SONNET, "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
