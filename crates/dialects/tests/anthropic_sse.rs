//! The SSE encoder: golden streams, and the ordering invariants checked on our own output.

#[cfg(test)]
#[path = "anthropic_support/sse.rs"]
mod sse;

use bytes::BytesMut;
use dialects::anthropic::SseEncoder;
use dialects::canonical::{StopReason, StreamEvent};
use dialects::encode::ReplyEncoder;
use serde_json::json;
use sse::{
    check_invariants, encode, extra_scenarios, parse_sse, scenarios, start, text, tool_end,
    tool_input, tool_start,
};

#[test]
fn golden_streams() {
    for (name, events) in scenarios() {
        let out = encode(&events);
        check_invariants(&parse_sse(&out));
        insta::assert_snapshot!(format!("sse_{name}"), out);
    }
}

#[test]
fn invariants_hold_for_every_scenario() {
    for (name, events) in scenarios().into_iter().chain(extra_scenarios()) {
        let out = encode(&events);
        let parsed = parse_sse(&out);
        check_invariants(&parsed);
        assert!(!out.contains('\r'), "{name}: LF line ends only");
    }
}

#[test]
fn message_start_carries_the_full_message() {
    let parsed = parse_sse(&encode(&[start(), StreamEvent::Stop(StopReason::EndTurn)]));
    assert_eq!(
        parsed[0].1,
        json!({
            "type": "message_start",
            "message": {
                "id": "msg_01TestReply", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-6", "content": [],
                "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 42, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0},
            },
        })
    );
    // No usage event: message_delta repeats the estimate.
    let delta = &parsed[parsed.len() - 2].1;
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 42, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

#[test]
fn ids_get_the_msg_prefix() {
    let mut info = match start() {
        StreamEvent::Start(info) => info,
        _ => unreachable!(),
    };
    info.id = "abc123".into();
    let parsed = parse_sse(&encode(&[
        StreamEvent::Start(info.clone()),
        StreamEvent::Stop(StopReason::EndTurn),
    ]));
    assert_eq!(parsed[0].1["message"]["id"], "msg_abc123");
    info.id = String::new();
    let parsed = parse_sse(&encode(&[
        StreamEvent::Start(info),
        StreamEvent::Stop(StopReason::EndTurn),
    ]));
    let id = parsed[0].1["message"]["id"].as_str().expect("id");
    assert!(id.starts_with("msg_") && id.len() > 10, "{id}");
}

#[test]
fn tool_input_is_streamed_fragment_by_fragment() {
    let out = encode(&[
        start(),
        tool_start(0, "toolu_1", "Bash"),
        tool_input(0, "{\"command\":"),
        tool_input(0, " \"echo MARKER_1\"}"),
        tool_end(0),
        StreamEvent::Stop(StopReason::ToolUse),
    ]);
    let parsed = parse_sse(&out);
    let fragments: Vec<&str> = parsed
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "input_json_delta")
        .map(|(_, d)| d["delta"]["partial_json"].as_str().expect("partial_json"))
        .collect();
    assert_eq!(fragments, ["{\"command\":", " \"echo MARKER_1\"}"]);
    let start_block = &parsed
        .iter()
        .find(|(n, _)| n == "content_block_start")
        .expect("start")
        .1;
    assert_eq!(
        start_block["content_block"],
        json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}})
    );
}

#[test]
fn each_event_is_written_as_it_arrives() {
    let mut enc = SseEncoder::new();
    let mut out = BytesMut::new();
    enc.event(&start(), &mut out);
    assert!(out.ends_with(b"event: ping\ndata: {\"type\":\"ping\"}\n\n"));
    out.clear();
    enc.event(&text("Hel"), &mut out);
    let first = String::from_utf8(out.to_vec()).expect("utf-8");
    assert_eq!(
        first,
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
         event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
    );
    out.clear();
    enc.event(&text("lo"), &mut out);
    assert_eq!(
        String::from_utf8(out.to_vec()).expect("utf-8"),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}\n\n"
    );
    out.clear();
    enc.event(&StreamEvent::Usage(Default::default()), &mut out);
    assert!(out.is_empty(), "usage alone writes nothing");
}

#[test]
fn keepalive_is_a_ping_and_nothing_follows_the_end() {
    let mut enc = SseEncoder::new();
    let mut out = BytesMut::new();
    enc.event(&start(), &mut out);
    out.clear();
    enc.keepalive(&mut out);
    assert_eq!(&out[..], b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
    enc.event(&StreamEvent::Stop(StopReason::EndTurn), &mut out);
    out.clear();
    enc.keepalive(&mut out);
    enc.event(&text("late"), &mut out);
    enc.event(&StreamEvent::Stop(StopReason::EndTurn), &mut out);
    assert!(out.is_empty());
}

#[test]
fn stop_reasons_map_to_anthropic_names() {
    for (reason, name, seq) in [
        (StopReason::EndTurn, "end_turn", None),
        (StopReason::MaxTokens, "max_tokens", None),
        (
            StopReason::StopSequence("###".into()),
            "stop_sequence",
            Some("###"),
        ),
        (StopReason::ToolUse, "tool_use", None),
        (
            StopReason::ContextWindowExceeded,
            "model_context_window_exceeded",
            None,
        ),
    ] {
        let parsed = parse_sse(&encode(&[start(), text("x"), StreamEvent::Stop(reason)]));
        let delta = &parsed[parsed.len() - 2].1["delta"];
        assert_eq!(delta["stop_reason"], name);
        assert_eq!(delta["stop_sequence"], json!(seq));
    }
}

#[test]
fn a_tool_start_closes_open_text_first() {
    let parsed = parse_sse(&encode(&[
        start(),
        text("a"),
        tool_start(0, "t", "f"),
        tool_end(0),
        StreamEvent::Stop(StopReason::ToolUse),
    ]));
    let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
}
