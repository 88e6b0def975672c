//! Chat Completions replies: SSE golden snapshots, the non-streaming fold, and the check that
//! the stream, rebuilt the way the openai SDK's stream accumulator rebuilds it, says exactly what
//! the fold says.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on malformed output"
)]

use bytes::BytesMut;
use dialects::canonical::{ClientError, ErrorKind, StartInfo, StopReason, StreamEvent, Usage};
use dialects::encode::{ReplyEncoder, ReplyFolder};
use dialects::openai::{Folder, SseEncoder};
use serde_json::{Map, Value, json};

const MODEL: &str = "gpt-4o";

fn start() -> StreamEvent {
    StreamEvent::Start(StartInfo {
        id: "01JTESTREPLY".into(),
        model: MODEL.into(),
        estimated_input_tokens: 42,
        created: 1_795_672_395,
    })
}

fn usage(reasoning: Option<u64>) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: 20,
        output_tokens: 9,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 5,
        reasoning_tokens: reasoning,
    })
}

fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

fn tool_start(index: usize, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolUseStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

fn tool_delta(index: usize, fragment: &str) -> StreamEvent {
    StreamEvent::ToolInputDelta {
        index,
        fragment: fragment.into(),
    }
}

fn text_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        text("Hel"),
        text("lo, \"world\"\n"),
        text("é😀"),
        usage(None),
        StreamEvent::Stop(StopReason::EndTurn),
    ]
}

fn reasoning_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        StreamEvent::ThinkingDelta("Let me ".into()),
        StreamEvent::ThinkingDelta("think.".into()),
        StreamEvent::ThinkingSignature("sig-abc".into()),
        StreamEvent::RedactedThinking("opaque".into()),
        text("Answer."),
        usage(Some(4)),
        StreamEvent::Stop(StopReason::EndTurn),
    ]
}

fn parallel_tools_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        text("Checking both."),
        tool_start(0, "call_a", "get_weather"),
        tool_delta(0, "{\"ci"),
        tool_start(1, "call_b", "get_weather"),
        tool_delta(1, "{\"city\":"),
        tool_delta(0, "ty\":\"Paris\"}"),
        tool_delta(1, ""),
        tool_delta(1, "\"Rome\"}"),
        StreamEvent::ToolUseEnd { index: 0 },
        StreamEvent::ToolUseEnd { index: 1 },
        usage(None),
        StreamEvent::Stop(StopReason::ToolUse),
    ]
}

fn tool_only_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        tool_start(0, "call_x", "Bash"),
        tool_delta(0, "{\"command\":\"echo MARKER_1\"}"),
        StreamEvent::ToolUseEnd { index: 0 },
        usage(None),
        // The upstream said end_turn; a reply that called tools still reports `tool_calls`.
        StreamEvent::Stop(StopReason::EndTurn),
    ]
}

fn length_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        text("cut"),
        usage(None),
        StreamEvent::Stop(StopReason::MaxTokens),
    ]
}

fn error_reply() -> Vec<StreamEvent> {
    vec![
        start(),
        text("partial"),
        StreamEvent::Error(ClientError::new(
            ErrorKind::Overloaded,
            "The upstream is overloaded; try again.",
        )),
        // Anything after the error is ignored.
        text("ignored"),
        StreamEvent::Stop(StopReason::EndTurn),
    ]
}

fn encode(events: &[StreamEvent], include_usage: bool) -> String {
    let mut encoder = SseEncoder::new(include_usage, MODEL);
    let mut out = BytesMut::new();
    for event in events {
        encoder.event(event, &mut out);
    }
    String::from_utf8(out.to_vec()).unwrap()
}

fn fold(events: &[StreamEvent]) -> (u16, Value) {
    let mut folder: Box<dyn ReplyFolder> = Box::new(Folder::new(MODEL));
    for event in events {
        folder.push(event);
    }
    folder.finish()
}

// ------------------------------------------------------------------------------------------
// A re-implementation of the openai SDK's chat stream accumulation
// (`openai.lib.streaming.chat`: `accumulate_delta` and the choice snapshot), in Rust.
// ------------------------------------------------------------------------------------------

/// What a client reads from an SSE body: the chunks before `[DONE]`, whether `[DONE]` came, and
/// an error chunk if one ended the stream.
struct Parsed {
    chunks: Vec<Value>,
    done: bool,
    error: Option<Value>,
}

fn parse_sse(body: &str) -> Parsed {
    assert!(
        body.ends_with("\n\n") || body.is_empty(),
        "events end with a blank line"
    );
    let mut parsed = Parsed {
        chunks: Vec::new(),
        done: false,
        error: None,
    };
    for event in body.split("\n\n").filter(|e| !e.is_empty()) {
        assert!(
            !parsed.done && parsed.error.is_none(),
            "nothing after [DONE] or an error"
        );
        let mut data = String::new();
        for line in event.lines() {
            if line.starts_with(':') {
                continue;
            }
            let payload = line.strip_prefix("data: ").expect("only data lines");
            data.push_str(payload);
        }
        if data.is_empty() {
            continue;
        }
        if data == "[DONE]" {
            parsed.done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(&data).unwrap();
        if let Some(error) = chunk.get("error") {
            parsed.error = Some(error.clone());
        } else {
            parsed.chunks.push(chunk);
        }
    }
    parsed
}

fn accumulate_delta(acc: &mut Map<String, Value>, delta: &Map<String, Value>) {
    for (key, delta_value) in delta {
        let Some(acc_value) = acc.get_mut(key).filter(|v| !v.is_null()) else {
            acc.insert(key.clone(), delta_value.clone());
            continue;
        };
        if key == "index" || key == "type" {
            *acc_value = delta_value.clone();
            continue;
        }
        match (acc_value, delta_value) {
            (Value::String(a), Value::String(d)) => a.push_str(d),
            (Value::Object(a), Value::Object(d)) => accumulate_delta(a, d),
            (Value::Array(a), Value::Array(d)) => {
                for entry in d {
                    // The SDK raises TypeError here: `index` is required on list entries.
                    let index =
                        entry["index"].as_u64().expect("index on every list delta") as usize;
                    match a.get_mut(index) {
                        Some(existing) => {
                            accumulate_delta(
                                existing.as_object_mut().unwrap(),
                                entry.as_object().unwrap(),
                            );
                        }
                        None => a.insert(index, entry.clone()),
                    }
                }
            }
            (a, d) => panic!("cannot accumulate {d} into {a}"),
        }
    }
}

/// The completion the SDK's `get_final_completion()` would hold, as JSON.
fn sdk_final_completion(chunks: &[Value]) -> Value {
    let first = chunks.first().expect("at least one chunk");
    let mut snapshot = json!({
        "id": first["id"],
        "created": first["created"],
        "model": first["model"],
        "choices": [],
        "usage": null,
    });
    for chunk in chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], first["id"], "one id for the whole stream");
        if !chunk["usage"].is_null() {
            snapshot["usage"] = chunk["usage"].clone();
        }
        for choice in chunk["choices"].as_array().unwrap() {
            let index = choice["index"].as_u64().expect("index on every choice") as usize;
            let choices = snapshot["choices"].as_array_mut().unwrap();
            if choices.len() <= index {
                choices.push(json!({
                    "index": index,
                    "message": choice["delta"].clone(),
                    "finish_reason": choice["finish_reason"].clone(),
                }));
                continue;
            }
            let message = choices[index]["message"].as_object_mut().unwrap();
            accumulate_delta(message, choice["delta"].as_object().unwrap());
            if !choice["finish_reason"].is_null() {
                choices[index]["finish_reason"] = choice["finish_reason"].clone();
            }
        }
    }
    // The SDK's typed message ignores the list `index` bookkeeping key.
    // (`get_mut`, not `[]`: indexing a `Value` mutably inserts a null for a missing key.)
    if let Some(calls) = snapshot["choices"][0]["message"]
        .get_mut("tool_calls")
        .and_then(Value::as_array_mut)
    {
        for call in calls {
            call.as_object_mut().unwrap().remove("index");
        }
    }
    snapshot
}

/// The stream and the fold of the same events must agree on everything a client reads.
fn assert_stream_matches_fold(events: &[StreamEvent]) {
    let parsed = parse_sse(&encode(events, true));
    assert!(parsed.done);
    let streamed = sdk_final_completion(&parsed.chunks);
    let (status, folded) = fold(events);
    assert_eq!(status, 200);

    for key in ["id", "created", "model", "usage"] {
        assert_eq!(streamed[key], folded[key], "{key}");
    }
    assert_eq!(folded["object"], "chat.completion");
    assert_eq!(
        streamed["choices"][0]["finish_reason"],
        folded["choices"][0]["finish_reason"]
    );

    let mut folded_message = folded["choices"][0]["message"].clone();
    let folded_message = folded_message.as_object_mut().unwrap();
    // The stream's first chunk says `content: ""` before it knows whether text will follow; the
    // fold says null for a tool-only reply, as OpenAI does. Both mean "no text".
    if folded_message["content"].is_null() {
        assert_eq!(streamed["choices"][0]["message"]["content"], "");
        folded_message.insert("content".into(), json!(""));
    }
    assert_eq!(folded_message.remove("refusal"), Some(Value::Null));
    assert_eq!(
        Value::Object(folded_message.clone()),
        streamed["choices"][0]["message"]
    );
}

// ------------------------------------------------------------------------------------------

#[test]
fn sse_text() {
    insta::assert_snapshot!(encode(&text_reply(), false));
}

#[test]
fn sse_text_with_usage() {
    insta::assert_snapshot!(encode(&text_reply(), true));
}

#[test]
fn sse_reasoning_then_text() {
    insta::assert_snapshot!(encode(&reasoning_reply(), true));
}

#[test]
fn sse_parallel_tool_calls() {
    insta::assert_snapshot!(encode(&parallel_tools_reply(), false));
}

#[test]
fn sse_length() {
    insta::assert_snapshot!(encode(&length_reply(), false));
}

#[test]
fn sse_mid_stream_error() {
    insta::assert_snapshot!(encode(&error_reply(), true));
}

#[test]
fn usage_chunk_only_when_asked() {
    let without = parse_sse(&encode(&text_reply(), false));
    assert!(without.chunks.iter().all(|c| c.get("usage").is_none()));
    assert!(
        without
            .chunks
            .iter()
            .all(|c| !c["choices"].as_array().unwrap().is_empty())
    );

    let with = parse_sse(&encode(&text_reply(), true));
    let (last, rest) = with.chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"],
        json!({
            "prompt_tokens": 125,
            "completion_tokens": 9,
            "total_tokens": 134,
            "prompt_tokens_details": {"cached_tokens": 100},
            "completion_tokens_details": {"reasoning_tokens": 0},
        })
    );
    assert!(
        rest.iter()
            .all(|c| c["usage"].is_null() && c.get("usage").is_some())
    );
}

#[test]
fn every_tool_call_delta_has_an_index() {
    let parsed = parse_sse(&encode(&parallel_tools_reply(), false));
    let deltas: Vec<&Value> = parsed
        .chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("tool_calls"))
        .flat_map(|calls| calls.as_array().unwrap())
        .collect();
    assert_eq!(deltas.len(), 6, "two starts and four non-empty fragments");
    assert!(deltas.iter().all(|d| d["index"].is_u64()));
    let first = deltas[0];
    assert_eq!(
        *first,
        json!({"index": 0, "id": "call_a", "type": "function",
               "function": {"name": "get_weather", "arguments": ""}})
    );
}

#[test]
fn finish_reasons() {
    for (reason, expected) in [
        (StopReason::EndTurn, "stop"),
        (StopReason::StopSequence("END".into()), "stop"),
        (StopReason::MaxTokens, "length"),
        (StopReason::ContextWindowExceeded, "length"),
        (StopReason::ToolUse, "tool_calls"),
    ] {
        let events = vec![start(), text("x"), StreamEvent::Stop(reason.clone())];
        let parsed = parse_sse(&encode(&events, false));
        let last = parsed.chunks.last().unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], expected, "{reason:?}");
        assert_eq!(last["choices"][0]["delta"], json!({}));
        assert_eq!(fold(&events).1["choices"][0]["finish_reason"], expected);
    }
}

#[test]
fn mid_stream_error_is_an_error_chunk_without_done() {
    let parsed = parse_sse(&encode(&error_reply(), false));
    assert!(!parsed.done);
    assert_eq!(
        parsed.error,
        Some(json!({
            "message": "The upstream is overloaded; try again.",
            "type": "server_error",
            "param": null,
            "code": "service_unavailable",
        }))
    );
    let (status, body) = fold(&error_reply());
    assert_eq!(status, 503);
    assert_eq!(body["error"], parsed.error.unwrap());
}

#[test]
fn keepalive_is_a_comment() {
    let mut encoder = SseEncoder::new(false, MODEL);
    let mut out = BytesMut::new();
    encoder.event(&start(), &mut out);
    out.clear();
    encoder.keepalive(&mut out);
    assert_eq!(&out[..], b": keep-alive\n\n");
}

#[test]
fn nothing_after_stop() {
    let mut events = text_reply();
    events.push(text("late"));
    events.push(StreamEvent::Stop(StopReason::EndTurn));
    assert_eq!(encode(&events, true), encode(&text_reply(), true));
    assert_eq!(fold(&events), fold(&text_reply()));
}

#[test]
fn without_reported_usage_the_estimate_is_used() {
    let events = vec![start(), text("x"), StreamEvent::Stop(StopReason::EndTurn)];
    let (_, body) = fold(&events);
    assert_eq!(body["usage"]["prompt_tokens"], 42);
    assert_eq!(body["usage"]["completion_tokens"], 0);
    assert_stream_matches_fold(&events);
}

#[test]
fn a_reply_without_stop_or_error_is_a_500() {
    let (status, body) = fold(&[start(), text("x")]);
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "server_error");
}

#[test]
fn stream_and_fold_agree() {
    for events in [
        text_reply(),
        reasoning_reply(),
        parallel_tools_reply(),
        tool_only_reply(),
        length_reply(),
    ] {
        assert_stream_matches_fold(&events);
    }
}

#[test]
fn fold_text() {
    let (status, body) = fold(&text_reply());
    assert_eq!(status, 200);
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!(body);
    });
}

#[test]
fn fold_reasoning_then_text() {
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!(fold(&reasoning_reply()).1);
    });
}

#[test]
fn fold_parallel_tool_calls() {
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!(fold(&parallel_tools_reply()).1);
    });
}

#[test]
fn fold_tool_only_has_null_content() {
    let (_, body) = fold(&tool_only_reply());
    assert_eq!(body["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"command\":\"echo MARKER_1\"}"
    );
}
