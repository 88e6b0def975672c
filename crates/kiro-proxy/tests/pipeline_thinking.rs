//! Thinking through the whole path: native reasoning (`additionalModelRequestFields`,
//! `reasoningContentEvent`, signatures), tag emulation, replaying signed thinking, and the N12
//! repaired retry after `THINKING_SIGNATURE_INVALID`.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

const OPUS_47: &str = "claude-opus-4-7";
const SONNET_46: &str = "claude-sonnet-4-6";
const SONNET_45: &str = "claude-sonnet-4-5";

fn thinking_body(model: &str, text: &str, stream: bool) -> Value {
    let mut body = anthropic_body(model, text, stream);
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    body
}

fn thinking_script() -> Value {
    json!({"parts": [
        {"type": "thinking", "text": "Weighing the options carefully.", "chunk_chars": 6},
        {"type": "text", "text": "The answer is 42.", "chunk_chars": 5},
    ]})
}

/// The Anthropic thinking block of a reply, checked for shape.
fn thinking_block(message: &Value) -> Value {
    let blocks = message["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "thinking", "{message}");
    assert_eq!(
        blocks[1],
        json!({"type": "text", "text": "The answer is 42."})
    );
    blocks[0].clone()
}

async fn native_thinking(model: &str, upstream_model: &str) {
    let h = Harness::start().await;
    h.add_account().await;

    h.script(thinking_script());
    let events = read_sse(h.anthropic(&thinking_body(model, "think", true)).await).await;
    assert!(!check_anthropic_sse(&events));
    let streamed = fold_anthropic(&events);
    let block = thinking_block(&streamed);
    assert_eq!(block["thinking"], "Weighing the options carefully.");
    let signature = kiro_sim::signature::sign(upstream_model, "Weighing the options carefully.");
    assert_eq!(block["signature"], signature);
    assert!(
        events
            .iter()
            .any(|e| e.name() == "content_block_delta"
                && e.json()["delta"]["type"] == "signature_delta"),
        "signature arrives as signature_delta"
    );
    let thinking_deltas = events
        .iter()
        .filter(|e| {
            e.name() == "content_block_delta" && e.json()["delta"]["type"] == "thinking_delta"
        })
        .count();
    assert!(thinking_deltas > 1, "thinking streamed in pieces");

    let chat = &h.chats()[0];
    let body = chat.body_json().unwrap();
    assert_eq!(current_message(chat)["modelId"], upstream_model);
    let fields = &current_message(chat)["additionalModelRequestFields"];
    assert!(fields["thinking"]["type"].is_string(), "{body}");
    assert_ne!(fields["thinking"]["type"], "disabled", "{fields}");
    assert!(
        !chat_text(&body).contains("<thinking_mode>"),
        "native thinking uses no tags"
    );

    h.script(thinking_script());
    let folded: Value = h
        .anthropic(&thinking_body(model, "think", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(folded["content"], streamed["content"]);
}

/// Every text of the conversation state, joined (to look for prompt markers).
fn chat_text(body: &Value) -> String {
    body["conversationState"].to_string()
}

#[tokio::test]
async fn native_thinking_opus_47() {
    native_thinking(OPUS_47, "claude-opus-4.7").await;
}

#[tokio::test]
async fn native_thinking_sonnet_46() {
    native_thinking(SONNET_46, "claude-sonnet-4.6").await;
}

#[tokio::test]
async fn opus_47_without_thinking_disables_it_upstream() {
    let h = Harness::start().await;
    h.add_account().await;
    let resp = h
        .anthropic(&anthropic_body(OPUS_47, "no thinking", false))
        .await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert!(
        reply["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] == "text"),
        "{reply}"
    );
    let chat = &h.chats()[0];
    assert_eq!(
        current_message(chat)["additionalModelRequestFields"]["thinking"]["type"],
        "disabled"
    );
}

#[tokio::test]
async fn tag_thinking_sonnet_45() {
    let h = Harness::start().await;
    h.add_account().await;
    let script = json!({"parts": [{"type": "text",
        "text": "<thinking>Tags carry the thoughts.</thinking>\n\nThe answer is 42.", "chunk_chars": 7}]});

    h.script(script.clone());
    let events = read_sse(h.anthropic(&thinking_body(SONNET_45, "think", true)).await).await;
    assert!(!check_anthropic_sse(&events));
    let streamed = fold_anthropic(&events);
    let block = thinking_block(&streamed);
    assert_eq!(block["thinking"], "Tags carry the thoughts.");

    let chat = &h.chats()[0];
    let body = chat.body_json().unwrap();
    assert!(chat_text(&body).contains("<thinking_mode>"), "{body}");
    assert!(
        current_message(chat)
            .get("additionalModelRequestFields")
            .is_none()
    );

    h.script(script);
    let folded: Value = h
        .anthropic(&thinking_body(SONNET_45, "think", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(folded["content"], streamed["content"]);
}

#[tokio::test]
async fn replayed_thinking_with_its_signature_is_accepted() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(thinking_script());
    let first: Value = h
        .anthropic(&thinking_body(OPUS_47, "think", false))
        .await
        .json()
        .await
        .unwrap();
    let block = thinking_block(&first);

    let mut follow = thinking_body(OPUS_47, "", false);
    follow["messages"] = json!([
        {"role": "user", "content": "think"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": "and then?"},
    ]);
    let resp = h.anthropic(&follow).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let chats = h.chats();
    assert_eq!(chats.len(), 2, "no repair retry needed");
    let history = chats[1].body_json().unwrap()["conversationState"]["history"].clone();
    let reasoning = history
        .as_array()
        .unwrap()
        .iter()
        .find_map(|t| {
            t["assistantResponseMessage"]
                .get("reasoningContent")
                .cloned()
        })
        .expect("the signed thinking is replayed");
    assert_eq!(reasoning["reasoningText"]["text"], block["thinking"]);
    assert_eq!(reasoning["reasoningText"]["signature"], block["signature"]);
}

#[tokio::test]
async fn bad_signature_gets_one_repaired_retry() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut body = thinking_body(OPUS_47, "", true);
    body["messages"] = json!([
        {"role": "user", "content": "think"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Old thoughts.", "signature": "bm90LWEtcmVhbC1zaWduYXR1cmU="},
            {"type": "text", "text": "Old answer."},
        ]},
        {"role": "user", "content": "and then?"},
    ]);
    let resp = h.anthropic(&body).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(
        !check_anthropic_sse(&events),
        "the client sees a normal reply"
    );

    let chats = h.chats();
    assert_eq!(chats.len(), 2, "one rejected request, one repaired retry");
    assert_eq!(chats[0].status, Some(400));
    assert!(
        chats[0]
            .outcome
            .as_deref()
            .unwrap_or("")
            .contains("signature"),
        "{:?}",
        chats[0].outcome
    );
    let has_reasoning = |r: &kiro_sim::log::RecordedRequest| {
        r.body_json().unwrap()["conversationState"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| {
                t["assistantResponseMessage"]
                    .get("reasoningContent")
                    .is_some()
            })
    };
    assert!(has_reasoning(&chats[0]));
    assert!(
        !has_reasoning(&chats[1]),
        "the retry drops history reasoning"
    );
    assert_eq!(chats[1].status, Some(200));
    // Same account, no penalty.
    assert_eq!(chats[0].account, chats[1].account);
}

#[tokio::test]
async fn openai_reasoning_effort_gives_reasoning_content() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut body = openai_body(SONNET_46, "think", true);
    body["reasoning_effort"] = json!("high");
    h.script(thinking_script());
    let events = read_sse(h.openai(&body).await).await;
    assert!(!check_openai_sse(&events));
    let streamed = fold_openai(&events);
    assert_eq!(
        streamed["reasoning_content"],
        "Weighing the options carefully."
    );
    assert_eq!(streamed["content"], "The answer is 42.");
    let fields = &current_message(&h.chats()[0])["additionalModelRequestFields"];
    assert_ne!(fields["thinking"]["type"], "disabled", "{fields}");
}

#[tokio::test]
async fn thinking_with_a_tool_call_round_trips_with_its_signature() {
    let h = Harness::start().await;
    h.add_account().await;
    let tools = json!([{"name": "Bash", "description": "Run a command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]);
    h.script(json!({"parts": [
        {"type": "thinking", "text": "I should list the files.", "chunk_chars": 5},
        {"type": "tool", "name": "Bash", "input": {"command": "ls"}},
    ]}));
    let mut body = thinking_body(OPUS_47, "what is here?", true);
    body["tools"] = tools.clone();
    let events = read_sse(h.anthropic(&body).await).await;
    assert!(!check_anthropic_sse(&events));
    let first = fold_anthropic(&events);
    let blocks = first["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "thinking");
    assert_eq!(blocks[1]["type"], "tool_use");
    assert_eq!(first["stop_reason"], "tool_use");
    let id = blocks[1]["id"].as_str().unwrap();

    let mut follow = thinking_body(OPUS_47, "", true);
    follow["tools"] = tools;
    follow["messages"] = json!([
        {"role": "user", "content": "what is here?"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "a.txt"}]},
    ]);
    let resp = h.anthropic(&follow).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(!check_anthropic_sse(&events));
    let chats = h.chats();
    assert_eq!(chats.len(), 2, "the signature verified: no repair retry");
    let history = chats[1].body_json().unwrap()["conversationState"]["history"].clone();
    let turn = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t.get("assistantResponseMessage").is_some())
        .unwrap()["assistantResponseMessage"]
        .clone();
    assert_eq!(
        turn["reasoningContent"]["reasoningText"]["signature"],
        blocks[0]["signature"]
    );
    assert_eq!(turn["toolUses"][0]["toolUseId"], id);
    assert_eq!(
        current_message(&chats[1])["userInputMessageContext"]["toolResults"][0]["toolUseId"],
        id
    );
}

#[tokio::test]
async fn redacted_thinking_round_trips() {
    let h = Harness::start().await;
    h.add_account().await;
    h.script(
        json!({"parts": [{"type": "redacted_thinking", "data": "c2VjcmV0IHRob3VnaHRz"},
        {"type": "text", "text": "Done."}]}),
    );
    let events = read_sse(h.anthropic(&thinking_body(OPUS_47, "think", true)).await).await;
    assert!(!check_anthropic_sse(&events));
    let first = fold_anthropic(&events);
    assert_eq!(
        first["content"][0],
        json!({"type": "redacted_thinking", "data": "c2VjcmV0IHRob3VnaHRz"})
    );
    let mut follow = thinking_body(OPUS_47, "", false);
    follow["messages"] = json!([
        {"role": "user", "content": "think"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": "more"},
    ]);
    let resp = h.anthropic(&follow).await;
    assert_eq!(resp.status(), 200);
    let chats = h.chats();
    assert_eq!(chats.len(), 2);
    let history = chats[1].body_json().unwrap()["conversationState"]["history"].clone();
    let replayed = history.as_array().unwrap().iter().find_map(|t| {
        t["assistantResponseMessage"]
            .get("reasoningContent")
            .cloned()
    });
    assert_eq!(
        replayed,
        Some(json!({"redactedContent": "c2VjcmV0IHRob3VnaHRz"})),
        "{history}"
    );
}
