//! Builders for canonical requests, the mapping call, and the simulator's V1–V13 check.
#![expect(dead_code, reason = "each test file uses a different subset")]

use base64::Engine as _;
use dialects::canonical::{
    Image, Message, Part, Request, Role, Tool, ToolResult, ToolResultContent, ToolUse,
};
use dialects::kiro::request::{MappedRequest, MappingOptions, map_request};
use dialects::models;
use kiro_sim::models::Tier;
use kiro_sim::validate::{AccountView, ValidatedRequest, ValidationConfig, validate};
use serde_json::{Value, json};

pub const SONNET: &str = "claude-sonnet-4.5";
pub const OPUS: &str = "claude-opus-4.7";
/// A fixed conversation id so snapshots are stable.
pub const CONVERSATION: &str = "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5";

/// A 1×1 PNG.
pub const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

pub fn text(s: &str) -> Part {
    Part::Text(s.to_owned())
}

pub fn user(parts: Vec<Part>) -> Message {
    Message {
        role: Role::User,
        content: parts,
    }
}

pub fn assistant(parts: Vec<Part>) -> Message {
    Message {
        role: Role::Assistant,
        content: parts,
    }
}

pub fn user_text(s: &str) -> Message {
    user(vec![text(s)])
}

pub fn assistant_text(s: &str) -> Message {
    assistant(vec![text(s)])
}

pub fn tool_use(id: &str, name: &str, input: Value) -> Part {
    Part::ToolUse(ToolUse {
        id: id.to_owned(),
        name: name.to_owned(),
        input,
    })
}

pub fn tool_result(id: &str, content: &str) -> Part {
    Part::ToolResult(ToolResult {
        tool_use_id: id.to_owned(),
        content: vec![ToolResultContent::Text(content.to_owned())],
        is_error: false,
    })
}

pub fn png(media_type: &str) -> Image {
    Image::Base64 {
        media_type: Some(media_type.to_owned()),
        data: PNG_1X1.to_owned(),
    }
}

pub fn tool(name: &str, description: &str, schema: Value) -> Tool {
    Tool {
        name: name.to_owned(),
        description: description.to_owned(),
        input_schema: schema,
    }
}

pub fn simple_tool(name: &str) -> Tool {
    tool(
        name,
        &format!("The {name} tool."),
        json!({"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}),
    )
}

pub fn request(model: &str, messages: Vec<Message>) -> Request {
    Request {
        model: model.to_owned(),
        messages,
        ..Request::default()
    }
}

/// Options for `model` with the static spec and a fixed conversation id.
pub fn options(model: &str) -> MappingOptions {
    let spec = models::spec(model)
        .cloned()
        .unwrap_or_else(|| panic!("no static spec for {model}"));
    let mut opts = MappingOptions::new(model, spec);
    opts.conversation_id = Some(CONVERSATION.to_owned());
    opts
}

pub fn map(req: &Request, opts: &MappingOptions) -> MappedRequest {
    map_request(req, opts).unwrap_or_else(|e| panic!("mapping failed: {e:?}"))
}

/// The body as JSON, read back from the bytes that would be sent.
pub fn body_json(mapped: &MappedRequest) -> Value {
    let from_bytes: Value = serde_json::from_slice(&mapped.json).unwrap_or_else(|e| panic!("{e}"));
    let from_struct = serde_json::to_value(&mapped.body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_bytes, from_struct, "json and body disagree");
    from_bytes
}

/// The simulator's independent V1–V13 check, as a Pro account with its own profile.
pub fn sim_accepts(mapped: &MappedRequest) -> ValidatedRequest {
    validate(
        &mapped.json,
        &ValidationConfig::default(),
        AccountView {
            tier: Tier::Pro,
            is_api_key: false,
        },
    )
    .unwrap_or_else(|r| {
        panic!(
            "simulator rejected the body: {r:?}\n{}",
            String::from_utf8_lossy(&mapped.json)
        )
    })
}

pub fn history(body: &Value) -> &Vec<Value> {
    static EMPTY: Vec<Value> = Vec::new();
    body["conversationState"]["history"]
        .as_array()
        .unwrap_or(&EMPTY)
}

pub fn current(body: &Value) -> &Value {
    &body["conversationState"]["currentMessage"]["userInputMessage"]
}

/// Standard base64 of raw bytes.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Body of a capture copied by the Anthropic decoder's tests.
pub fn capture(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anthropic")
        .join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
