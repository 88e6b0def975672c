//! Shared helpers of the `kiro_response_*` tests: upstream event constructors, a runner, and a
//! one-line-per-event rendering of canonical events for snapshots.

#![allow(dead_code)] // each test file uses a different subset

use std::fmt::Write as _;

use bytes::Bytes;
use dialects::canonical::{StopReason, StreamEvent};
use dialects::kiro::response::{ReplyContext, ReplyMapper};
use kiro_wire::event::{
    AssistantResponseEvent, ContextUsageEvent, ErrorFrame, ExceptionFrame, InvalidStateEvent,
    MessageMetadataEvent, MetadataEvent, MeteringEvent, ReasoningContentEvent, TokenUsage,
    ToolInput, ToolUseEvent,
};
use kiro_wire::{Event, Frame, Header};

pub fn text(s: &str) -> Event {
    Event::AssistantResponse(AssistantResponseEvent { content: s.into() })
}

pub fn thinking(s: &str) -> Event {
    Event::Reasoning(ReasoningContentEvent {
        text: Some(s.into()),
        ..Default::default()
    })
}

pub fn thinking_signed(s: &str, signature: &str) -> Event {
    Event::Reasoning(ReasoningContentEvent {
        text: Some(s.into()),
        signature: Some(signature.into()),
        redacted_content: None,
    })
}

pub fn redacted(data: &str) -> Event {
    Event::Reasoning(ReasoningContentEvent {
        redacted_content: Some(data.into()),
        ..Default::default()
    })
}

pub fn tool(id: &str, name: &str, input: Option<&str>, stop: bool) -> Event {
    Event::ToolUse(ToolUseEvent {
        tool_use_id: id.into(),
        name: name.into(),
        input: input.map(|s| ToolInput::Fragment(s.into())),
        stop,
    })
}

pub fn tool_object(id: &str, name: &str, input: serde_json::Value, stop: bool) -> Event {
    Event::ToolUse(ToolUseEvent {
        tool_use_id: id.into(),
        name: name.into(),
        input: Some(ToolInput::Object(input)),
        stop,
    })
}

pub fn metering(usage: f64) -> Event {
    Event::Metering(MeteringEvent {
        unit: Some("credit".into()),
        unit_plural: Some("credits".into()),
        usage,
    })
}

pub fn context(pct: f64) -> Event {
    Event::ContextUsage(ContextUsageEvent {
        context_usage_percentage: pct,
    })
}

pub fn token_usage(uncached: u64, cache_read: u64, cache_write: u64, output: u64) -> TokenUsage {
    TokenUsage {
        uncached_input_tokens: Some(uncached),
        cache_read_input_tokens: Some(cache_read),
        cache_write_input_tokens: Some(cache_write),
        output_tokens: Some(output),
        total_tokens: Some(uncached + cache_read + cache_write + output),
        ..Default::default()
    }
}

pub fn metadata(u: TokenUsage) -> Event {
    Event::Metadata(MetadataEvent {
        token_usage: Some(u),
    })
}

pub fn message_metadata(u: Option<TokenUsage>) -> Event {
    Event::MessageMetadata(MessageMetadataEvent {
        conversation_id: Some("conv-1".into()),
        utterance_id: Some("utt-1".into()),
        token_usage: u,
    })
}

pub fn legacy(event_type: &str) -> Event {
    Event::Legacy {
        event_type: event_type.into(),
        payload: Bytes::from_static(br#"{"followupPrompt":{"content":"Ask me more"}}"#),
    }
}

pub fn unknown(event_type: &str) -> Event {
    Event::Unknown {
        event_type: event_type.into(),
        payload: Bytes::from_static(br#"{"content":"do not show"}"#),
    }
}

pub fn exception(exception_type: &str, message: Option<&str>, reason: Option<&str>) -> Event {
    Event::Exception(ExceptionFrame {
        exception_type: exception_type.into(),
        message: message.map(Into::into),
        reason: reason.map(Into::into),
        payload: Bytes::new(),
    })
}

pub fn error_frame(code: &str, message: &str) -> Event {
    Event::Error(ErrorFrame {
        code: code.into(),
        message: message.into(),
        payload: Bytes::new(),
    })
}

pub fn invalid_state(reason: &str, message: &str) -> Event {
    Event::InvalidState(InvalidStateEvent {
        reason: reason.into(),
        message: message.into(),
    })
}

/// An event frame with a raw payload (for payloads `Event` cannot represent).
pub fn raw_event_frame(event_type: &str, payload: &[u8]) -> Frame {
    Frame::new(
        vec![
            Header::new(":event-type", event_type.to_owned()),
            Header::new(":content-type", "application/json"),
            Header::new(":message-type", "event"),
        ],
        Bytes::copy_from_slice(payload),
    )
}

/// Feeds `events` and finishes; panics on a fault.
pub fn run(ctx: ReplyContext, events: &[Event]) -> (Vec<StreamEvent>, ReplyMapper) {
    let mut mapper = ReplyMapper::new(ctx);
    let mut out = Vec::new();
    for ev in events {
        mapper
            .on_event(ev, &mut out)
            .unwrap_or_else(|f| panic!("unexpected fault {f:?}"));
    }
    mapper.finish(&mut out);
    (out, mapper)
}

pub fn run_default(events: &[Event]) -> Vec<StreamEvent> {
    run(ReplyContext::default(), events).0
}

fn stop_name(r: &StopReason) -> String {
    match r {
        StopReason::EndTurn => "end_turn".into(),
        StopReason::MaxTokens => "max_tokens".into(),
        StopReason::StopSequence(s) => format!("stop_sequence {s:?}"),
        StopReason::ToolUse => "tool_use".into(),
        StopReason::ContextWindowExceeded => "context_window_exceeded".into(),
    }
}

/// One line per event, for snapshots.
pub fn render(events: &[StreamEvent]) -> String {
    let mut s = String::new();
    for ev in events {
        let line = match ev {
            StreamEvent::Start(info) => format!("start {info:?}"),
            StreamEvent::ThinkingDelta(t) => format!("thinking {t:?}"),
            StreamEvent::ThinkingSignature(t) => format!("signature {t:?}"),
            StreamEvent::RedactedThinking(t) => format!("redacted {t:?}"),
            StreamEvent::TextDelta(t) => format!("text {t:?}"),
            StreamEvent::ToolUseStart { index, id, name } => {
                format!("tool_start #{index} id={id} name={name}")
            }
            StreamEvent::ToolInputDelta { index, fragment } => {
                format!("tool_input #{index} {fragment:?}")
            }
            StreamEvent::ToolUseEnd { index } => format!("tool_end #{index}"),
            StreamEvent::Usage(u) => format!(
                "usage input={} output={} cache_read={} cache_write={} reasoning={:?}",
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens,
                u.reasoning_tokens
            ),
            StreamEvent::Stop(r) => format!("stop {}", stop_name(r)),
            StreamEvent::Error(e) => format!("error {:?} {:?}", e.kind, e.message),
        };
        let _ = writeln!(s, "{line}");
    }
    s
}

/// Concatenated text deltas.
pub fn all_text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Concatenated thinking deltas.
pub fn all_thinking(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ThinkingDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Concatenated input of tool call `index`.
pub fn tool_input(events: &[StreamEvent], index: usize) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolInputDelta { index: i, fragment } if *i == index => {
                Some(fragment.as_str())
            }
            _ => None,
        })
        .collect()
}

pub fn stop_of(events: &[StreamEvent]) -> Option<&StopReason> {
    match events.last() {
        Some(StreamEvent::Stop(r)) => Some(r),
        _ => None,
    }
}
