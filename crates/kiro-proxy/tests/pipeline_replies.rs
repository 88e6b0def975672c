//! Replies through the whole request path against the simulator: text, tools, usage, the fold of
//! a stream equal to the non-streaming reply, count_tokens and models, in both dialects.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

const SONNET: &str = "claude-sonnet-4-5";

/// A fixed answer in many frames, with the usage tail.
fn text_script(text: &str) -> Value {
    json!({"parts": [{"type": "text", "text": text, "chunk_chars": 4}]})
}

#[tokio::test]
async fn anthropic_text_stream_and_fold_agree() {
    let h = Harness::start().await;
    h.add_account().await;
    let text = "Streaming and folding give the same words.";

    h.script(text_script(text));
    let resp = h.anthropic(&anthropic_body(SONNET, "hello", true)).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(!check_anthropic_sse(&events), "no error expected");
    let streamed = fold_anthropic(&events);

    h.script(text_script(text));
    let resp = h.anthropic(&anthropic_body(SONNET, "hello", false)).await;
    assert_eq!(resp.status(), 200);
    let folded: Value = resp.json().await.unwrap();

    assert_eq!(folded["type"], "message");
    assert_eq!(folded["role"], "assistant");
    assert_eq!(folded["content"], json!([{"type": "text", "text": text}]));
    assert_eq!(streamed["content"], folded["content"]);
    assert_eq!(streamed["stop_reason"], "end_turn");
    assert_eq!(folded["stop_reason"], "end_turn");
    assert_eq!(streamed["model"], SONNET);

    // Usage: input from the simulator's metadataEvent (the validator's estimate it reports).
    let chats = h.chats();
    assert_eq!(chats.len(), 2);
    let reported = metadata_input(&chats[1]);
    assert!(reported > 0);
    assert_eq!(folded["usage"]["input_tokens"], reported);
    assert_eq!(streamed["usage"]["input_tokens"], metadata_input(&chats[0]));
    assert!(folded["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        streamed["usage"]["output_tokens"],
        folded["usage"]["output_tokens"]
    );
    // Text frames upstream = text deltas downstream (no coalescing, no splitting).
    let text_frames = served_events(&chats[0])
        .iter()
        .filter(|e| matches!(e, kiro_wire::Event::AssistantResponse(_)))
        .count();
    let deltas = events
        .iter()
        .filter(|e| e.name() == "content_block_delta")
        .count();
    assert_eq!(deltas, text_frames);
}

/// `uncachedInputTokens` of the metadataEvent the simulator served.
fn metadata_input(req: &kiro_sim::log::RecordedRequest) -> u64 {
    served_events(req)
        .iter()
        .find_map(|e| match e {
            kiro_wire::Event::Metadata(m) => {
                m.token_usage.as_ref().and_then(|u| u.uncached_input_tokens)
            }
            _ => None,
        })
        .expect("a metadataEvent with input tokens")
}

#[tokio::test]
async fn openai_text_stream_and_fold_agree() {
    let h = Harness::start().await;
    h.add_account().await;
    let text = "Chat completions, streamed and not.";

    h.script(text_script(text));
    let resp = h.openai(&openai_body(SONNET, "hello", true)).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert!(!check_openai_sse(&events));
    let streamed = fold_openai(&events);

    h.script(text_script(text));
    let resp = h.openai(&openai_body(SONNET, "hello", false)).await;
    assert_eq!(resp.status(), 200);
    let folded: Value = resp.json().await.unwrap();
    assert_eq!(folded["object"], "chat.completion");
    let msg = &folded["choices"][0]["message"];
    assert_eq!(msg["role"], "assistant");
    assert_eq!(msg["content"], text);
    assert_eq!(streamed["content"], text);
    assert_eq!(folded["choices"][0]["finish_reason"], "stop");
    assert_eq!(streamed["finish_reason"], "stop");

    let chats = h.chats();
    let prompt = metadata_input(&chats[1]);
    assert_eq!(folded["usage"]["prompt_tokens"], prompt);
    assert_eq!(
        streamed["usage"]["prompt_tokens"],
        metadata_input(&chats[0])
    );
    assert!(folded["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        streamed["usage"]["completion_tokens"],
        folded["usage"]["completion_tokens"]
    );
    assert_eq!(
        folded["usage"]["total_tokens"].as_u64().unwrap(),
        prompt + folded["usage"]["completion_tokens"].as_u64().unwrap()
    );
}

fn tool_script() -> Value {
    json!({"parts": [
        {"type": "text", "text": "Let me look.", "chunk_chars": 5},
        {"type": "tool", "name": "Bash",
         "input": {"command": "ls -la /tmp", "description": "List \"tmp\" ünïcode"},
         "fragment_bytes": 7},
    ]})
}

fn bash_tool_anthropic() -> Value {
    json!({"name": "Bash", "description": "Run a shell command",
           "input_schema": {"type": "object", "properties": {"command": {"type": "string"},
           "description": {"type": "string"}}, "required": ["command"]}})
}

#[tokio::test]
async fn anthropic_tool_use_streams_input_json_and_round_trips() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut body = anthropic_body(SONNET, "list files", true);
    body["tools"] = json!([bash_tool_anthropic()]);

    h.script(tool_script());
    let resp = h.anthropic(&body).await;
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    check_anthropic_sse(&events);
    let streamed = fold_anthropic(&events);
    let want_input = json!({"command": "ls -la /tmp", "description": "List \"tmp\" ünïcode"});
    assert_eq!(streamed["stop_reason"], "tool_use");
    let blocks = streamed["content"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{streamed}");
    assert_eq!(blocks[0], json!({"type": "text", "text": "Let me look."}));
    assert_eq!(blocks[1]["type"], "tool_use");
    assert_eq!(blocks[1]["name"], "Bash");
    assert_eq!(blocks[1]["input"], want_input);
    // Input streamed in several fragments as they arrived.
    let fragments = events
        .iter()
        .filter(|e| {
            e.name() == "content_block_delta" && e.json()["delta"]["type"] == "input_json_delta"
        })
        .count();
    assert!(fragments > 3, "{fragments} input_json_delta events");

    // The upstream tool-use id reaches the client verbatim.
    let chats = h.chats();
    let upstream_id = served_events(&chats[0])
        .iter()
        .find_map(|e| match e {
            kiro_wire::Event::ToolUse(t) => Some(t.tool_use_id.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(blocks[1]["id"], upstream_id);

    // Non-stream: the same content.
    h.script(tool_script());
    body["stream"] = json!(false);
    let folded: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(
        without_ids(&folded["content"]),
        without_ids(&streamed["content"])
    );
    assert_eq!(folded["stop_reason"], "tool_use");

    // The tool result turn reaches the upstream as toolResults.
    let tool_id = blocks[1]["id"].as_str().unwrap();
    let follow = json!({
        "model": SONNET, "max_tokens": 1024, "stream": false,
        "tools": [bash_tool_anthropic()],
        "messages": [
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": streamed["content"]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tool_id, "content": "a.txt\nb.txt"}
            ]},
        ],
    });
    let resp = h.anthropic(&follow).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["stop_reason"], "end_turn");
    let last = h.chats().pop().unwrap();
    let results = &current_message(&last)["userInputMessageContext"]["toolResults"];
    assert_eq!(results[0]["toolUseId"], tool_id);
    assert_eq!(results[0]["status"], "success");
    assert_eq!(results[0]["content"][0]["text"], "a.txt\nb.txt");
    let history = last.body_json().unwrap()["conversationState"]["history"].clone();
    let uses = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|t| {
            t["assistantResponseMessage"]["toolUses"]
                .as_array()
                .cloned()
        })
        .unwrap();
    assert_eq!(uses[0]["toolUseId"], tool_id);
    assert_eq!(uses[0]["input"], want_input);
}

#[tokio::test]
async fn openai_tool_calls_carry_index_and_round_trip() {
    let h = Harness::start().await;
    h.add_account().await;
    let tools = json!([{"type": "function", "function": {"name": "Bash",
        "description": "Run a shell command",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"},
            "description": {"type": "string"}}, "required": ["command"]}}}]);
    let mut body = openai_body(SONNET, "list files", true);
    body["tools"] = tools.clone();

    h.script(tool_script());
    let events = read_sse(h.openai(&body).await).await;
    check_openai_sse(&events);
    let streamed = fold_openai(&events);
    assert_eq!(streamed["finish_reason"], "tool_calls");
    assert_eq!(streamed["content"], "Let me look.");
    let calls = streamed["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "Bash");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({"command": "ls -la /tmp", "description": "List \"tmp\" ünïcode"})
    );
    let arg_chunks = events
        .iter()
        .filter(|e| !e.comment && e.data != "[DONE]")
        .filter(|e| {
            e.json()["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .is_some_and(|a| !a.is_empty())
        })
        .count();
    assert!(arg_chunks > 3, "arguments streamed in {arg_chunks} chunks");

    h.script(tool_script());
    body["stream"] = json!(false);
    body.as_object_mut().unwrap().remove("stream_options");
    let folded: Value = h.openai(&body).await.json().await.unwrap();
    let choice = &folded["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let fcalls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(fcalls[0]["function"]["name"], "Bash");
    let fargs: Value =
        serde_json::from_str(fcalls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(fargs, args);

    let id = calls[0]["id"].as_str().unwrap();
    let follow = json!({
        "model": SONNET, "tools": tools,
        "messages": [
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": null, "tool_calls": [calls[0]]},
            {"role": "tool", "tool_call_id": id, "content": "a.txt"},
        ],
    });
    let resp = h.openai(&follow).await;
    assert_eq!(resp.status(), 200);
    let last = h.chats().pop().unwrap();
    let results = &current_message(&last)["userInputMessageContext"]["toolResults"];
    assert_eq!(results[0]["toolUseId"], id);
    assert_eq!(results[0]["content"][0]["text"], "a.txt");
}

#[tokio::test]
async fn count_tokens_equals_the_message_start_estimate() {
    let h = Harness::start().await;
    h.add_account().await;
    let mut body = anthropic_body(SONNET, "How many tokens is this question, roughly?", true);
    body["system"] = json!("You are terse.");
    body["tools"] = json!([bash_tool_anthropic()]);

    let mut count_body = body.clone();
    count_body.as_object_mut().unwrap().remove("stream");
    count_body.as_object_mut().unwrap().remove("max_tokens");
    let resp = h
        .post("/v1/messages/count_tokens")
        .json(&count_body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let counted = resp.json::<Value>().await.unwrap()["input_tokens"]
        .as_u64()
        .unwrap();
    assert!(counted > 0);

    h.script(json!({"parts": [{"type": "text", "text": "Some."}],
        "tail": {"metadata": false, "metering": false, "context_usage": false}}));
    let events = read_sse(h.anthropic(&body).await).await;
    check_anthropic_sse(&events);
    let start = events[0].json();
    assert_eq!(start["message"]["usage"]["input_tokens"], counted);
    // With no usage from the upstream, the final figure is the same estimate.
    assert_eq!(fold_anthropic(&events)["usage"]["input_tokens"], counted);
}

#[tokio::test]
async fn models_list_in_both_shapes() {
    let h = Harness::start().await;
    let openai: Value = h.get("/v1/models").await.json().await.unwrap();
    assert_eq!(openai["object"], "list");
    let data = openai["data"].as_array().unwrap();
    assert!(
        data.iter()
            .all(|m| m["object"] == "model" && m["id"].is_string())
    );
    assert!(
        data.iter().any(|m| m["id"] == "claude-sonnet-4.5"),
        "{openai}"
    );

    let resp = h
        .http
        .get(format!("{}/v1/models", h.url))
        .header("x-api-key", CLIENT_KEY)
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let anthropic: Value = resp.json().await.unwrap();
    let data = anthropic["data"].as_array().unwrap();
    assert!(
        data.iter()
            .all(|m| m["type"] == "model" && m["display_name"].is_string())
    );
    assert!(anthropic["has_more"].is_boolean(), "{anthropic}");
}

#[tokio::test]
async fn parallel_interleaved_tool_calls_in_both_dialects() {
    let h = Harness::start().await;
    h.add_account().await;
    let script = json!({"parts": [{"type": "interleaved_tools", "calls": [
        {"name": "Bash", "input": {"command": "echo one && echo two"}, "fragment_bytes": 5},
        {"name": "Read", "input": {"file_path": "/etc/hosts", "limit": 20}, "fragment_bytes": 4},
    ]}]});
    let tools = json!([bash_tool_anthropic(), {"name": "Read", "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"},
        "limit": {"type": "integer"}}}}]);
    let mut body = anthropic_body(SONNET, "two tools", true);
    body["tools"] = tools;

    h.script(script.clone());
    let events = read_sse(h.anthropic(&body).await).await;
    assert!(!check_anthropic_sse(&events));
    let streamed = fold_anthropic(&events);
    let blocks = streamed["content"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{streamed}");
    assert_eq!(blocks[0]["name"], "Bash");
    assert_eq!(
        blocks[0]["input"],
        json!({"command": "echo one && echo two"})
    );
    assert_eq!(blocks[1]["name"], "Read");
    assert_eq!(
        blocks[1]["input"],
        json!({"file_path": "/etc/hosts", "limit": 20})
    );
    assert_eq!(streamed["stop_reason"], "tool_use");

    h.script(script.clone());
    body["stream"] = json!(false);
    let folded: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(
        without_ids(&folded["content"]),
        without_ids(&streamed["content"])
    );

    let oa_tools = json!([
        {"type": "function", "function": {"name": "Bash", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "Read", "parameters": {"type": "object", "properties": {}}}},
    ]);
    let mut body = openai_body(SONNET, "two tools", true);
    body["tools"] = oa_tools;
    h.script(script);
    let events = read_sse(h.openai(&body).await).await;
    assert!(!check_openai_sse(&events));
    let streamed = fold_openai(&events);
    let calls = streamed["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{streamed}");
    let args = |i: usize| -> Value {
        serde_json::from_str(calls[i]["function"]["arguments"].as_str().unwrap()).unwrap()
    };
    assert_eq!(calls[0]["function"]["name"], "Bash");
    assert_eq!(args(0), json!({"command": "echo one && echo two"}));
    assert_eq!(calls[1]["function"]["name"], "Read");
    assert_eq!(args(1), json!({"file_path": "/etc/hosts", "limit": 20}));
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    assert_eq!(streamed["finish_reason"], "tool_calls");
}

fn usage_event(tokens: Value) -> Value {
    json!({"type": "event", "event_type": "metadataEvent", "payload": {"tokenUsage": tokens}})
}

const NO_TAIL: &str = r#"{"metadata": false, "metering": false, "context_usage": false}"#;

#[tokio::test]
async fn usage_follows_the_upstream_metadata_with_cache_figures() {
    let h = Harness::start().await;
    h.add_account().await;
    let script = json!({"parts": [
        {"type": "text", "text": "Cached."},
        usage_event(json!({"uncachedInputTokens": 100, "cacheReadInputTokens": 2000,
            "cacheWriteInputTokens": 50, "outputTokens": 7, "totalTokens": 2157})),
    ], "tail": serde_json::from_str::<Value>(NO_TAIL).unwrap()});

    h.script(script.clone());
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    let start = events[0].json();
    for field in [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ] {
        assert!(
            start["message"]["usage"][field].is_u64(),
            "message_start usage lacks {field}"
        );
    }
    let usage = &fold_anthropic(&events)["usage"];
    assert_eq!(usage["input_tokens"], 100, "{usage}");
    assert_eq!(usage["cache_read_input_tokens"], 2000, "{usage}");
    assert_eq!(usage["cache_creation_input_tokens"], 50, "{usage}");
    assert_eq!(usage["output_tokens"], 7, "{usage}");

    h.script(script.clone());
    let folded: Value = h
        .anthropic(&anthropic_body(SONNET, "hi", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&folded["usage"], usage);

    h.script(script);
    let folded: Value = h
        .openai(&openai_body(SONNET, "hi", false))
        .await
        .json()
        .await
        .unwrap();
    let u = &folded["usage"];
    assert_eq!(u["prompt_tokens"], 2150, "{u}");
    assert_eq!(u["prompt_tokens_details"]["cached_tokens"], 2000, "{u}");
    assert_eq!(u["completion_tokens"], 7, "{u}");
    assert!(
        u["completion_tokens_details"]["reasoning_tokens"].is_u64(),
        "{u}"
    );
}

#[tokio::test]
async fn usage_from_the_context_percentage_and_a_full_window() {
    let h = Harness::start().await;
    h.add_account().await;
    // 10 % of Sonnet 4.5's 200,000-token window.
    h.script(json!({"parts": [{"type": "text", "text": "x"}, {"type": "context_usage", "percentage": 10.0}],
        "tail": serde_json::from_str::<Value>(NO_TAIL).unwrap()}));
    let reply: Value = h
        .anthropic(&anthropic_body(SONNET, "hi", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reply["usage"]["input_tokens"], 20_000, "{reply}");

    h.script(json!({"parts": [{"type": "text", "text": "x"}, {"type": "context_usage", "percentage": 100.0}],
        "tail": serde_json::from_str::<Value>(NO_TAIL).unwrap()}));
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert_eq!(
        fold_anthropic(&events)["stop_reason"],
        "model_context_window_exceeded"
    );
    h.script(json!({"parts": [{"type": "text", "text": "x"}, {"type": "context_usage", "percentage": 100.0}],
        "tail": serde_json::from_str::<Value>(NO_TAIL).unwrap()}));
    let events = read_sse(h.openai(&openai_body(SONNET, "hi", true)).await).await;
    assert_eq!(fold_openai(&events)["finish_reason"], "length");
}
