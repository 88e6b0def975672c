//! Neutral turns and the turn-shape rules: N1 convert, N2 system text, N3 merge, N4 leading
//! user turn, N5 prefill, N11 empty content (spec §4.6).
//!
//! Turns keep the client's tool names (N10 renames when the body is built) and borrow images
//! and thinking blocks from the request until N12/N13 decide what to send.

use std::borrow::Cow;

use kiro_wire::types::request as wire;
use serde_json::Value;

use crate::canonical::{Image, Message, Part, Request, Role, ToolResult, ToolResultContent};

/// Text of the assistant half of the system pair (N2).
pub(crate) const SYSTEM_ACK: &str = "I will follow these instructions.";
/// The current message when the client sent only a system prompt (N2).
pub(crate) const CONTINUE: &str = "Continue";
/// Stand-in for blank content (N4, N11).
pub(crate) const FILLER: &str = ".";

/// An image not yet checked (N13), with the request field it came from.
#[derive(Debug, Clone)]
pub(crate) struct PendingImage<'a> {
    pub image: &'a Image,
    pub param: String,
}

/// A checked image (N13): its sniffed format and standard base64, borrowed from the request
/// when the client already sent that form, so multi-megabyte data is copied only into the body.
#[derive(Debug, Clone)]
pub(crate) struct ReadyImage<'a> {
    pub format: wire::ImageFormat,
    pub base64: Cow<'a, str>,
}

impl ReadyImage<'_> {
    pub fn to_wire(&self) -> wire::Image {
        wire::Image {
            format: self.format,
            source: wire::ImageSource {
                bytes: self.base64.clone().into_owned(),
            },
        }
    }
}

/// A thinking block echoed back in history, a candidate for replay (N12).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ThinkingBlock<'a> {
    Text {
        text: &'a str,
        signature: Option<&'a str>,
    },
    Redacted(&'a str),
}

/// One turn of the conversation on its way to the upstream shape.
#[derive(Debug, Clone)]
pub(crate) struct Turn<'a> {
    pub role: Role,
    /// Text blocks, joined with `\n\n` on output.
    pub texts: Vec<String>,
    pub pending_images: Vec<PendingImage<'a>>,
    pub images: Vec<ReadyImage<'a>>,
    /// Client tool names; renamed by N10 at build time.
    pub tool_uses: Vec<wire::ToolUse>,
    pub tool_results: Vec<wire::ToolResult>,
    pub thinking: Vec<ThinkingBlock<'a>>,
    pub reasoning: Option<wire::ReasoningContent>,
}

impl<'a> Turn<'a> {
    pub fn new(role: Role) -> Self {
        Turn {
            role,
            texts: Vec::new(),
            pending_images: Vec::new(),
            images: Vec::new(),
            tool_uses: Vec::new(),
            tool_results: Vec::new(),
            thinking: Vec::new(),
            reasoning: None,
        }
    }

    pub fn user_text(text: impl Into<String>) -> Self {
        let mut turn = Turn::new(Role::User);
        turn.texts.push(text.into());
        turn
    }

    /// The content string sent upstream.
    pub fn text(&self) -> String {
        self.texts.join("\n\n")
    }

    fn is_blank(&self) -> bool {
        self.texts.iter().all(|t| t.trim().is_empty())
    }

    fn has_images(&self) -> bool {
        !self.images.is_empty() || !self.pending_images.is_empty()
    }

    fn absorb(&mut self, other: Turn<'a>) {
        self.texts.extend(other.texts);
        self.pending_images.extend(other.pending_images);
        self.images.extend(other.images);
        self.tool_uses.extend(other.tool_uses);
        self.tool_results.extend(other.tool_results);
        self.thinking.extend(other.thinking);
    }
}

/// N1: each client message becomes one turn. Text blocks are kept apart (joined on output);
/// tool results carry their text and JSON, and their images move to the turn's `images` (§4.3).
pub(crate) fn convert<'a>(req: &'a Request, notes: &mut Vec<String>) -> Vec<Turn<'a>> {
    req.messages
        .iter()
        .enumerate()
        .map(|(i, message)| convert_message(i, message, notes))
        .collect()
}

fn convert_message<'a>(index: usize, message: &'a Message, notes: &mut Vec<String>) -> Turn<'a> {
    let mut turn = Turn::new(message.role);
    for (j, part) in message.content.iter().enumerate() {
        let param = || format!("messages[{index}].content[{j}]");
        match part {
            Part::Text(text) if text.is_empty() => {}
            Part::Text(text) => turn.texts.push(text.clone()),
            Part::Image(image) => turn.pending_images.push(PendingImage {
                image,
                param: param(),
            }),
            Part::ToolUse(tool_use) => turn.tool_uses.push(wire::ToolUse {
                tool_use_id: tool_use.id.clone(),
                name: tool_use.name.clone(),
                input: tool_input(&tool_use.input, &param(), notes),
            }),
            Part::ToolResult(result) => {
                turn.tool_results
                    .push(tool_result(result, &param(), &mut turn.pending_images));
            }
            Part::Thinking { text, signature } => turn.thinking.push(ThinkingBlock::Text {
                text,
                signature: signature.as_deref(),
            }),
            Part::RedactedThinking { data } => turn.thinking.push(ThinkingBlock::Redacted(data)),
        }
    }
    turn
}

/// `toolUses[].input` must be an object (§4.2): a JSON string holding an object is parsed,
/// anything else becomes `{}`.
fn tool_input(input: &Value, param: &str, notes: &mut Vec<String>) -> Value {
    match input {
        Value::Object(_) => input.clone(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => {
                notes.push(format!(
                    "N1: {param}: tool input is not a JSON object; sent {{}}"
                ));
                Value::Object(Default::default())
            }
        },
        Value::Null => Value::Object(Default::default()),
        _ => {
            notes.push(format!(
                "N1: {param}: tool input is not a JSON object; sent {{}}"
            ));
            Value::Object(Default::default())
        }
    }
}

fn tool_result<'a>(
    result: &'a ToolResult,
    param: &str,
    images: &mut Vec<PendingImage<'a>>,
) -> wire::ToolResult {
    let mut content = Vec::new();
    let mut texts: Vec<&str> = Vec::new();
    for (k, block) in result.content.iter().enumerate() {
        match block {
            ToolResultContent::Text(text) => texts.push(text),
            ToolResultContent::Json(value) => {
                content.push(wire::ToolResultContent::Json(value.clone()))
            }
            ToolResultContent::Image(image) => images.push(PendingImage {
                image,
                param: format!("{param}.content[{k}]"),
            }),
        }
    }
    if !texts.is_empty() || content.is_empty() {
        content.insert(0, wire::ToolResultContent::Text(texts.join("\n\n")));
    }
    wire::ToolResult {
        tool_use_id: result.tool_use_id.clone(),
        status: if result.is_error {
            wire::ToolResultStatus::Error
        } else {
            wire::ToolResultStatus::Success
        },
        content,
    }
}

/// N2: the system prompt segments, joined; `None` when there is no non-blank system text.
pub(crate) fn system_text(req: &Request) -> Option<String> {
    let parts: Vec<&str> = req
        .system
        .iter()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// N3: adjacent same-role turns become one.
pub(crate) fn merge<'a>(turns: Vec<Turn<'a>>) -> Vec<Turn<'a>> {
    let mut out: Vec<Turn<'a>> = Vec::with_capacity(turns.len());
    for turn in turns {
        match out.last_mut() {
            Some(last) if last.role == turn.role => last.absorb(turn),
            _ => out.push(turn),
        }
    }
    out
}

/// N4: a conversation opening with an assistant turn gets a `.` user turn first.
pub(crate) fn lead_with_user(turns: &mut Vec<Turn<'_>>, notes: &mut Vec<String>) {
    if turns.first().is_some_and(|t| t.role == Role::Assistant) {
        turns.insert(0, Turn::user_text(FILLER));
        notes.push("N4: conversation starts with an assistant turn; prepended a user turn".into());
    }
}

/// N5: trailing assistant turns (prefill) are dropped; the upstream has none.
pub(crate) fn drop_prefill(turns: &mut Vec<Turn<'_>>, notes: &mut Vec<String>) {
    let mut dropped = 0;
    while turns.last().is_some_and(|t| t.role == Role::Assistant) {
        turns.pop();
        dropped += 1;
    }
    if dropped > 0 {
        notes.push(format!(
            "N5: dropped {dropped} trailing assistant turn(s) (prefill is not supported upstream)"
        ));
    }
}

/// N11: a user turn with nothing, or an assistant turn with no text and no tool uses, gets `.`;
/// a user turn with tool results or images keeps its (possibly empty) text. Idempotent.
pub(crate) fn fill_empty(turns: &mut [Turn<'_>]) {
    for turn in turns {
        let needs_filler = match turn.role {
            Role::User => turn.is_blank() && turn.tool_results.is_empty() && !turn.has_images(),
            Role::Assistant => turn.is_blank() && turn.tool_uses.is_empty(),
        };
        if needs_filler {
            turn.texts = vec![FILLER.to_owned()];
        }
    }
}
