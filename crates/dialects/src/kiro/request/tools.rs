//! N6 tool pairing repair and N7 placeholder tool specs (spec §4.6), plus the tool list of the
//! current message (client tools, `tool_choice`, N8–N10 applied).

use std::collections::{BTreeSet, HashSet};

use kiro_wire::types::request as wire;
use serde_json::{Value, json};

use super::names::{self, NameAssignment};
use super::schema;
use super::turns::Turn;
use crate::canonical::{ClientError, Request, Role, ToolChoice};

/// Text of the synthetic result for a tool call the client never answered (N6).
pub(crate) const NOT_EXECUTED: &str = "Tool call was not executed.";
/// Description of a tool used in history but not declared (N7).
pub(crate) const PLACEHOLDER_DESCRIPTION: &str = "Tool used earlier in this conversation.";

/// Schema of a placeholder tool (N7).
pub(crate) fn placeholder_schema() -> Value {
    json!({"type": "object", "properties": {}, "additionalProperties": true})
}

/// N6: every result answers a tool use of the previous assistant turn (orphans become user
/// text), results are unique by id (the last wins), and every tool use gets a result in the next
/// user turn (`Tool call was not executed.` when the client sent none). Also drops repeated
/// tool-use ids within one assistant turn (V3), keeping the first.
pub(crate) fn repair_pairing(turns: &mut Vec<Turn<'_>>, notes: &mut Vec<String>) {
    let mut i = 0;
    while i < turns.len() {
        match turns[i].role {
            Role::Assistant => {
                let turn = &mut turns[i];
                let before = turn.tool_uses.len();
                let mut seen = HashSet::new();
                turn.tool_uses
                    .retain(|u| seen.insert(u.tool_use_id.clone()));
                if turn.tool_uses.len() < before {
                    notes.push(format!(
                        "N6: dropped {} repeated tool-use id(s)",
                        before - turn.tool_uses.len()
                    ));
                }
                if !turns[i].tool_uses.is_empty()
                    && turns.get(i + 1).is_none_or(|t| t.role != Role::User)
                {
                    turns.insert(i + 1, Turn::new(Role::User));
                }
            }
            Role::User => {
                let expected: Vec<String> = match i.checked_sub(1).map(|p| &turns[p]) {
                    Some(prev) if prev.role == Role::Assistant => prev
                        .tool_uses
                        .iter()
                        .map(|u| u.tool_use_id.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                repair_results(&mut turns[i], &expected, notes);
            }
        }
        i += 1;
    }
}

fn repair_results(turn: &mut Turn<'_>, expected: &[String], notes: &mut Vec<String>) {
    let results = std::mem::take(&mut turn.tool_results);
    // Keep the last result per id, at the position of that last occurrence.
    let mut kept: Vec<wire::ToolResult> = Vec::with_capacity(results.len());
    for result in results {
        if !expected.contains(&result.tool_use_id) {
            notes.push(format!(
                "N6: tool result {} answers no tool call of the previous turn; kept as text",
                result.tool_use_id
            ));
            let text = result_text(&result);
            if !text.is_empty() {
                turn.texts.push(text);
            }
            continue;
        }
        if let Some(pos) = kept
            .iter()
            .position(|r| r.tool_use_id == result.tool_use_id)
        {
            kept.remove(pos);
            notes.push(format!(
                "N6: duplicate tool result {}; kept the last",
                result.tool_use_id
            ));
        }
        kept.push(result);
    }
    for id in expected {
        if !kept.iter().any(|r| &r.tool_use_id == id) {
            notes.push(format!(
                "N6: tool call {id} had no result; marked not executed"
            ));
            kept.push(wire::ToolResult {
                tool_use_id: id.clone(),
                status: wire::ToolResultStatus::Error,
                content: vec![wire::ToolResultContent::Text(NOT_EXECUTED.to_owned())],
            });
        }
    }
    turn.tool_results = kept;
}

fn result_text(result: &wire::ToolResult) -> String {
    let parts: Vec<String> = result
        .content
        .iter()
        .map(|c| match c {
            wire::ToolResultContent::Text(t) => t.clone(),
            wire::ToolResultContent::Json(v) => v.to_string(),
        })
        .filter(|t| !t.is_empty())
        .collect();
    parts.join("\n\n")
}

/// A tool declaration before renaming: the client's name, and the upstream-ready description
/// and schema.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub client_name: String,
    pub description: String,
    pub schema: Value,
}

/// The tools of the current message and the name mapping for the whole body.
#[derive(Debug, Clone)]
pub(crate) struct ToolSet {
    pub declared: Vec<Declared>,
    pub names: NameAssignment,
    /// `tool_choice` as an instruction appended to the current message, if any.
    pub instruction: Option<String>,
}

/// Builds the current message's tools: the client's tools (all of them, or with
/// `tool_choice: none` only those history needs), N7 placeholders for tools used in history but
/// not declared, N8 schema repair, N9 descriptions, N10 names.
pub(crate) fn declare(
    req: &Request,
    turns: &[Turn<'_>],
    description_limit: usize,
    notes: &mut Vec<String>,
) -> Result<ToolSet, ClientError> {
    let used: BTreeSet<String> = turns
        .iter()
        .flat_map(|t| t.tool_uses.iter())
        .map(|u| u.name.to_lowercase())
        .collect();

    let mut declared: Vec<Declared> = Vec::with_capacity(req.tools.len());
    let mut seen = HashSet::new();
    for tool in &req.tools {
        if !seen.insert(tool.name.as_str()) {
            notes.push(format!("tools: duplicate tool {:?} dropped", tool.name));
            continue;
        }
        if req.tool_choice == ToolChoice::None && !used.contains(&tool.name.to_lowercase()) {
            continue;
        }
        let (description, truncated) =
            names::description(&tool.description, &tool.name, description_limit);
        if truncated {
            notes.push(format!("N9: description of {} truncated", tool.name));
        }
        let (schema, repaired) = schema::repair(&tool.input_schema);
        if repaired {
            notes.push(format!("N8: input schema of {} repaired", tool.name));
        }
        declared.push(Declared {
            client_name: tool.name.clone(),
            description,
            schema,
        });
    }
    if req.tool_choice == ToolChoice::None && !req.tools.is_empty() {
        notes.push("tool_choice none: client tools not offered to the model".into());
    }

    // N7, in first-use order.
    for tool_use in turns.iter().flat_map(|t| t.tool_uses.iter()) {
        let missing = !declared
            .iter()
            .any(|d| d.client_name.eq_ignore_ascii_case(&tool_use.name));
        if missing {
            notes.push(format!(
                "N7: placeholder spec for {} (used in history, not declared)",
                tool_use.name
            ));
            let (description, _) =
                names::description(PLACEHOLDER_DESCRIPTION, &tool_use.name, description_limit);
            declared.push(Declared {
                client_name: tool_use.name.clone(),
                description,
                schema: placeholder_schema(),
            });
        }
    }

    let all_names = declared.iter().map(|d| d.client_name.as_str()).chain(
        turns
            .iter()
            .flat_map(|t| t.tool_uses.iter())
            .map(|u| u.name.as_str()),
    );
    let names = names::assign(all_names);
    if !names.map.is_empty() {
        notes.push(format!("N10: {} tool name(s) rewritten", names.map.len()));
    }

    let instruction = choice_instruction(&req.tool_choice, &declared, &names, notes)?;
    Ok(ToolSet {
        declared,
        names,
        instruction,
    })
}

/// The upstream has no `tool_choice`: `any` and a named tool become one short sentence at the
/// end of the current message; `none` is handled by not offering the tools.
fn choice_instruction(
    choice: &ToolChoice,
    declared: &[Declared],
    names: &NameAssignment,
    notes: &mut Vec<String>,
) -> Result<Option<String>, ClientError> {
    match choice {
        ToolChoice::Auto | ToolChoice::None => Ok(None),
        ToolChoice::Any if declared.is_empty() => {
            notes.push("tool_choice any without tools: ignored".into());
            Ok(None)
        }
        ToolChoice::Any => Ok(Some(
            "Respond by calling one or more of the available tools.".to_owned(),
        )),
        ToolChoice::Tool(name) => {
            let found = declared
                .iter()
                .find(|d| d.client_name == *name)
                .or_else(|| {
                    declared
                        .iter()
                        .find(|d| d.client_name.eq_ignore_ascii_case(name))
                });
            match found {
                Some(d) => Ok(Some(format!(
                    "Respond by calling the {} tool.",
                    names.upstream(&d.client_name)
                ))),
                None => Err(ClientError::invalid_param(
                    "tool_choice",
                    format!("tool_choice names tool {name:?}, which is not in tools"),
                )),
            }
        }
    }
}
