//! The script language: a serde description of one chat response — content parts in order
//! (text, thinking, tool calls, raw events, error frames, faults, replayed bytes), the tail, the
//! pacing, and HTTP-level overrides. Queued with `{"type":"script","script":{…}}` or inline with
//! `[[sim:script {…}]]`. Every field is optional; `{}` is the default answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::ErrorKind;
use crate::settings::PaceOverride;

/// One scripted response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    /// HTTP status (default 200).
    pub status: Option<u16>,
    /// `content-type` (default `application/vnd.amazon.eventstream`; `application/json` labels
    /// an EventStream body the way the service sometimes does).
    pub content_type: Option<String>,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// A non-stream body instead of frames (e.g. a JSON exception under HTTP 200).
    pub body: Option<ScriptBody>,
    /// Timing; unset fields come from the settings.
    pub pace: PaceOverride,
    /// The stream, in order. Empty = the default answer (thinking first if requested).
    pub parts: Vec<Part>,
    /// Tail events; `None` = automatic (all three, except: no `contextUsageEvent` after a
    /// truncated tool call, nothing after a replay).
    pub tail: Option<Tail>,
    /// Mix unknown and legacy events (and `initial-response`) between the parts.
    pub noise: bool,
    /// Re-cut the body into HTTP chunks of this many bytes, so chunk boundaries fall inside
    /// frames and inside multi-byte characters.
    pub http_chunk_bytes: Option<usize>,
    /// Serve the script without validation, quota check or debit.
    pub skip_checks: bool,
    /// Credits to report and debit instead of `multiplier × base_credit`.
    pub credits: Option<f64>,
}

/// A non-EventStream body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptBody {
    /// This JSON, compact.
    Json(Value),
    /// This text, verbatim.
    Text(String),
    /// The catalogued body of this error (its status only if `status` is set).
    Error(ErrorKind),
}

/// How a stall ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallEnd {
    /// The stream goes on.
    #[default]
    Continue,
    /// The body ends cleanly at a frame boundary (no tail).
    Close,
    /// The connection is aborted (no clean end of the chunked body).
    Abort,
}

/// Where a cut connection stops inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutPoint {
    Prelude,
    Headers,
    Payload,
}

fn yes() -> bool {
    true
}

fn default_tool_name() -> String {
    "Write".to_owned()
}

fn default_truncated_bytes() -> usize {
    40_000
}

/// One step of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Text in `assistantResponseEvent`s. `text` absent = the default answer.
    Text {
        #[serde(default)]
        text: Option<String>,
        /// Characters per frame (absent = settings; 0 = varied 3–12).
        #[serde(default)]
        chunk_chars: Option<usize>,
        /// Indices of chunks sent twice in a row (the "repeated identical chunk" quirk).
        #[serde(default)]
        repeat_chunks: Vec<usize>,
    },
    /// A long answer of `count` words.
    Words {
        count: usize,
        #[serde(default)]
        chunk_chars: Option<usize>,
    },
    /// The last user message, verbatim.
    Echo {
        #[serde(default)]
        chunk_chars: Option<usize>,
    },
    /// `reasoningContentEvent`s; the last carries the signature.
    Thinking {
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        chunk_chars: Option<usize>,
        /// Sign the block (`signature::sign(model, text)`).
        #[serde(default = "yes")]
        signature: bool,
        /// Use this signature instead (e.g. a bad one).
        #[serde(default)]
        signature_value: Option<String>,
    },
    /// One `reasoningContentEvent` with `redactedContent`.
    RedactedThinking {
        #[serde(default)]
        data: Option<String>,
    },
    /// Two text frames splitting U+1F600 as `\uD83D` / `\uDE00` escapes.
    SurrogateSplit {
        #[serde(default)]
        before: String,
        #[serde(default)]
        after: String,
    },
    /// The raw-UTF-8 worst case JSON allows: multi-scalar graphemes and multi-byte characters
    /// split at every scalar boundary, one scalar per frame.
    GraphemeSplit {
        #[serde(default)]
        text: Option<String>,
    },
    /// One tool call.
    Tool(ToolCall),
    /// Several tool calls whose fragments interleave (all starts, round-robin fragments, stops).
    InterleavedTools { calls: Vec<ToolCall> },
    /// A tool call cut upstream: ~`bytes` of `input` fragments and no `stop`.
    TruncatedTool {
        #[serde(default = "default_tool_name")]
        name: String,
        #[serde(default = "default_truncated_bytes")]
        bytes: usize,
        #[serde(default)]
        fragment_bytes: Option<usize>,
    },
    /// Any event frame (unknown, legacy, `initial-response`…).
    Event {
        event_type: String,
        #[serde(default)]
        payload: Option<Value>,
        /// Raw payload text (wins over `payload`).
        #[serde(default)]
        payload_text: Option<String>,
    },
    /// An `exception` frame (`ContentLengthExceededException`, `ThrottlingException`, …).
    Exception {
        exception_type: String,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// An `error` frame (`:error-code`, `:error-message`).
    ErrorFrame { code: String, message: String },
    /// `invalidStateEvent`.
    InvalidState {
        reason: String,
        #[serde(default)]
        message: Option<String>,
    },
    /// A `meteringEvent` here (absent usage = the computed charge).
    Metering {
        #[serde(default)]
        usage: Option<f64>,
    },
    /// A `contextUsageEvent` here (absent = computed).
    ContextUsage {
        #[serde(default)]
        percentage: Option<f64>,
    },
    /// A `metadataEvent` with the token usage so far.
    Metadata,
    /// Silence.
    Sleep { ms: u64 },
    /// Silence, then continue, close cleanly or abort.
    Stall {
        ms: u64,
        #[serde(default)]
        then: StallEnd,
    },
    /// A text frame cut inside its prelude, headers or payload; then the connection aborts.
    Cut {
        at: CutPoint,
        #[serde(default)]
        text: Option<String>,
    },
    /// TCP reset (RST) after `flush_ms` (default 20) to let earlier bytes leave.
    Reset {
        #[serde(default)]
        flush_ms: Option<u64>,
    },
    /// End the body cleanly now (no tail).
    Close,
    /// A text frame whose prelude CRC is wrong.
    BadPreludeCrc {
        #[serde(default)]
        text: Option<String>,
    },
    /// A text frame whose message CRC is wrong.
    BadMessageCrc {
        #[serde(default)]
        text: Option<String>,
    },
    /// A prelude announcing `total_length` (e.g. 32 MiB, or 8) with a valid prelude CRC.
    BadLength { total_length: u32 },
    /// A text frame that also carries headers of every type 0–9.
    ExtraHeaders {
        #[serde(default)]
        text: Option<String>,
    },
    /// Recorded bytes, verbatim (a `.bin` path, or base64).
    Replay {
        #[serde(default)]
        path: Option<String>,
        #[serde(default)]
        base64: Option<String>,
    },
}

/// One tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolCall {
    pub name: String,
    /// The arguments (an object).
    pub input: Value,
    /// Exact input text to fragment instead of `input` (may be invalid JSON).
    pub input_raw: Option<String>,
    /// `toolUseId` (default: `tooluse_` + 22 characters derived from the request).
    pub id: Option<String>,
    /// Bytes of input per fragment (default 32).
    pub fragment_bytes: Option<usize>,
    /// Send `input` as one JSON object instead of string fragments.
    pub object_input: bool,
    /// End with a `stop: true` frame.
    pub stop: bool,
    /// Carry the last fragment in the stop frame.
    pub stop_with_input: bool,
}

impl Default for ToolCall {
    fn default() -> Self {
        ToolCall {
            name: "tool".to_owned(),
            input: Value::Object(serde_json::Map::new()),
            input_raw: None,
            id: None,
            fragment_bytes: None,
            object_input: false,
            stop: true,
            stop_with_input: false,
        }
    }
}

impl ToolCall {
    pub fn new(name: &str, input: Value) -> Self {
        ToolCall {
            name: name.to_owned(),
            input,
            ..ToolCall::default()
        }
    }
}

/// The events after the content; each switchable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tail {
    /// `metadataEvent` with `tokenUsage`.
    pub metadata: bool,
    /// `messageMetadataEvent` with `conversationId` and `utteranceId`.
    pub message_metadata: bool,
    /// Put `tokenUsage` in `messageMetadataEvent` (and send it) instead of `metadataEvent`.
    pub usage_in_message_metadata: bool,
    pub metering: bool,
    pub context_usage: bool,
    pub metering_usage: Option<f64>,
    pub context_usage_percentage: Option<f64>,
}

impl Default for Tail {
    fn default() -> Self {
        Tail {
            metadata: true,
            message_metadata: false,
            usage_in_message_metadata: false,
            metering: true,
            context_usage: true,
            metering_usage: None,
            context_usage_percentage: None,
        }
    }
}

impl Tail {
    /// No tail events at all.
    pub fn none() -> Self {
        Tail {
            metadata: false,
            message_metadata: false,
            usage_in_message_metadata: false,
            metering: false,
            context_usage: false,
            metering_usage: None,
            context_usage_percentage: None,
        }
    }
}

impl Script {
    /// A script of these parts, everything else default.
    pub fn parts(parts: Vec<Part>) -> Self {
        Script {
            parts,
            ..Script::default()
        }
    }

    /// A script answering `text`.
    pub fn text(text: &str) -> Self {
        Script::parts(vec![Part::Text {
            text: Some(text.to_owned()),
            chunk_chars: None,
            repeat_chunks: Vec::new(),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part_shape() {
        let s: Script = serde_json::from_value(serde_json::json!({
            "status": 200, "content_type": "application/json", "noise": true,
            "pace": {"frame_interval_ms": 5},
            "tail": {"context_usage": false},
            "parts": [
                {"type": "thinking", "text": "hmm"},
                {"type": "text", "text": "hi", "chunk_chars": 1, "repeat_chunks": [0]},
                {"type": "tool", "name": "Bash", "input": {"command": "ls"}},
                {"type": "interleaved_tools", "calls": [{"name": "a"}, {"name": "b"}]},
                {"type": "grapheme_split"},
                {"type": "stall", "ms": 10, "then": "close"},
                {"type": "cut", "at": "headers"},
                {"type": "metadata"},
                {"type": "close"}
            ]
        }))
        .unwrap();
        assert_eq!(s.parts.len(), 9);
        assert!(!s.tail.unwrap().context_usage);
        assert!(matches!(&s.parts[2], Part::Tool(t) if t.stop && t.name == "Bash"));
    }

    #[test]
    fn rejects_unknown_script_keys() {
        assert!(serde_json::from_value::<Script>(serde_json::json!({"partz": []})).is_err());
    }
}
