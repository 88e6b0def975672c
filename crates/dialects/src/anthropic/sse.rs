//! Canonical events as Anthropic SSE, byte for byte the shape of the real API:
//! `message_start` (then one `ping`), `content_block_start` / `content_block_delta` /
//! `content_block_stop`, `message_delta` (stop reason, stop sequence, usage), `message_stop`;
//! `event: error` ends a failed stream without `message_stop`.
//!
//! Every event is serialised from borrowed structs straight into the output buffer.

use bytes::{BufMut as _, BytesMut};
use serde::Serialize;

use super::blocks::{BlockDelta, BlockSink, BlockStart, Blocks};
use super::error::error_event;
use super::wire::{BlockOut, InputOut, MessageHead, UsageOut, message_id, stop_fields};
use crate::canonical::{StartInfo, StopReason, StreamEvent, Usage};
use crate::encode::ReplyEncoder;

/// Writes one reply as Anthropic SSE. One encoder per response.
#[derive(Debug, Default)]
pub struct SseEncoder {
    start: Option<StartInfo>,
    usage: Option<Usage>,
    blocks: Blocks,
    /// After `message_stop` or `error`, nothing more is written.
    done: bool,
}

impl SseEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn message_start(&mut self, info: &StartInfo, out: &mut BytesMut) {
        let id = message_id(&info.id);
        let message = MessageHead::new(&id, &info.model, [(); 0], UsageOut::estimated(info));
        write_event(
            out,
            "message_start",
            &MessageStart {
                kind: "message_start",
                message,
            },
        );
        write_ping(out);
        self.start = Some(info.clone());
    }

    /// The contract puts `Start` first; if a service bug sends something else first, the client
    /// still gets a well-formed stream rather than one its SDK rejects.
    fn ensure_started(&mut self, out: &mut BytesMut) {
        if self.start.is_none() {
            self.message_start(&StartInfo::default(), out);
        }
    }

    fn stop(&mut self, reason: &StopReason, out: &mut BytesMut) {
        self.blocks.finish(&mut SseSink { out });
        let (stop_reason, stop_sequence) = stop_fields(reason);
        let fallback = StartInfo::default();
        let start = self.start.as_ref().unwrap_or(&fallback);
        write_event(
            out,
            "message_delta",
            &MessageDelta {
                kind: "message_delta",
                delta: StopDelta {
                    stop_reason,
                    stop_sequence,
                },
                usage: UsageOut::final_figures(start, self.usage.as_ref()),
            },
        );
        write_event(
            out,
            "message_stop",
            &TypeOnly {
                kind: "message_stop",
            },
        );
        self.done = true;
    }
}

impl ReplyEncoder for SseEncoder {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        match event {
            StreamEvent::Start(info) => {
                // A repeated `Start` cannot restart a message the client already has.
                if self.start.is_none() {
                    self.message_start(info, out);
                }
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop(reason) => {
                self.ensure_started(out);
                self.stop(reason, out);
            }
            StreamEvent::Error(err) => {
                // The real API sends the error on its own: no block stops, no message_stop.
                error_event(err, out);
                self.done = true;
            }
            content => {
                self.ensure_started(out);
                self.blocks.push(content, &mut SseSink { out });
            }
        }
    }

    fn keepalive(&mut self, out: &mut BytesMut) {
        if !self.done {
            write_ping(out);
        }
    }
}

/// Writes block operations as SSE events.
struct SseSink<'o> {
    out: &'o mut BytesMut,
}

impl BlockSink for SseSink<'_> {
    fn start(&mut self, index: usize, block: BlockStart<'_>) {
        let content_block = match block {
            BlockStart::Text => BlockOut::Text { text: "" },
            BlockStart::Thinking => BlockOut::Thinking {
                thinking: "",
                signature: "",
            },
            BlockStart::RedactedThinking { data } => BlockOut::RedactedThinking { data },
            BlockStart::ToolUse { id, name } => BlockOut::ToolUse {
                id,
                name,
                input: InputOut::Empty,
            },
        };
        write_event(
            self.out,
            "content_block_start",
            &BlockStartEvent {
                kind: "content_block_start",
                index,
                content_block,
            },
        );
    }

    fn delta(&mut self, index: usize, delta: BlockDelta<'_>) {
        let delta = match delta {
            BlockDelta::Text(text) => DeltaOut::Text { text },
            BlockDelta::Thinking(thinking) => DeltaOut::Thinking { thinking },
            BlockDelta::Signature(signature) => DeltaOut::Signature { signature },
            BlockDelta::InputJson(partial_json) => DeltaOut::InputJson { partial_json },
        };
        write_event(
            self.out,
            "content_block_delta",
            &BlockDeltaEvent {
                kind: "content_block_delta",
                index,
                delta,
            },
        );
    }

    fn stop(&mut self, index: usize) {
        write_event(
            self.out,
            "content_block_stop",
            &BlockStopEvent {
                kind: "content_block_stop",
                index,
            },
        );
    }
}

/// `event: <name>\ndata: <json>\n\n`. serde_json escapes line breaks inside strings, so the
/// data is always one line.
pub(super) fn write_event<T: Serialize>(out: &mut BytesMut, name: &str, data: &T) {
    out.put_slice(b"event: ");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\ndata: ");
    // Writing into a BytesMut cannot fail, and these structs have only string keys.
    let _ = serde_json::to_writer(out.writer(), data);
    out.put_slice(b"\n\n");
}

fn write_ping(out: &mut BytesMut) {
    out.put_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct MessageStart<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: MessageHead<'a, [(); 0]>,
}

#[derive(Serialize)]
struct BlockStartEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
    content_block: BlockOut<'a>,
}

#[derive(Serialize)]
struct BlockDeltaEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
    delta: DeltaOut<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum DeltaOut<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

#[derive(Serialize)]
struct BlockStopEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
}

#[derive(Serialize)]
struct MessageDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    delta: StopDelta<'a>,
    usage: UsageOut,
}

#[derive(Serialize)]
struct StopDelta<'a> {
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
}
