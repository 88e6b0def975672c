//! Decoding `POST /v1/messages` and `POST /v1/messages/count_tokens` bodies.
//!
//! The body is parsed once into a JSON tree and then taken apart by value, so strings move into
//! the canonical request without copies. Unknown keys (`temperature`, `top_p`, `top_k`,
//! `service_tier`, `context_management`, `cache_control`, …) are accepted and ignored; every wrong
//! type is a 400 naming the field.

use serde_json::Value;

use super::content::{decode_content, decode_system};
use super::loc::{
    Loc, Object, into_object, kind_of, opt_array, opt_bool, opt_object, opt_string, opt_u64,
    req_nonempty, req_string, take,
};
use super::metadata::session_from_user_id;
use crate::canonical::{
    ClientError, Effort, Message, Metadata, Request, Role, ServerTool, ThinkingConfig, Tool,
    ToolChoice,
};

/// Decodes a `POST /v1/messages` body. `max_tokens` is required, as in the real API.
pub fn decode_request(body: &[u8]) -> Result<Request, ClientError> {
    decode(body, Endpoint::Messages)
}

/// Decodes a `POST /v1/messages/count_tokens` body: the same shape without `max_tokens`.
pub fn decode_count_tokens(body: &[u8]) -> Result<Request, ClientError> {
    decode(body, Endpoint::CountTokens)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Messages,
    CountTokens,
}

fn decode(body: &[u8], endpoint: Endpoint) -> Result<Request, ClientError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ClientError::invalid(format!("request body is not valid JSON: {e}")))?;
    let root = Loc::Root;
    let Value::Object(mut obj) = value else {
        return Err(ClientError::invalid(format!(
            "request body must be a JSON object, got {}",
            kind_of(&value)
        )));
    };
    let mut req = Request {
        model: req_nonempty(&mut obj, "model", &root)?,
        ..Request::default()
    };

    req.max_tokens = opt_u64(&mut obj, "max_tokens", &root)?;
    match (endpoint, req.max_tokens) {
        (Endpoint::Messages, None) => return Err(root.key("max_tokens").required()),
        (_, Some(0)) => return Err(root.key("max_tokens").invalid("must be at least 1")),
        _ => {}
    }

    // Top-level `system` comes first; `role:"system"` messages follow in the order they appear.
    if let Some(system) = take(&mut obj, "system") {
        decode_system(system, &root.key("system"), &mut req.system)?;
    }
    let messages = take(&mut obj, "messages").ok_or_else(|| root.key("messages").required())?;
    decode_messages(messages, &root.key("messages"), &mut req)?;

    if let Some(tools) = opt_array(&mut obj, "tools", &root)? {
        decode_tools(tools, &root.key("tools"), &mut req)?;
    }
    if let Some(choice) = take(&mut obj, "tool_choice") {
        req.tool_choice = decode_tool_choice(choice, &root.key("tool_choice"))?;
    }
    if let Some(stops) = opt_array(&mut obj, "stop_sequences", &root)? {
        let here = root.key("stop_sequences");
        for (i, stop) in stops.into_iter().enumerate() {
            match stop {
                Value::String(s) => req.stop_sequences.push(s),
                other => return Err(here.index(i).wrong_type("a string", &other)),
            }
        }
    }
    let stream = opt_bool(&mut obj, "stream", &root)?.unwrap_or(false);
    req.stream = endpoint == Endpoint::Messages && stream;
    if let Some(thinking) = opt_object(&mut obj, "thinking", &root)? {
        req.thinking = decode_thinking(thinking, &root.key("thinking"))?;
    }
    if let Some(mut config) = opt_object(&mut obj, "output_config", &root)? {
        // Unknown effort names are ignored rather than refused: Claude Code treats a 400 here
        // as fatal, and new levels appear with new models.
        req.effort = opt_string(&mut config, "effort", &root.key("output_config"))?
            .as_deref()
            .and_then(Effort::parse);
    }
    if let Some(mut metadata) = opt_object(&mut obj, "metadata", &root)? {
        let user_id = opt_string(&mut metadata, "user_id", &root.key("metadata"))?;
        let session_id = user_id.as_deref().and_then(session_from_user_id);
        req.metadata = Metadata {
            user_id,
            session_id,
        };
    }
    Ok(req)
}

fn decode_messages(value: Value, loc: &Loc<'_>, req: &mut Request) -> Result<(), ClientError> {
    let Value::Array(items) = value else {
        return Err(loc.wrong_type("an array of messages", &value));
    };
    if items.is_empty() {
        return Err(loc.invalid("at least one message is required"));
    }
    req.messages.reserve(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let here = loc.index(i);
        let mut obj = into_object(item, &here)?;
        let role = req_string(&mut obj, "role", &here)?;
        let content_loc = here.key("content");
        let content = take(&mut obj, "content").ok_or_else(|| content_loc.required())?;
        let role = match role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "system" => {
                decode_system(content, &content_loc, &mut req.system)?;
                continue;
            }
            other => {
                return Err(here.key("role").invalid(format_args!(
                    "unexpected role `{other}` (expected `user`, `assistant` or `system`)"
                )));
            }
        };
        let content = decode_content(content, &content_loc)?;
        req.messages.push(Message { role, content });
    }
    if req.messages.is_empty() {
        return Err(loc.invalid("at least one user or assistant message is required"));
    }
    Ok(())
}

/// Custom tools (no `type`, or `type:"custom"`) keep their schema exactly as sent; any other
/// `type` (`web_search_20250305`, `bash_20250124`, `text_editor_…`) is a provider-side tool.
fn decode_tools(tools: Vec<Value>, loc: &Loc<'_>, req: &mut Request) -> Result<(), ClientError> {
    for (i, tool) in tools.into_iter().enumerate() {
        let here = loc.index(i);
        let mut obj = into_object(tool, &here)?;
        match opt_string(&mut obj, "type", &here)? {
            None => req.tools.push(decode_custom_tool(obj, &here)?),
            Some(kind) if kind == "custom" => req.tools.push(decode_custom_tool(obj, &here)?),
            Some(kind) => {
                let name = opt_string(&mut obj, "name", &here)?.unwrap_or_else(|| kind.clone());
                req.server_tools.push(ServerTool {
                    kind,
                    name,
                    config: Value::Object(obj),
                });
            }
        }
    }
    Ok(())
}

fn decode_custom_tool(mut obj: Object, loc: &Loc<'_>) -> Result<Tool, ClientError> {
    let name = req_nonempty(&mut obj, "name", loc)?;
    let description = opt_string(&mut obj, "description", loc)?.unwrap_or_default();
    let schema_loc = loc.key("input_schema");
    let input_schema = match take(&mut obj, "input_schema") {
        None => return Err(schema_loc.required()),
        Some(schema @ Value::Object(_)) => schema,
        Some(other) => return Err(schema_loc.wrong_type("an object (a JSON Schema)", &other)),
    };
    Ok(Tool {
        name,
        description,
        input_schema,
    })
}

fn decode_tool_choice(value: Value, loc: &Loc<'_>) -> Result<ToolChoice, ClientError> {
    let (kind, mut obj) = match value {
        // Not the documented form, but unambiguous.
        Value::String(kind) => (kind, Object::new()),
        Value::Object(mut obj) => (req_string(&mut obj, "type", loc)?, obj),
        other => return Err(loc.wrong_type("an object", &other)),
    };
    // `disable_parallel_tool_use` is accepted and ignored: the upstream decides.
    Ok(match kind.as_str() {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Any,
        "none" => ToolChoice::None,
        "tool" => ToolChoice::Tool(req_nonempty(&mut obj, "name", loc)?),
        other => {
            return Err(loc.key("type").invalid(format_args!(
                "unknown tool_choice type `{other}` (expected `auto`, `any`, `tool` or `none`)"
            )));
        }
    })
}

fn decode_thinking(mut obj: Object, loc: &Loc<'_>) -> Result<ThinkingConfig, ClientError> {
    let kind = req_string(&mut obj, "type", loc)?;
    Ok(match kind.as_str() {
        "enabled" => ThinkingConfig::Enabled {
            budget_tokens: opt_u64(&mut obj, "budget_tokens", loc)?,
        },
        "adaptive" => ThinkingConfig::Adaptive,
        "disabled" => ThinkingConfig::Disabled,
        // A new mode must not fail the request (Claude Code treats a thinking 400 as fatal);
        // the model default is the safe reading.
        _ => ThinkingConfig::Default,
    })
}
