//! Chunk-boundary safety (spec §7.5) through [`ReplyMapper::on_frame`]: a surrogate pair or a
//! multi-byte character split across frames is joined, never shown as U+FFFD.
//!
//! What `serde_json` does (pinned in `payload.rs` unit tests too): a JSON string holding a lone
//! surrogate escape (`"a\uD83D"`, `"\uDE00b"`) is an error when read as `String`
//! ("unexpected end of hex escape" / "lone leading surrogate in hex escape"), so
//! `Event::from_frame` fails on such a frame; read as bytes it yields WTF-8, which the mapper
//! repairs across frames.

mod kiro_response_support;

use dialects::canonical::{StopReason, StreamEvent};
use dialects::kiro::response::{ReplyContext, ReplyMapper, ThinkingMode};
use kiro_response_support::*;
use kiro_wire::{Event, Frame};

fn feed(ctx: ReplyContext, frames: &[Frame]) -> (Vec<StreamEvent>, ReplyMapper) {
    let mut mapper = ReplyMapper::new(ctx);
    let mut out = Vec::new();
    for f in frames {
        mapper
            .on_frame(f, &mut out)
            .unwrap_or_else(|e| panic!("unexpected fault {e:?}"));
    }
    mapper.finish(&mut out);
    (out, mapper)
}

fn no_replacement_char(out: &[StreamEvent]) {
    for ev in out {
        let s = match ev {
            StreamEvent::TextDelta(s) | StreamEvent::ThinkingDelta(s) => s,
            StreamEvent::ToolInputDelta { fragment, .. } => fragment,
            _ => continue,
        };
        assert!(!s.contains('\u{FFFD}'), "U+FFFD in {s:?}");
    }
}

#[test]
fn serde_refuses_a_lone_surrogate_frame() {
    let frame = raw_event_frame("assistantResponseEvent", br#"{"content":"a\uD83D"}"#);
    assert!(Event::from_frame(&frame).is_err());
}

#[test]
fn surrogate_pair_split_across_text_frames() {
    let frames = [
        raw_event_frame("assistantResponseEvent", br#"{"content":"smile \uD83D"}"#),
        raw_event_frame("assistantResponseEvent", br#"{"content":"\uDE00 done"}"#),
    ];
    let (out, mapper) = feed(ReplyContext::default(), &frames);
    assert_eq!(all_text(&out), "smile \u{1F600} done");
    no_replacement_char(&out);
    let stats = mapper.stats();
    assert_eq!(stats.recovered_frames, 2);
    assert_eq!(stats.text_frames, 2);
    assert_eq!(stats.dropped_invalid_sequences, 0);
}

#[test]
fn surrogate_pair_escaped_whole_is_fine() {
    let frames = [raw_event_frame(
        "assistantResponseEvent",
        br#"{"content":"\uD83D\uDE00"}"#,
    )];
    let (out, mapper) = feed(ReplyContext::default(), &frames);
    assert_eq!(all_text(&out), "\u{1F600}");
    assert_eq!(mapper.stats().recovered_frames, 0);
}

#[test]
fn raw_utf8_split_across_frames() {
    // 我 is e6 88 91; the upstream sends raw UTF-8 (spec §6.4).
    let frames = [
        raw_event_frame("assistantResponseEvent", b"{\"content\":\"a\xE6\x88\"}"),
        raw_event_frame("assistantResponseEvent", b"{\"content\":\"\x91b\"}"),
    ];
    let (out, _) = feed(ReplyContext::default(), &frames);
    assert_eq!(all_text(&out), "a我b");
    no_replacement_char(&out);
}

#[test]
fn lone_surrogates_are_dropped_and_counted() {
    let frames = [
        raw_event_frame("assistantResponseEvent", br#"{"content":"x\uD83D"}"#),
        raw_event_frame("assistantResponseEvent", br#"{"content":"y"}"#),
        raw_event_frame("assistantResponseEvent", br#"{"content":"\uDE00z\uD800"}"#),
    ];
    let (out, mapper) = feed(ReplyContext::default(), &frames);
    assert_eq!(all_text(&out), "xyz");
    no_replacement_char(&out);
    // The high half before "y", the stray low half, and the high half left at the end.
    assert_eq!(mapper.stats().dropped_invalid_sequences, 3);
}

#[test]
fn surrogate_pair_split_across_thinking_frames() {
    let ctx = ReplyContext {
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let frames = [
        raw_event_frame("reasoningContentEvent", br#"{"text":"hmm \uD83E"}"#),
        raw_event_frame(
            "reasoningContentEvent",
            br#"{"text":"\uDD14 ok","signature":"sig=="}"#,
        ),
        raw_event_frame("assistantResponseEvent", br#"{"content":"Answer"}"#),
    ];
    let (out, _) = feed(ctx, &frames);
    assert_eq!(all_thinking(&out), "hmm \u{1F914} ok");
    assert!(out.contains(&StreamEvent::ThinkingSignature("sig==".into())));
    assert_eq!(all_text(&out), "Answer");
}

#[test]
fn text_and_thinking_carry_separately() {
    let ctx = ReplyContext {
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let frames = [
        raw_event_frame("reasoningContentEvent", br#"{"text":"t\uD83D"}"#),
        raw_event_frame("assistantResponseEvent", br#"{"content":"a"}"#),
        raw_event_frame("reasoningContentEvent", br#"{"text":"\uDE00"}"#),
    ];
    let (out, _) = feed(ctx, &frames);
    assert_eq!(all_thinking(&out), "t\u{1F600}");
    assert_eq!(all_text(&out), "a");
}

#[test]
fn surrogate_pair_split_across_tool_fragments() {
    let frames = [
        raw_event_frame("toolUseEvent", br#"{"toolUseId":"t1","name":"say"}"#),
        raw_event_frame(
            "toolUseEvent",
            br#"{"toolUseId":"t1","name":"say","input":"{\"text\":\"\uD83D"}"#,
        ),
        raw_event_frame(
            "toolUseEvent",
            br#"{"toolUseId":"t1","name":"say","input":"\uDE00\"}","stop":true}"#,
        ),
    ];
    let (out, mapper) = feed(ReplyContext::default(), &frames);
    assert_eq!(tool_input(&out, 0), "{\"text\":\"\u{1F600}\"}");
    no_replacement_char(&out);
    assert_eq!(stop_of(&out), Some(&StopReason::ToolUse));
    assert_eq!(mapper.stats().invalid_tool_inputs, 0);
}

#[test]
fn unreadable_tool_frame_is_a_bad_frame_fault() {
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let mut out = Vec::new();
    let frame = raw_event_frame("toolUseEvent", b"{\"toolUseId\":");
    let fault = mapper.on_frame(&frame, &mut out).expect_err("fault");
    assert_eq!(fault.label, "bad_frame");
    assert_eq!(mapper.stats().malformed_frames, 1);
}

#[test]
fn unreadable_tail_frame_is_only_counted() {
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let mut out = Vec::new();
    let frame = raw_event_frame("metadataEvent", b"{\"tokenUsage\":[");
    mapper.on_frame(&frame, &mut out).expect("ignored");
    assert!(out.is_empty());
    assert_eq!(mapper.stats().malformed_frames, 1);
}

#[test]
fn exception_frame_through_on_frame_is_a_fault() {
    let frame = exception(
        "ThrottlingException",
        Some("I am experiencing high traffic, please try again shortly."),
        Some("INSUFFICIENT_MODEL_CAPACITY"),
    )
    .to_frame();
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let fault = mapper.on_frame(&frame, &mut Vec::new()).expect_err("fault");
    assert_eq!(fault.label, "insufficient_capacity");
}
