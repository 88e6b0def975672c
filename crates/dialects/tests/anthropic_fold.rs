//! The non-streaming reply equals what the Anthropic SDK assembles from our own stream.

#[cfg(test)]
#[path = "anthropic_support/sse.rs"]
mod sse;

#[cfg(test)]
#[path = "anthropic_support/accumulate.rs"]
mod accumulate;

use accumulate::accumulate;
use dialects::anthropic::Folder;
use dialects::canonical::{ClientError, ErrorKind, StopReason, StreamEvent};
use dialects::encode::ReplyFolder;
use serde_json::{Value, json};
use sse::{
    check_invariants, encode, extra_scenarios, parse_sse, scenarios, start, text, tool_end,
    tool_input, tool_start, usage,
};

#[cfg(test)]
fn fold(events: &[StreamEvent]) -> (u16, Value) {
    let mut folder: Box<Folder> = Box::new(Folder::new());
    for e in events {
        folder.push(e);
    }
    folder.finish()
}

#[test]
fn fold_equals_sdk_accumulation_of_the_stream() {
    for (name, events) in scenarios().into_iter().chain(extra_scenarios()) {
        let parsed = parse_sse(&encode(&events));
        check_invariants(&parsed);
        let (status, folded) = fold(&events);
        if let Some((_, err)) = parsed.iter().find(|(n, _)| n == "error") {
            assert_ne!(status, 200, "{name}");
            assert_eq!(folded, *err, "{name}: the same error body");
            continue;
        }
        assert_eq!(status, 200, "{name}");
        let mut assembled = accumulate(&parsed);
        if name == "empty_reply" || name == "no_start_event" {
            // Generated ids differ between two runs; everything else must match.
            assembled["id"] = folded["id"].clone();
        }
        assert_eq!(folded, assembled, "{name}");
    }
}

#[test]
fn folded_message_shape() {
    let events = [
        start(),
        StreamEvent::ThinkingDelta("hmm".into()),
        StreamEvent::ThinkingSignature("sig".into()),
        StreamEvent::RedactedThinking("opaque".into()),
        text("Running it."),
        tool_start(0, "toolu_1", "Bash"),
        tool_input(0, "{\"command\":\"echo hi\"}"),
        tool_end(0),
        usage(100, 20),
        StreamEvent::Stop(StopReason::ToolUse),
    ];
    let (status, body) = fold(&events);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "id": "msg_01TestReply", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "echo hi"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 100, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 7, "output_tokens": 20},
        })
    );
}

#[test]
fn invalid_tool_json_folds_to_an_empty_object() {
    for input in ["{\"a\": ", "[1, 2]", "\"text\"", "not json"] {
        let (_, body) = fold(&[
            start(),
            tool_start(0, "t", "f"),
            tool_input(0, input),
            tool_end(0),
            StreamEvent::Stop(StopReason::ToolUse),
        ]);
        assert_eq!(body["content"][0]["input"], json!({}), "{input}");
    }
}

#[test]
fn stop_sequence_is_reported() {
    let (_, body) = fold(&[
        start(),
        text("1 2 3"),
        StreamEvent::Stop(StopReason::StopSequence("END".into())),
    ]);
    assert_eq!(body["stop_reason"], "stop_sequence");
    assert_eq!(body["stop_sequence"], "END");
}

#[test]
fn errors_fold_to_the_error_body() {
    for (kind, status, ty) in [
        (ErrorKind::Overloaded, 529, "overloaded_error"),
        (ErrorKind::RateLimited, 429, "rate_limit_error"),
        (ErrorKind::Timeout, 504, "timeout_error"),
        (
            ErrorKind::ContextLengthExceeded,
            400,
            "invalid_request_error",
        ),
    ] {
        let (got, body) = fold(&[
            start(),
            text("partial"),
            StreamEvent::Error(ClientError::new(kind, "boom")),
            StreamEvent::Stop(StopReason::EndTurn),
        ]);
        assert_eq!(got, status);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], ty);
    }
}

#[test]
fn events_after_the_stop_are_ignored() {
    let (_, a) = fold(&[start(), text("a"), StreamEvent::Stop(StopReason::EndTurn)]);
    let (_, b) = fold(&[
        start(),
        text("a"),
        StreamEvent::Stop(StopReason::EndTurn),
        text("b"),
        usage(1, 1),
    ]);
    assert_eq!(a, b);
}
