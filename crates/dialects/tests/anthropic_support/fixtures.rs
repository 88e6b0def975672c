//! Capture bodies and a reviewable JSON view of a decoded request.

use std::path::PathBuf;

use dialects::canonical::{Image, Part, Request, ToolResultContent};
use serde_json::{Value, json};

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fixture name (without `.json`), sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Long strings shortened so a 100 KB Claude Code request makes a readable snapshot.
pub fn clip(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_owned();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… (+{} chars)", count - max)
}

fn image(img: &Image) -> Value {
    match img {
        Image::Base64 { media_type, data } => {
            json!({ "base64": { "media_type": media_type, "data": clip(data, 24) } })
        }
        Image::Url(url) => json!({ "url": url }),
    }
}

fn part(p: &Part) -> Value {
    match p {
        Part::Text(t) => json!({ "text": clip(t, 160) }),
        Part::Image(img) => json!({ "image": image(img) }),
        Part::ToolUse(tu) => {
            json!({ "tool_use": { "id": tu.id, "name": tu.name, "input": tu.input } })
        }
        Part::ToolResult(tr) => {
            let content: Vec<Value> = tr
                .content
                .iter()
                .map(|c| match c {
                    ToolResultContent::Text(t) => json!({ "text": clip(t, 160) }),
                    ToolResultContent::Image(img) => json!({ "image": image(img) }),
                    ToolResultContent::Json(v) => json!({ "json": v }),
                })
                .collect();
            json!({ "tool_result": { "tool_use_id": tr.tool_use_id, "is_error": tr.is_error, "content": content } })
        }
        Part::Thinking { text, signature } => {
            json!({ "thinking": { "text": clip(text, 160), "signature": signature } })
        }
        Part::RedactedThinking { data } => json!({ "redacted_thinking": clip(data, 40) }),
    }
}

/// Small schemas in full; big ones as a summary (size and top-level keys).
fn schema(v: &Value) -> Value {
    let text = v.to_string();
    if text.len() <= 240 {
        return v.clone();
    }
    let keys: Vec<&str> = v
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    json!(format!("<{} bytes; keys {}>", text.len(), keys.join(",")))
}

pub fn view(req: &Request) -> Value {
    json!({
        "model": req.model,
        "max_tokens": req.max_tokens,
        "stream": req.stream,
        "include_usage": req.include_usage,
        "system": req.system.iter().map(|s| clip(s, 120)).collect::<Vec<_>>(),
        "messages": req.messages.iter().map(|m| json!({
            "role": format!("{:?}", m.role),
            "content": m.content.iter().map(part).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tools": req.tools.iter().map(|t| json!({
            "name": t.name,
            "description": clip(&t.description, 60),
            "input_schema": schema(&t.input_schema),
        })).collect::<Vec<_>>(),
        "server_tools": req.server_tools.iter().map(|t| json!({
            "kind": t.kind, "name": t.name, "config": t.config,
        })).collect::<Vec<_>>(),
        "tool_choice": format!("{:?}", req.tool_choice),
        "stop_sequences": req.stop_sequences,
        "thinking": format!("{:?}", req.thinking),
        "effort": req.effort.map(|e| e.as_str()),
        "metadata": { "user_id": req.metadata.user_id, "session_id": req.metadata.session_id },
    })
}
