//! The operator notice: once per conversation at the end of a reply, never in a tool turn,
//! never sent back upstream, in 401 answers, off by default.

#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

const NOTICE: &str = "**Heads-up:** keys rotate on Monday. New ones: https://keys.example.test";

async fn set_notice(h: &Harness, enabled: bool) {
    let r = h
        .http
        .put(format!("{}/api/settings", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"notice": {"enabled": enabled, "markdown": NOTICE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// All the text of an Anthropic message.
fn text_of(message: &Value) -> String {
    message["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "text")
        .map(|b| b["text"].as_str().unwrap())
        .collect()
}

fn body_with(messages: Value, stream: bool) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 512, "stream": stream,
           "messages": messages})
}

fn bash_tool() -> Value {
    json!({"name": "Bash", "description": "Run a shell command",
           "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
           "required": ["command"]}})
}

#[tokio::test]
async fn notice_once_per_conversation_never_upstream_never_in_tool_turns() {
    let h = Harness::start().await;
    h.add_account().await;

    // Off by default.
    let r: Value = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "before", false))
        .await
        .json()
        .await
        .unwrap();
    assert!(!text_of(&r).contains(NOTICE));

    set_notice(&h, true).await;

    // First reply of a conversation: the notice ends it, after a blank line.
    h.script(json!({"parts": [{"type": "text", "text": "Hello there."}]}));
    let first: Value = h
        .anthropic(&body_with(
            json!([{"role": "user", "content": "Q1"}]),
            false,
        ))
        .await
        .json()
        .await
        .unwrap();
    let text = text_of(&first);
    assert_eq!(text, format!("Hello there.\n\n{NOTICE}"), "{first}");
    assert_eq!(first["stop_reason"], "end_turn");

    // The next turn of the same conversation: no notice, and the history sent upstream does
    // not carry it.
    let history = json!([
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": "Q2"},
    ]);
    let second: Value = h
        .anthropic(&body_with(history.clone(), false))
        .await
        .json()
        .await
        .unwrap();
    assert!(!text_of(&second).contains(NOTICE), "{second}");
    let upstream = h.chats().last().unwrap().body_json().unwrap().to_string();
    assert!(!upstream.contains("Heads-up"), "{upstream}");
    assert!(
        upstream.contains("Hello there."),
        "the reply itself stays: {upstream}"
    );

    // Streamed, in a new conversation: at the end of the stream.
    let events = read_sse(
        h.anthropic(&body_with(
            json!([{"role": "user", "content": "Q-stream"}]),
            true,
        ))
        .await,
    )
    .await;
    assert!(!check_anthropic_sse(&events));
    assert!(text_of(&fold_anthropic(&events)).ends_with(&format!("\n\n{NOTICE}")));

    // A tool turn never carries it; the conversation's next text reply does.
    h.script(json!({"parts": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool", "name": "Bash", "input": {"command": "ls"}},
    ]}));
    let mut body = body_with(json!([{"role": "user", "content": "Q-tool"}]), false);
    body["tools"] = json!([bash_tool()]);
    let tool_turn: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(tool_turn["stop_reason"], "tool_use", "{tool_turn}");
    assert!(!text_of(&tool_turn).contains(NOTICE));
    let tool_id = tool_turn["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap()["id"]
        .clone();
    h.script(json!({"parts": [{"type": "text", "text": "Two files."}]}));
    body["messages"] = json!([
        {"role": "user", "content": "Q-tool"},
        {"role": "assistant", "content": tool_turn["content"]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_id, "content": "a\nb"}]},
    ]);
    let after_tool: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(text_of(&after_tool), format!("Two files.\n\n{NOTICE}"));

    // OpenAI clients get it too, once per conversation.
    let mut oa = openai_body("claude-sonnet-4-5", "Q-openai", false);
    oa["user"] = json!("someone");
    let r: Value = h.openai(&oa).await.json().await.unwrap();
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.ends_with(&format!("\n\n{NOTICE}")), "{content}");
    let r: Value = h.openai(&oa).await.json().await.unwrap();
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        !content.contains(NOTICE),
        "same first message, same conversation"
    );

    // Switched off: nothing more.
    set_notice(&h, false).await;
    let r: Value = h
        .anthropic(&body_with(
            json!([{"role": "user", "content": "Q-off"}]),
            false,
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(!text_of(&r).contains(NOTICE));
}

#[tokio::test]
async fn unauthorized_answers_carry_the_notice() {
    let h = Harness::start().await;
    let anthropic = |key: &'static str| {
        h.http
            .post(format!("{}/v1/messages", h.url))
            .header("x-api-key", key)
            .json(&anthropic_body("claude-sonnet-4-5", "hi", false))
            .send()
    };
    let r = anthropic("sk-rotated-key").await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(!body["error"]["message"].as_str().unwrap().contains(NOTICE));

    set_notice(&h, true).await;
    let r = anthropic("sk-rotated-key").await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("x-request-id").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.ends_with(&format!("\n\n{NOTICE}")), "{message}");

    let r = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth("sk-rotated-key")
        .json(&openai_body("claude-sonnet-4-5", "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(NOTICE),
        "{body}"
    );

    // The admin API's own 401s are not the clients' business.
    let r = h
        .http
        .get(format!("{}/api/settings", h.url))
        .bearer_auth("wrong-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains(NOTICE));
}
