//! Canonical events → Chat Completions SSE (`data: {chat.completion.chunk}\n\n` … `data: [DONE]`).
//!
//! - The first chunk carries `delta: {role:"assistant", content:""}`.
//! - Thinking goes out as `delta.reasoning_content` (the de-facto field of OpenAI-compatible
//!   servers). Thinking signatures and redacted thinking have no Chat Completions field and are
//!   dropped: a Chat client cannot send them back anyway.
//! - Every tool call delta carries its `index` (the SDK's `.stream()` helper needs it); the first
//!   also carries `id`, `type` and `function.name` with `arguments: ""`.
//! - With `stream_options.include_usage`, every chunk has `usage: null` and a last chunk with
//!   `choices: []` carries the usage, as OpenAI does.
//! - A mid-stream error is one `data: {"error":…}` chunk and no `[DONE]` (see [`super::error`]).
//! - Keep-alives are SSE comments, which every SSE parser skips.
//!
//! Each chunk is written straight into the output buffer; the fixed head of a chunk (`id`,
//! `created`, `model`) is rendered once at `Start`.

use bytes::{Bytes, BytesMut};

use super::error::error_chunk;
use super::reply;
use super::write;
use crate::canonical::{StartInfo, StreamEvent, Usage};
use crate::encode::ReplyEncoder;

/// The Chat Completions [`ReplyEncoder`].
#[derive(Debug)]
pub struct SseEncoder {
    include_usage: bool,
    model: String,
    /// `data: {"id":…,"object":…,"created":…,"model":…,"system_fingerprint":null,"choices":[`,
    /// empty until `Start`.
    head: Bytes,
    estimated_input: u64,
    usage: Option<Usage>,
    called_tools: bool,
    finished: bool,
}

impl SseEncoder {
    /// `model` is the name shown to the client (the start event's is used if it is empty).
    pub fn new(include_usage: bool, model: impl Into<String>) -> Self {
        SseEncoder {
            include_usage,
            model: model.into(),
            head: Bytes::new(),
            estimated_input: 0,
            usage: None,
            called_tools: false,
            finished: false,
        }
    }

    fn start(&mut self, info: &StartInfo, out: &mut BytesMut) {
        let id = reply::completion_id(&info.id);
        let model = reply::shown_model(&self.model, &info.model);
        let mut head = BytesMut::with_capacity(128 + id.len() + model.len());
        head.extend_from_slice(b"data: {\"id\":");
        write::json_str(&mut head, &id);
        head.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        write::int(&mut head, info.created);
        head.extend_from_slice(b",\"model\":");
        write::json_str(&mut head, &model);
        head.extend_from_slice(b",\"system_fingerprint\":null,\"choices\":[");
        self.head = head.freeze();
        self.estimated_input = info.estimated_input_tokens;
        self.delta(out, |out| {
            out.extend_from_slice(b"\"role\":\"assistant\",\"content\":\"\"");
        });
    }

    /// Events normally follow `Start`; if one does not, a default start keeps the output valid.
    fn ensure_started(&mut self, out: &mut BytesMut) {
        if self.head.is_empty() {
            self.start(&StartInfo::default(), out);
        }
    }

    /// One chunk whose single choice has the delta written by `body` (the inside of `{…}`).
    fn delta(&self, out: &mut BytesMut, body: impl FnOnce(&mut BytesMut)) {
        self.choice(out, body, None);
    }

    fn choice(
        &self,
        out: &mut BytesMut,
        body: impl FnOnce(&mut BytesMut),
        finish_reason: Option<&str>,
    ) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"{\"index\":0,\"delta\":{");
        body(out);
        out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":");
        match finish_reason {
            Some(reason) => write::json_str(out, reason),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}]");
        self.end_chunk(out);
    }

    fn end_chunk(&self, out: &mut BytesMut) {
        if self.include_usage {
            out.extend_from_slice(b",\"usage\":null}\n\n");
        } else {
            out.extend_from_slice(b"}\n\n");
        }
    }

    fn stop(&mut self, finish_reason: &str, out: &mut BytesMut) {
        self.choice(out, |_| {}, Some(finish_reason));
        if self.include_usage {
            let usage = reply::final_usage(self.usage, self.estimated_input);
            out.extend_from_slice(&self.head);
            out.extend_from_slice(b"],\"usage\":");
            reply::write_usage(out, &usage);
            out.extend_from_slice(b"}\n\n");
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
}

impl ReplyEncoder for SseEncoder {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        if self.finished {
            return;
        }
        match event {
            StreamEvent::Start(info) => {
                if self.head.is_empty() {
                    self.start(info, out);
                }
            }
            StreamEvent::ThinkingDelta(text) if !text.is_empty() => {
                self.ensure_started(out);
                self.delta(out, |out| {
                    out.extend_from_slice(b"\"reasoning_content\":");
                    write::json_str(out, text);
                });
            }
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                self.ensure_started(out);
                self.delta(out, |out| {
                    out.extend_from_slice(b"\"content\":");
                    write::json_str(out, text);
                });
            }
            StreamEvent::ToolUseStart { index, id, name } => {
                self.ensure_started(out);
                self.called_tools = true;
                self.delta(out, |out| {
                    out.extend_from_slice(b"\"tool_calls\":[{\"index\":");
                    write::uint(out, *index as u64);
                    out.extend_from_slice(b",\"id\":");
                    write::json_str(out, id);
                    out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                    write::json_str(out, name);
                    out.extend_from_slice(b",\"arguments\":\"\"}}]");
                });
            }
            StreamEvent::ToolInputDelta { index, fragment } if !fragment.is_empty() => {
                self.ensure_started(out);
                self.called_tools = true;
                self.delta(out, |out| {
                    out.extend_from_slice(b"\"tool_calls\":[{\"index\":");
                    write::uint(out, *index as u64);
                    out.extend_from_slice(b",\"function\":{\"arguments\":");
                    write::json_str(out, fragment);
                    out.extend_from_slice(b"}}]");
                });
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop(reason) => {
                self.ensure_started(out);
                self.finished = true;
                self.stop(reply::finish_reason(reason, self.called_tools), out);
            }
            StreamEvent::Error(err) => {
                self.finished = true;
                error_chunk(err, out);
            }
            // No Chat Completions field for these (see the module notes); empty deltas carry
            // nothing.
            StreamEvent::ThinkingDelta(_)
            | StreamEvent::TextDelta(_)
            | StreamEvent::ToolInputDelta { .. }
            | StreamEvent::ThinkingSignature(_)
            | StreamEvent::RedactedThinking(_)
            | StreamEvent::ToolUseEnd { .. } => {}
        }
    }

    fn keepalive(&mut self, out: &mut BytesMut) {
        if !self.finished {
            out.extend_from_slice(b": keep-alive\n\n");
        }
    }
}
