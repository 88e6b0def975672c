//! Assembling the `generateAssistantResponse` body from normalised turns (N2 system pair, N10
//! names, N14 model id and origin, §4.2 ids and constants).

use kiro_wire::types::request::{
    AGENT_TASK_VIBE, AssistantResponseMessage, CHAT_TRIGGER_MANUAL, ConversationState,
    CurrentMessage, GenerateAssistantResponseRequest, HistoryEntry, InputSchema, Tool,
    ToolSpecification, ToolUse, UserInputMessage, UserInputMessageContext,
};
use sha2::{Digest, Sha256};

use super::names::NameAssignment;
use super::reasoning::ThinkingPlan;
use super::tools::Declared;
use super::turns::{SYSTEM_ACK, Turn};
use crate::canonical::{Part, Request, Role};

/// Everything [`build`] needs besides the turns.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub system: Option<&'a str>,
    /// N10 names for tool specs and history tool uses.
    pub names: &'a NameAssignment,
    /// `tool_choice` as a sentence for the current message.
    pub instruction: Option<&'a str>,
    pub thinking: &'a ThinkingPlan,
    pub model: &'a str,
    pub conversation_id: &'a str,
    pub continuation_id: &'a str,
    pub profile_arn: Option<&'a str>,
}

/// `turns` alternate user/assistant, start with a user turn and end with the user turn that
/// becomes the current message. The tool declarations are moved into the body (schemas can be
/// tens of kilobytes).
pub(crate) fn build(
    frame: &Frame<'_>,
    turns: &[Turn<'_>],
    declared: Vec<Declared>,
) -> GenerateAssistantResponseRequest {
    let (current, past) = match turns.split_last() {
        Some((last, past)) => (Some(last), past),
        None => (None, turns),
    };
    let mut history = Vec::with_capacity(past.len() + 2);
    if let Some(system) = frame.system {
        let content = match &frame.thinking.tags {
            Some(tags) => format!("{tags}\n{system}"),
            None => system.to_owned(),
        };
        history.push(HistoryEntry::User(UserInputMessage::new(
            content,
            frame.model,
        )));
        history.push(HistoryEntry::Assistant(AssistantResponseMessage::new(
            SYSTEM_ACK,
        )));
    }
    for turn in past {
        let entry = match turn.role {
            Role::User => HistoryEntry::User(user_message(frame, turn, history.is_empty())),
            Role::Assistant => HistoryEntry::Assistant(assistant_message(frame, turn)),
        };
        history.push(entry);
    }

    let mut message = match current {
        Some(turn) => user_message(frame, turn, history.is_empty()),
        None => UserInputMessage::new(String::new(), frame.model),
    };
    if let Some(instruction) = frame.instruction {
        message.content = if message.content.is_empty() {
            instruction.to_owned()
        } else {
            format!("{}\n\n{instruction}", message.content)
        };
    }
    let tools: Vec<Tool> = declared
        .into_iter()
        .map(|d| {
            Tool::Specification(ToolSpecification {
                name: frame.names.upstream(&d.client_name).to_owned(),
                description: d.description,
                input_schema: InputSchema { json: d.schema },
            })
        })
        .collect();
    if !tools.is_empty() {
        message
            .user_input_message_context
            .get_or_insert_with(UserInputMessageContext::default)
            .tools = Some(tools);
    }
    message.additional_model_request_fields = frame.thinking.fields.clone();

    GenerateAssistantResponseRequest {
        conversation_state: ConversationState {
            conversation_id: frame.conversation_id.to_owned(),
            agent_continuation_id: Some(frame.continuation_id.to_owned()),
            agent_task_type: Some(AGENT_TASK_VIBE.to_owned()),
            chat_trigger_type: CHAT_TRIGGER_MANUAL.to_owned(),
            history,
            current_message: CurrentMessage {
                user_input_message: message,
            },
        },
        profile_arn: frame.profile_arn.map(str::to_owned),
    }
}

fn user_message(frame: &Frame<'_>, turn: &Turn<'_>, first: bool) -> UserInputMessage {
    let text = turn.text();
    let content = match (&frame.thinking.tags, first) {
        (Some(tags), true) => format!("{tags}\n{text}"),
        _ => text,
    };
    let mut message = UserInputMessage::new(content, frame.model);
    if !turn.images.is_empty() {
        message.images = Some(turn.images.iter().map(|i| i.to_wire()).collect());
    }
    if !turn.tool_results.is_empty() {
        message.user_input_message_context = Some(UserInputMessageContext {
            tool_results: Some(turn.tool_results.clone()),
            ..UserInputMessageContext::default()
        });
    }
    message
}

fn assistant_message(frame: &Frame<'_>, turn: &Turn<'_>) -> AssistantResponseMessage {
    let mut message = AssistantResponseMessage::new(turn.text());
    if !turn.tool_uses.is_empty() {
        message.tool_uses = Some(
            turn.tool_uses
                .iter()
                .map(|u| ToolUse {
                    tool_use_id: u.tool_use_id.clone(),
                    name: frame.names.upstream(&u.name).to_owned(),
                    input: u.input.clone(),
                })
                .collect(),
        );
    }
    message.reasoning_content = turn.reasoning.clone();
    message
}

/// A UUID (v5 layout) from a SHA-256 of a label and some text: stable for the same input.
pub(crate) fn derived_uuid(label: &str, input: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update([0]);
    hasher.update(input.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// §4.2 `conversationId`: the service's stable id, else the client's session id (verbatim when
/// it is a UUID), else a hash of the system prompt and the first user message, so every turn of
/// one conversation gets the same id.
pub(crate) fn conversation_id(req: &Request, given: Option<&str>) -> String {
    if let Some(id) = given.filter(|id| !id.is_empty()) {
        return id.to_owned();
    }
    if let Some(session) = req.metadata.session_id.as_deref().filter(|s| !s.is_empty()) {
        return match uuid::Uuid::parse_str(session) {
            Ok(id) => id.hyphenated().to_string(),
            Err(_) => derived_uuid("session", session),
        };
    }
    let mut seed = req.system.join("\n\n");
    seed.push('\u{0}');
    let first_user = req.messages.iter().find(|m| m.role == Role::User);
    for part in first_user.into_iter().flat_map(|m| m.content.iter()) {
        if let Part::Text(text) = part {
            seed.push_str(text);
            seed.push('\n');
        }
    }
    derived_uuid("conversation", &seed)
}
