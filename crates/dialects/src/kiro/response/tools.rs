//! Tool-use assembly (spec §7.2): `toolUseEvent` frames keyed by `toolUseId` (calls may
//! interleave) become `ToolUseStart` on the first frame, one `ToolInputDelta` per non-empty
//! fragment as it arrives, and `ToolUseEnd` at `stop`.
//!
//! Fragments are streamed, never buffered until complete; a copy is kept only to check at `stop`
//! that the whole input parses as JSON (counted when it does not: the client already has it).

use std::collections::HashMap;

use super::ToolNameMap;
use super::text::Utf8Carry;
use crate::canonical::StreamEvent;

/// The `input` of one frame.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FrameInput<'a> {
    Absent,
    /// A string fragment, as WTF-8 (see [`super::text`]).
    Fragment(&'a [u8]),
    /// The nested variant: the whole input as a JSON value.
    Whole(&'a serde_json::Value),
}

/// One `toolUseEvent`, whichever way its payload was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToolFrame<'a> {
    pub tool_use_id: &'a str,
    pub name: &'a str,
    pub input: FrameInput<'a>,
    pub stop: bool,
}

#[derive(Debug)]
struct ToolCall {
    index: usize,
    carry: Utf8Carry,
    /// The input streamed so far, for the JSON check at `stop`.
    input: String,
    stopped: bool,
}

/// Counters the assembler contributes to [`super::ReplyStats`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ToolCounters {
    pub late_frames: u64,
    pub invalid_inputs: u64,
    pub dropped_sequences: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ToolAssembler {
    calls: Vec<ToolCall>,
    by_id: HashMap<String, usize>,
    pub counters: ToolCounters,
}

impl ToolAssembler {
    /// Reads one frame, appending `ToolUseStart` / `ToolInputDelta` / `ToolUseEnd` to `out`.
    pub fn frame(&mut self, frame: ToolFrame<'_>, names: &ToolNameMap, out: &mut Vec<StreamEvent>) {
        let slot = match self.by_id.get(frame.tool_use_id) {
            Some(&slot) => slot,
            None => {
                let index = self.calls.len();
                // Never seen without an id, but a client cannot answer a call it cannot name.
                let id = if frame.tool_use_id.is_empty() {
                    format!("tooluse_kiro_{index}")
                } else {
                    frame.tool_use_id.to_owned()
                };
                out.push(StreamEvent::ToolUseStart {
                    index,
                    id,
                    name: names.client_name(frame.name).to_owned(),
                });
                self.calls.push(ToolCall {
                    index,
                    carry: Utf8Carry::default(),
                    input: String::new(),
                    stopped: false,
                });
                self.by_id.insert(frame.tool_use_id.to_owned(), index);
                index
            }
        };
        let Some(call) = self.calls.get_mut(slot) else {
            return;
        };
        if call.stopped {
            self.counters.late_frames += 1;
            return;
        }
        let fragment = match frame.input {
            FrameInput::Absent => String::new(),
            FrameInput::Fragment(bytes) => {
                let decoded = call.carry.push(bytes);
                self.counters.dropped_sequences += decoded.dropped;
                decoded.text
            }
            // The whole input: only meaningful before any fragment.
            FrameInput::Whole(value) if call.input.is_empty() => value.to_string(),
            FrameInput::Whole(_) => {
                self.counters.late_frames += 1;
                String::new()
            }
        };
        if !fragment.is_empty() {
            call.input.push_str(&fragment);
            out.push(StreamEvent::ToolInputDelta {
                index: call.index,
                fragment,
            });
        }
        if frame.stop {
            call.stopped = true;
            self.counters.dropped_sequences += call.carry.flush();
            if call.input.is_empty() {
                // An empty buffer means `{}`; say so, so every consumer reads the same input.
                call.input.push_str("{}");
                out.push(StreamEvent::ToolInputDelta {
                    index: call.index,
                    fragment: "{}".to_owned(),
                });
            } else if serde_json::from_str::<serde::de::IgnoredAny>(&call.input).is_err() {
                self.counters.invalid_inputs += 1;
            }
            out.push(StreamEvent::ToolUseEnd { index: call.index });
        }
    }

    /// Calls that ended with `stop`.
    pub fn completed(&self) -> usize {
        self.calls.iter().filter(|c| c.stopped).count()
    }

    /// Marks every call without `stop` as truncated (the upstream cut it, spec §7.5) and returns
    /// their indices. Their partial input stays as streamed.
    pub fn truncate_open(&mut self) -> Vec<usize> {
        let mut truncated = Vec::new();
        for call in self.calls.iter_mut().filter(|c| !c.stopped) {
            call.stopped = true;
            self.counters.dropped_sequences += call.carry.flush();
            truncated.push(call.index);
        }
        truncated
    }
}
