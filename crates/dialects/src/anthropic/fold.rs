//! The non-streaming reply: the fold of the same events the SSE encoder writes, through the same
//! block sequencer, so it equals what an SDK assembles from the stream.

use serde_json::Value;

use super::blocks::{BlockDelta, BlockSink, BlockStart, Blocks};
use super::error::AnthropicErrors;
use super::wire::{BlockOut, InputOut, MessageHead, UsageOut, message_id, stop_fields};
use crate::canonical::{ClientError, StartInfo, StopReason, StreamEvent, Usage};
use crate::encode::{ErrorEncoder as _, ReplyFolder};

/// Folds one reply into the Anthropic message JSON (or the error body if it failed).
#[derive(Debug, Default)]
pub struct Folder {
    start: Option<StartInfo>,
    usage: Option<Usage>,
    blocks: Blocks,
    content: Vec<Block>,
    stop: Option<StopReason>,
    error: Option<ClientError>,
}

impl Folder {
    pub fn new() -> Self {
        Self::default()
    }

    fn done(&self) -> bool {
        self.stop.is_some() || self.error.is_some()
    }
}

#[derive(Debug)]
enum Block {
    Text(String),
    Thinking {
        text: String,
        signature: String,
    },
    Redacted(String),
    Tool {
        id: String,
        name: String,
        input: String,
    },
}

impl ReplyFolder for Folder {
    fn push(&mut self, event: &StreamEvent) {
        if self.done() {
            return;
        }
        match event {
            StreamEvent::Start(info) => {
                if self.start.is_none() {
                    self.start = Some(info.clone());
                }
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop(reason) => self.stop = Some(reason.clone()),
            StreamEvent::Error(err) => self.error = Some(err.clone()),
            content => self.blocks.push(content, &mut FoldSink(&mut self.content)),
        }
    }

    fn finish(mut self: Box<Self>) -> (u16, Value) {
        if let Some(err) = &self.error {
            return AnthropicErrors::error_body(err);
        }
        self.blocks.finish(&mut FoldSink(&mut self.content));
        let start = self.start.take().unwrap_or_default();
        let id = message_id(&start.id);
        // Parsed once here; a tool input that is not a JSON object becomes `{}` (clients index
        // into `input` and cannot use a raw string).
        let inputs: Vec<Value> = self
            .content
            .iter()
            .map(|block| match block {
                Block::Tool { input, .. } => parse_input(input),
                _ => Value::Null,
            })
            .collect();
        let content: Vec<BlockOut<'_>> = self
            .content
            .iter()
            .zip(&inputs)
            .map(|(block, input)| match block {
                Block::Text(text) => BlockOut::Text { text },
                Block::Thinking { text, signature } => BlockOut::Thinking {
                    thinking: text,
                    signature,
                },
                Block::Redacted(data) => BlockOut::RedactedThinking { data },
                Block::Tool { id, name, .. } => BlockOut::ToolUse {
                    id,
                    name,
                    input: InputOut::Value(input),
                },
            })
            .collect();
        let mut message = MessageHead::new(
            &id,
            &start.model,
            content,
            UsageOut::final_figures(&start, self.usage.as_ref()),
        );
        if let Some(reason) = &self.stop {
            let (stop_reason, stop_sequence) = stop_fields(reason);
            message.stop_reason = Some(stop_reason);
            message.stop_sequence = stop_sequence;
        }
        (200, serde_json::to_value(&message).unwrap_or(Value::Null))
    }
}

fn parse_input(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::Object(serde_json::Map::new()),
    }
}

struct FoldSink<'a>(&'a mut Vec<Block>);

impl BlockSink for FoldSink<'_> {
    fn start(&mut self, _index: usize, block: BlockStart<'_>) {
        // Indexes are positions: the sequencer numbers blocks in the order it starts them.
        self.0.push(match block {
            BlockStart::Text => Block::Text(String::new()),
            BlockStart::Thinking => Block::Thinking {
                text: String::new(),
                signature: String::new(),
            },
            BlockStart::RedactedThinking { data } => Block::Redacted(data.to_owned()),
            BlockStart::ToolUse { id, name } => Block::Tool {
                id: id.to_owned(),
                name: name.to_owned(),
                input: String::new(),
            },
        });
    }

    fn delta(&mut self, index: usize, delta: BlockDelta<'_>) {
        match (self.0.get_mut(index), delta) {
            (Some(Block::Text(text)), BlockDelta::Text(more)) => text.push_str(more),
            (Some(Block::Thinking { text, .. }), BlockDelta::Thinking(more)) => text.push_str(more),
            // As the SDKs do: the last signature wins.
            (Some(Block::Thinking { signature, .. }), BlockDelta::Signature(sig)) => {
                *signature = sig.to_owned()
            }
            (Some(Block::Tool { input, .. }), BlockDelta::InputJson(more)) => input.push_str(more),
            _ => {}
        }
    }

    fn stop(&mut self, _index: usize) {}
}
