//! Canonical events as Anthropic SSE, byte for byte the shape of the real API:
//! `message_start` (then one `ping`), `content_block_start` / `content_block_delta` /
//! `content_block_stop`, `message_delta` (stop reason, stop sequence, usage), `message_stop`;
//! `event: error` ends a failed stream without `message_stop`.
//!
//! Every event is written straight into the output buffer: the per-frame `content_block_delta`
//! by hand (a constant envelope around the escaped text), the rest serialised from borrowed
//! structs.

use bytes::{BufMut as _, BytesMut};
use serde::Serialize;

use super::blocks::{BlockDelta, BlockSink, BlockStart, Blocks};
use super::error::error_event;
use super::wire::{BlockOut, InputOut, MessageHead, UsageOut, message_id, stop_fields};
use crate::canonical::{StartInfo, StopReason, StreamEvent, Usage};
use crate::encode::ReplyEncoder;
use crate::json_out;

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

    /// The hot event (one per upstream content frame), written by hand: a constant envelope
    /// around the escaped text, byte for byte what serde wrote for the `BlockDeltaEvent`
    /// struct (see the `delta_events_match_serde` test).
    fn delta(&mut self, index: usize, delta: BlockDelta<'_>) {
        let (envelope, text): (&[u8], &str) = match delta {
            BlockDelta::Text(text) => (b",\"delta\":{\"type\":\"text_delta\",\"text\":", text),
            BlockDelta::Thinking(text) => (
                b",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":",
                text,
            ),
            BlockDelta::Signature(text) => (
                b",\"delta\":{\"type\":\"signature_delta\",\"signature\":",
                text,
            ),
            BlockDelta::InputJson(text) => (
                b",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":",
                text,
            ),
        };
        let out = &mut *self.out;
        // Envelope, index, quotes and tail: one reservation unless the text needs escapes.
        out.reserve(DELTA_HEAD.len() + 20 + envelope.len() + text.len() + 8);
        out.extend_from_slice(DELTA_HEAD);
        json_out::uint(out, index as u64);
        out.extend_from_slice(envelope);
        json_out::string(out, text);
        out.extend_from_slice(b"}}\n\n");
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

/// Everything of a `content_block_delta` event before its index.
const DELTA_HEAD: &[u8] =
    b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";

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

#[cfg(test)]
mod tests {
    //! The hand-written delta against the serde structs it replaced.
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

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

    /// What the serde path wrote for a delta before it was written by hand.
    fn serde_delta(index: usize, delta: DeltaOut<'_>) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_event(
            &mut out,
            "content_block_delta",
            &BlockDeltaEvent {
                kind: "content_block_delta",
                index,
                delta,
            },
        );
        out.to_vec()
    }

    fn hand_delta(index: usize, delta: BlockDelta<'_>) -> Vec<u8> {
        let mut out = BytesMut::from(&b"kept"[..]);
        SseSink { out: &mut out }.delta(index, delta);
        assert!(out.starts_with(b"kept"));
        out[4..].to_vec()
    }

    fn text() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            any::<char>(),
            (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
            Just('"'),
            Just('\\'),
            Just('\u{7f}'),
            Just('\u{2028}'),
            Just('\u{2029}'),
            Just('x'),
        ];
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(chars, 0..48).prop_map(|v| v.into_iter().collect()),
        ]
    }

    proptest! {
        #[test]
        fn delta_events_match_serde(index in any::<usize>(), s in text()) {
            prop_assert_eq!(
                hand_delta(index, BlockDelta::Text(&s)),
                serde_delta(index, DeltaOut::Text { text: &s })
            );
            prop_assert_eq!(
                hand_delta(index, BlockDelta::Thinking(&s)),
                serde_delta(index, DeltaOut::Thinking { thinking: &s })
            );
            prop_assert_eq!(
                hand_delta(index, BlockDelta::Signature(&s)),
                serde_delta(index, DeltaOut::Signature { signature: &s })
            );
            prop_assert_eq!(
                hand_delta(index, BlockDelta::InputJson(&s)),
                serde_delta(index, DeltaOut::InputJson { partial_json: &s })
            );
        }
    }
}
