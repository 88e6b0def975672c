//! Canonical events → one non-streaming `chat.completion` object: the fold of exactly what
//! [`SseEncoder`](super::SseEncoder) streams, so both paths say the same thing.
//!
//! `message.content` is null when the reply is only tool calls (as OpenAI sends it), and `""`
//! when it is empty. `reasoning_content` appears only when there was thinking. A reply that ends
//! with an error becomes that error's body and status; one that ends with neither a stop nor an
//! error is reported as a 500, since handing back a silently truncated answer would be worse.

use serde_json::{Map, Value, json};

use super::error::OpenAiErrors;
use super::reply;
use crate::canonical::{ClientError, ErrorKind, StopReason, StreamEvent, Usage};
use crate::encode::{ErrorEncoder, ReplyFolder};

/// The Chat Completions [`ReplyFolder`].
#[derive(Debug)]
pub struct Folder {
    model: String,
    id: String,
    created: i64,
    estimated_input: u64,
    text: String,
    reasoning: String,
    tool_calls: Vec<FoldedCall>,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    error: Option<ClientError>,
}

#[derive(Debug)]
struct FoldedCall {
    index: usize,
    id: String,
    name: String,
    arguments: String,
}

impl Folder {
    /// `model` is the name shown to the client (the start event's is used if it is empty).
    pub fn new(model: impl Into<String>) -> Self {
        Folder {
            model: model.into(),
            id: String::new(),
            created: 0,
            estimated_input: 0,
            text: String::new(),
            reasoning: String::new(),
            tool_calls: Vec::new(),
            usage: None,
            stop: None,
            error: None,
        }
    }

    fn call(&mut self, index: usize) -> &mut FoldedCall {
        let pos = match self.tool_calls.iter().position(|c| c.index == index) {
            Some(pos) => pos,
            None => {
                self.tool_calls.push(FoldedCall {
                    index,
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
                self.tool_calls.len() - 1
            }
        };
        &mut self.tool_calls[pos]
    }

    fn message(&self) -> Value {
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        let content = if self.text.is_empty() && !self.tool_calls.is_empty() {
            Value::Null
        } else {
            Value::String(self.text.clone())
        };
        message.insert("content".into(), content);
        message.insert("refusal".into(), Value::Null);
        if !self.reasoning.is_empty() {
            message.insert("reasoning_content".into(), json!(self.reasoning));
        }
        if !self.tool_calls.is_empty() {
            let mut calls: Vec<&FoldedCall> = self.tool_calls.iter().collect();
            calls.sort_by_key(|c| c.index);
            let calls: Vec<Value> = calls
                .into_iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    })
                })
                .collect();
            message.insert("tool_calls".into(), Value::Array(calls));
        }
        Value::Object(message)
    }
}

impl ReplyFolder for Folder {
    fn push(&mut self, event: &StreamEvent) {
        if self.error.is_some() || self.stop.is_some() {
            return;
        }
        match event {
            StreamEvent::Start(info) => {
                self.id = reply::completion_id(&info.id);
                self.model = reply::shown_model(&self.model, &info.model);
                self.created = info.created;
                self.estimated_input = info.estimated_input_tokens;
            }
            StreamEvent::ThinkingDelta(text) => self.reasoning.push_str(text),
            StreamEvent::TextDelta(text) => self.text.push_str(text),
            StreamEvent::ToolUseStart { index, id, name } => {
                let call = self.call(*index);
                call.id.clone_from(id);
                call.name.clone_from(name);
            }
            StreamEvent::ToolInputDelta { index, fragment } => {
                self.call(*index).arguments.push_str(fragment);
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop(reason) => self.stop = Some(reason.clone()),
            StreamEvent::Error(err) => self.error = Some(err.clone()),
            StreamEvent::ThinkingSignature(_)
            | StreamEvent::RedactedThinking(_)
            | StreamEvent::ToolUseEnd { .. } => {}
        }
    }

    fn finish(self: Box<Self>) -> (u16, Value) {
        if let Some(err) = &self.error {
            return OpenAiErrors::error_body(err);
        }
        let Some(stop) = &self.stop else {
            return OpenAiErrors::error_body(&ClientError::new(
                ErrorKind::Api,
                "The upstream reply ended before it was complete.",
            ));
        };
        let finish_reason = reply::finish_reason(stop, !self.tool_calls.is_empty());
        let usage = reply::final_usage(self.usage, self.estimated_input);
        let id = if self.id.is_empty() {
            reply::completion_id("")
        } else {
            self.id.clone()
        };
        let body = json!({
            "id": id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": null,
            "choices": [{
                "index": 0,
                "message": self.message(),
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
            "usage": reply::usage_json(&usage),
        });
        (200, body)
    }
}
