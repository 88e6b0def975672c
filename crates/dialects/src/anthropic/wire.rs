//! Anthropic wire shapes shared by the SSE encoder and the fold: message head, usage, stop
//! reasons. Borrowed serde structs, so an event is written straight into the output buffer.

use std::borrow::Cow;

use serde::Serialize;

use crate::canonical::{StartInfo, StopReason, Usage};

/// `usage` as the API reports it: `input_tokens` excludes cache reads and writes.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct UsageOut {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

impl UsageOut {
    /// Before the upstream reports anything: the request estimate, nothing cached, no output.
    pub fn estimated(start: &StartInfo) -> Self {
        UsageOut {
            input_tokens: start.estimated_input_tokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            output_tokens: 0,
        }
    }

    pub fn from_usage(usage: &Usage) -> Self {
        UsageOut {
            input_tokens: usage.input_tokens,
            cache_creation_input_tokens: usage.cache_creation_input_tokens,
            cache_read_input_tokens: usage.cache_read_input_tokens,
            output_tokens: usage.output_tokens,
        }
    }

    /// The final figures: the last reported usage, else the estimate.
    pub fn final_figures(start: &StartInfo, usage: Option<&Usage>) -> Self {
        usage.map_or_else(|| Self::estimated(start), Self::from_usage)
    }
}

/// `stop_reason` and `stop_sequence`.
pub(super) fn stop_fields(reason: &StopReason) -> (&'static str, Option<&str>) {
    match reason {
        StopReason::EndTurn => ("end_turn", None),
        StopReason::MaxTokens => ("max_tokens", None),
        StopReason::StopSequence(seq) => ("stop_sequence", Some(seq.as_str())),
        StopReason::ToolUse => ("tool_use", None),
        StopReason::ContextWindowExceeded => ("model_context_window_exceeded", None),
    }
}

/// The message id shown to the client: `msg_`-prefixed, generated when the service gave none.
pub(super) fn message_id(id: &str) -> Cow<'_, str> {
    if id.is_empty() {
        Cow::Owned(format!("msg_{}", uuid::Uuid::new_v4().simple()))
    } else if id.starts_with("msg_") {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(format!("msg_{id}"))
    }
}

/// The message object of `message_start` (and the envelope of the folded reply).
#[derive(Debug, Serialize)]
pub(super) struct MessageHead<'a, C: Serialize> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: C,
    pub stop_reason: Option<&'a str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: UsageOut,
}

impl<'a, C: Serialize> MessageHead<'a, C> {
    pub fn new(id: &'a str, model: &'a str, content: C, usage: UsageOut) -> Self {
        MessageHead {
            id,
            kind: "message",
            role: "assistant",
            model,
            content,
            stop_reason: None,
            stop_sequence: None,
            usage,
        }
    }
}

/// A content block as `content_block_start` announces it and as the fold lists it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BlockOut<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: InputOut<'a>,
    },
}

/// A tool call's `input`: always `{}` in `content_block_start` (the input follows as
/// `input_json_delta`; Claude Code ignores input given only in the start), the parsed value in
/// the fold.
#[derive(Debug, Clone, Copy)]
pub(super) enum InputOut<'a> {
    Empty,
    Value(&'a serde_json::Value),
}

impl Serialize for InputOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self {
            InputOut::Empty => serializer.serialize_map(Some(0))?.end(),
            InputOut::Value(value) => value.serialize(serializer),
        }
    }
}

/// `{"type":"error","error":{"type":…,"message":…}}`, plus `request_id` on HTTP error bodies.
#[derive(Debug, Serialize)]
pub(super) struct ErrorOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub error: ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(super) struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub message: &'a str,
}
