//! A tiny SSE parser, the stream invariants, and the reply scenarios shared by the tests.

use bytes::BytesMut;
use dialects::anthropic::SseEncoder;
use dialects::canonical::{ClientError, ErrorKind, StartInfo, StopReason, StreamEvent, Usage};
use dialects::encode::ReplyEncoder;
use serde_json::{Value, json};

/// Encodes events with a fresh encoder; returns the SSE text.
pub fn encode(events: &[StreamEvent]) -> String {
    let mut enc = SseEncoder::new();
    let mut out = BytesMut::new();
    for e in events {
        enc.event(e, &mut out);
    }
    String::from_utf8(out.to_vec()).expect("utf-8 SSE")
}

/// `(event name, data)` pairs. Every event must have exactly one `event:` and one `data:` line,
/// and the data's `type` must equal the event name.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    assert!(
        text.is_empty() || text.ends_with("\n\n"),
        "stream must end with a blank line"
    );
    let mut events = Vec::new();
    for chunk in text.split("\n\n").filter(|c| !c.is_empty()) {
        let mut name = None;
        let mut data = None;
        for line in chunk.split('\n') {
            if let Some(v) = line.strip_prefix("event: ") {
                assert!(
                    name.replace(v.to_owned()).is_none(),
                    "two event lines: {chunk}"
                );
            } else if let Some(v) = line.strip_prefix("data: ") {
                assert!(
                    data.replace(v.to_owned()).is_none(),
                    "two data lines: {chunk}"
                );
            } else {
                panic!("unexpected line {line:?}");
            }
        }
        let name = name.expect("event line");
        let data: Value = serde_json::from_str(&data.expect("data line")).expect("data is JSON");
        assert_eq!(data["type"], json!(name), "type matches event name");
        events.push((name, data));
    }
    events
}

/// The ordering rules of the real API that clients depend on.
pub fn check_invariants(events: &[(String, Value)]) {
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{names:?}");
    assert_eq!(names.get(1), Some(&"ping"), "{names:?}");
    let msg = &events[0].1["message"];
    assert!(msg["id"].as_str().expect("id").starts_with("msg_"));
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["role"], "assistant");
    assert_eq!(msg["content"], json!([]));
    assert_eq!(msg["stop_reason"], Value::Null);
    assert_eq!(msg["stop_sequence"], Value::Null);
    for key in [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    ] {
        assert!(msg["usage"][key].is_u64(), "message_start usage.{key}");
    }

    let errored = names.contains(&"error");
    if errored {
        assert_eq!(names.last(), Some(&"error"), "error ends the stream");
        assert!(
            !names.contains(&"message_stop"),
            "no message_stop after an error"
        );
        assert_eq!(names.iter().filter(|n| **n == "error").count(), 1);
    } else {
        assert_eq!(names.last(), Some(&"message_stop"), "{names:?}");
        assert_eq!(names[names.len() - 2], "message_delta");
    }

    let mut next_index = 0u64;
    let mut open: Option<u64> = None;
    let mut open_kind = String::new();
    let mut delta_seen = false;
    for (name, data) in events.iter().skip(1) {
        match name.as_str() {
            "message_start" => panic!("second message_start"),
            "content_block_start" => {
                assert!(
                    open.is_none(),
                    "a block started while block {open:?} is open"
                );
                assert!(!delta_seen, "content after message_delta");
                let index = data["index"].as_u64().expect("index");
                assert_eq!(index, next_index, "indexes are contiguous from 0");
                next_index += 1;
                let block = &data["content_block"];
                open_kind = block["type"].as_str().expect("block type").to_owned();
                match open_kind.as_str() {
                    "text" => assert_eq!(block["text"], ""),
                    "thinking" => {
                        assert_eq!(block["thinking"], "");
                        assert_eq!(block["signature"], "");
                    }
                    "redacted_thinking" => assert!(block["data"].is_string()),
                    "tool_use" => {
                        assert!(block["id"].is_string() && block["name"].is_string());
                        assert_eq!(block["input"], json!({}), "tool input never in the start");
                    }
                    other => panic!("unexpected block type {other}"),
                }
                open = Some(index);
            }
            "content_block_delta" => {
                assert_eq!(data["index"].as_u64(), open, "delta for the open block");
                let delta_type = data["delta"]["type"].as_str().expect("delta type");
                let allowed: &[&str] = match open_kind.as_str() {
                    "text" => &["text_delta"],
                    "thinking" => &["thinking_delta", "signature_delta"],
                    "tool_use" => &["input_json_delta"],
                    _ => &[],
                };
                assert!(
                    allowed.contains(&delta_type),
                    "{delta_type} in a {open_kind} block"
                );
            }
            "content_block_stop" => {
                assert_eq!(data["index"].as_u64(), open, "stop matches the open block");
                open = None;
            }
            "message_delta" => {
                assert!(open.is_none(), "all blocks closed before message_delta");
                assert!(data["delta"].get("stop_reason").is_some());
                assert!(data["delta"].get("stop_sequence").is_some());
                for key in [
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                    "output_tokens",
                ] {
                    assert!(data["usage"][key].is_u64(), "message_delta usage.{key}");
                }
                delta_seen = true;
            }
            "message_stop" => assert!(delta_seen),
            "ping" | "error" => {}
            other => panic!("unexpected event {other}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

pub fn start() -> StreamEvent {
    StreamEvent::Start(StartInfo {
        id: "msg_01TestReply".into(),
        model: "claude-sonnet-4-6".into(),
        estimated_input_tokens: 42,
        created: 1_764_000_000,
    })
}

pub fn usage(input: u64, output: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_input_tokens: 7,
        cache_creation_input_tokens: 3,
        reasoning_tokens: None,
    })
}

pub fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

pub fn thinking(s: &str) -> StreamEvent {
    StreamEvent::ThinkingDelta(s.into())
}

pub fn tool_start(index: usize, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolUseStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

pub fn tool_input(index: usize, fragment: &str) -> StreamEvent {
    StreamEvent::ToolInputDelta {
        index,
        fragment: fragment.into(),
    }
}

pub fn tool_end(index: usize) -> StreamEvent {
    StreamEvent::ToolUseEnd { index }
}

/// Named event sequences: the golden SSE cases and the fold comparisons.
pub fn scenarios() -> Vec<(&'static str, Vec<StreamEvent>)> {
    vec![
        (
            "text_only",
            vec![
                start(),
                text("Hello"),
                text(", world.\nSecond \"line\"."),
                usage(40, 9),
                StreamEvent::Stop(StopReason::EndTurn),
            ],
        ),
        (
            "thinking_signature_text",
            vec![
                start(),
                thinking("The user wants "),
                thinking("a greeting."),
                StreamEvent::ThinkingSignature("sig_EqQBCkYIBxgCKkA".into()),
                text("Hi!"),
                usage(40, 25),
                StreamEvent::Stop(StopReason::EndTurn),
            ],
        ),
        (
            "text_then_two_tools",
            vec![
                start(),
                text("I'll check both."),
                tool_start(0, "toolu_01A", "get_weather"),
                tool_input(0, "{\"ci"),
                tool_input(0, "ty\": \"Par"),
                tool_input(0, "is\"}"),
                tool_end(0),
                tool_start(1, "toolu_01B", "Bash"),
                tool_input(1, "{\"command\": \"echo hi\","),
                tool_input(1, " \"description\": \"Print \\u00e9\"}"),
                tool_end(1),
                usage(120, 60),
                StreamEvent::Stop(StopReason::ToolUse),
            ],
        ),
        (
            "redacted_thinking",
            vec![
                start(),
                StreamEvent::RedactedThinking(
                    "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP".into(),
                ),
                thinking("visible part"),
                StreamEvent::ThinkingSignature("sig_2".into()),
                text("Done."),
                StreamEvent::Stop(StopReason::EndTurn),
            ],
        ),
        (
            "stop_sequence",
            vec![
                start(),
                text("1, 2, 3, "),
                usage(12, 8),
                StreamEvent::Stop(StopReason::StopSequence("END".into())),
            ],
        ),
        (
            "max_tokens",
            vec![
                start(),
                text("This answer is cut"),
                usage(12, 5),
                StreamEvent::Stop(StopReason::MaxTokens),
            ],
        ),
        (
            "context_window_exceeded",
            vec![
                start(),
                text("Partial"),
                usage(199_000, 3),
                StreamEvent::Stop(StopReason::ContextWindowExceeded),
            ],
        ),
        (
            "mid_stream_error",
            vec![
                start(),
                text("partial answer"),
                StreamEvent::Error(ClientError::new(ErrorKind::Overloaded, "Overloaded")),
                text("ignored after the error"),
                StreamEvent::Stop(StopReason::EndTurn),
            ],
        ),
    ]
}

/// More sequences for the invariant and fold checks (not golden files).
pub fn extra_scenarios() -> Vec<(&'static str, Vec<StreamEvent>)> {
    vec![
        (
            "interleaved_tools_and_text",
            vec![
                start(),
                tool_start(0, "toolu_0", "Read"),
                tool_start(1, "toolu_1", "Bash"),
                tool_input(1, "{\"command\":"),
                tool_input(0, "{\"file_path\":\"/a\"}"),
                text("meanwhile"),
                tool_input(1, "\"ls\"}"),
                tool_end(1),
                tool_end(0),
                text(" more"),
                StreamEvent::Stop(StopReason::ToolUse),
            ],
        ),
        (
            "tool_without_input",
            vec![
                start(),
                tool_start(0, "toolu_0", "TaskList"),
                tool_end(0),
                StreamEvent::Stop(StopReason::ToolUse),
            ],
        ),
        (
            "empty_reply",
            vec![start(), StreamEvent::Stop(StopReason::EndTurn)],
        ),
        (
            "no_start_event",
            vec![text("hi"), StreamEvent::Stop(StopReason::EndTurn)],
        ),
        (
            "truncated_tool",
            vec![
                start(),
                tool_start(0, "toolu_0", "Write"),
                tool_input(0, "{\"content\": \"abc"),
                StreamEvent::Stop(StopReason::MaxTokens),
            ],
        ),
        (
            "thinking_after_text",
            vec![
                start(),
                text("a"),
                thinking("b"),
                text("c"),
                StreamEvent::Stop(StopReason::EndTurn),
            ],
        ),
    ]
}
