//! `messages`: roles `system`, `developer`, `user`, `assistant`, `tool` and the legacy
//! `function`, turned into the canonical system prompt and turns.
//!
//! Decisions worth knowing:
//! - `system` and `developer` messages go to [`Request::system`](crate::canonical::Request) in
//!   order, wherever they appear (aider sends a trailing one); spec N1.
//! - Consecutive `tool` (and `function`) messages become one user turn of tool results.
//! - Assistant `reasoning_content` (echoed by some clients) becomes an unsigned thinking part
//!   ahead of the text; the mapping decides whether to forward it (N12).
//! - Tool call `arguments` that are not a JSON object become `{}` (spec N1), never an error.
//! - Legacy `function_call`s have no id: each gets `call_legacy_<message index>`, and a later
//!   `function` message takes the id of the latest unanswered call of the same name. A
//!   `function` message with no such call uses the function name as its id (the mapping's
//!   tool-pairing repair, N6, then keeps its text as plain user text).

use serde_json::{Map, Value};

use super::content;
use super::param::{self, Path};
use crate::canonical::{ClientError, Message, Part, Role, ToolResult, ToolResultContent, ToolUse};

const ROLES: &str = "'system', 'developer', 'user', 'assistant', 'tool' and 'function'";

/// The decoded conversation: system segments and turns.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    pub(super) system: Vec<String>,
    pub(super) messages: Vec<Message>,
    /// The last turn holds tool results from `tool`/`function` messages, so the next such
    /// message joins it.
    tool_turn_open: bool,
    legacy_calls: Vec<LegacyCall>,
}

#[derive(Debug)]
struct LegacyCall {
    name: String,
    id: String,
    answered: bool,
}

pub(super) fn decode_messages(value: Value) -> Result<Conversation, ClientError> {
    let path = Path::Field("messages");
    let items = param::into_array(value, path)?;
    if items.is_empty() {
        return Err(param::invalid(
            path,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
        ));
    }
    let mut conversation = Conversation {
        messages: Vec::with_capacity(items.len()),
        ..Conversation::default()
    };
    for (i, item) in items.into_iter().enumerate() {
        let msg_path = path.at(i);
        let map = param::into_object(item, msg_path)?;
        conversation.push(map, i, msg_path)?;
    }
    Ok(conversation)
}

impl Conversation {
    fn push(
        &mut self,
        mut map: Map<String, Value>,
        index: usize,
        path: Path<'_>,
    ) -> Result<(), ClientError> {
        let role_path = path.key("role");
        let role = param::required_string(&mut map, role_path)?;
        // `name` (participant name) is accepted on every role; it has no upstream equivalent.
        param::check_type(map.get("name"), path.key("name"), param::Expected::String)?;
        match role.as_str() {
            "system" | "developer" => {
                let content = param::require(&mut map, path.key("content"))?;
                let texts = content::text_content(content, path.key("content"))?;
                self.system
                    .extend(texts.into_iter().filter(|t| !t.is_empty()));
            }
            "user" => {
                let content = param::require(&mut map, path.key("content"))?;
                let parts = content::user_content(content, path.key("content"))?;
                self.push_turn(Role::User, parts);
            }
            "assistant" => {
                let parts = self.assistant_parts(map, index, path)?;
                self.push_turn(Role::Assistant, parts);
            }
            "tool" => {
                let id = param::required_string(&mut map, path.key("tool_call_id"))?;
                let content = param::require(&mut map, path.key("content"))?;
                let content = content::tool_content(content, path.key("content"))?;
                self.push_tool_result(id, content);
            }
            "function" => {
                let name = param::required_string(&mut map, path.key("name"))?;
                let content = param::require(&mut map, path.key("content"))?;
                let content = content::tool_content(content, path.key("content"))?;
                let id = self.answer_legacy_call(name);
                self.push_tool_result(id, content);
            }
            other => return Err(param::invalid_value(role_path, other, ROLES)),
        }
        Ok(())
    }

    fn push_turn(&mut self, role: Role, content: Vec<Part>) {
        self.tool_turn_open = false;
        self.messages.push(Message { role, content });
    }

    fn push_tool_result(&mut self, tool_use_id: String, content: Vec<ToolResultContent>) {
        let part = Part::ToolResult(ToolResult {
            tool_use_id,
            content,
            is_error: false,
        });
        match self.messages.last_mut() {
            Some(last) if self.tool_turn_open => last.content.push(part),
            _ => {
                self.messages.push(Message {
                    role: Role::User,
                    content: vec![part],
                });
                self.tool_turn_open = true;
            }
        }
    }

    fn assistant_parts(
        &mut self,
        mut map: Map<String, Value>,
        index: usize,
        path: Path<'_>,
    ) -> Result<Vec<Part>, ClientError> {
        let mut parts = Vec::new();
        // No let-chains: the workspace MSRV (1.85) predates them.
        let reasoning = param::opt_string(&mut map, path, "reasoning_content")?;
        if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
            parts.push(Part::Thinking {
                text,
                signature: None,
            });
        }
        // `refusal` is what the model declined to say; there is nothing to replay.
        let content = param::take(&mut map, "content");
        // Clients send `content: ""` next to tool calls; an empty text part carries nothing.
        for text in content::assistant_content(content, path.key("content"))? {
            if !text.is_empty() {
                parts.push(Part::Text(text));
            }
        }
        if let Some(calls) = param::take(&mut map, "tool_calls") {
            let calls_path = path.key("tool_calls");
            for (j, call) in param::into_array(calls, calls_path)?
                .into_iter()
                .enumerate()
            {
                parts.push(Part::ToolUse(tool_call(call, calls_path.at(j))?));
            }
        }
        if let Some(call) = param::take(&mut map, "function_call") {
            let call_path = path.key("function_call");
            let (name, input) = function(call, call_path)?;
            let id = format!("call_legacy_{index}");
            self.legacy_calls.push(LegacyCall {
                name: name.clone(),
                id: id.clone(),
                answered: false,
            });
            parts.push(Part::ToolUse(ToolUse { id, name, input }));
        }
        Ok(parts)
    }

    /// The id for a legacy `function` result named `name` (see the module notes).
    fn answer_legacy_call(&mut self, name: String) -> String {
        match self
            .legacy_calls
            .iter_mut()
            .rev()
            .find(|call| !call.answered && call.name == name)
        {
            Some(call) => {
                call.answered = true;
                call.id.clone()
            }
            None => name,
        }
    }
}

/// One `tool_calls[j]` entry: `{id, type:"function", function:{name, arguments}}`.
fn tool_call(value: Value, path: Path<'_>) -> Result<ToolUse, ClientError> {
    let mut map = param::into_object(value, path)?;
    if let Some(kind) = param::opt_string(&mut map, path, "type")? {
        if kind != "function" {
            return Err(param::invalid_value(path.key("type"), &kind, "'function'"));
        }
    }
    let id = param::required_string(&mut map, path.key("id"))?;
    let function_path = path.key("function");
    let (name, input) = function(param::require(&mut map, function_path)?, function_path)?;
    Ok(ToolUse { id, name, input })
}

/// `{name, arguments}` of a tool call or a legacy `function_call`.
fn function(value: Value, path: Path<'_>) -> Result<(String, Value), ClientError> {
    let mut map = param::into_object(value, path)?;
    let name = param::required_string(&mut map, path.key("name"))?;
    let input = match param::take(&mut map, "arguments") {
        None => empty_object(),
        Some(Value::String(args)) => parse_arguments(&args),
        // Not what the API documents, but some clients send the object itself.
        Some(Value::Object(obj)) => Value::Object(obj),
        Some(other) => {
            return Err(param::invalid_type(
                path.key("arguments"),
                "a string",
                &other,
            ));
        }
    };
    Ok((name, input))
}

/// Spec N1: arguments that are not a JSON object become `{}`. Tool inputs are objects upstream,
/// and a half-written argument string must not fail the whole conversation.
fn parse_arguments(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(Value::Object(obj)) => Value::Object(obj),
        _ => empty_object(),
    }
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(messages: Value) -> Result<Conversation, ClientError> {
        decode_messages(messages)
    }

    #[test]
    fn arguments_that_are_not_objects_become_empty() {
        assert_eq!(parse_arguments("{\"a\":1}"), json!({"a": 1}));
        assert_eq!(parse_arguments("{\"a\":"), json!({}));
        assert_eq!(parse_arguments(""), json!({}));
        assert_eq!(parse_arguments("[1]"), json!({}));
    }

    #[test]
    fn legacy_results_pair_with_the_latest_unanswered_call() {
        let conv = decode(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null,
             "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "one"},
            {"role": "function", "name": "g", "content": "orphan"},
        ]))
        .unwrap();
        let Part::ToolResult(first) = &conv.messages[2].content[0] else {
            panic!("expected a tool result")
        };
        assert_eq!(first.tool_use_id, "call_legacy_1");
        let Part::ToolResult(second) = &conv.messages[2].content[1] else {
            panic!("expected a tool result")
        };
        assert_eq!(second.tool_use_id, "g");
    }
}
