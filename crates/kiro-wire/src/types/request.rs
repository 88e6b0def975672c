//! The `generateAssistantResponse` request body (spec §4.1–4.4).
//!
//! Serialising writes camelCase keys and skips `None` fields. Deserialising ignores unknown
//! fields, but fields the spec calls required (`conversationId`, `chatTriggerType`,
//! `currentMessage.userInputMessage`, and `content`, `modelId`, `origin` on user messages) have no
//! serde default: a body missing them fails to parse, which a simulator reports as the generic
//! 400 (rule V1). Everything else (shapes of `input`, schemas, alternation, pairing) is left to
//! the validator: these types only describe the shape.
//!
//! `history` is a plain `Vec`: absent and `[]` mean the same thing upstream (§4.2), so an empty
//! history is omitted when serialising. Every other list is an `Option<Vec<_>>` and written
//! exactly as the caller set it (`Some(vec![])` gives `[]`, which §4.2 says is accepted).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `origin` of every user message the IDE sends.
pub const ORIGIN_AI_EDITOR: &str = "AI_EDITOR";
/// The only `chatTriggerType` known to work (V11).
pub const CHAT_TRIGGER_MANUAL: &str = "MANUAL";
/// The `agentTaskType` the IDE sends.
pub const AGENT_TASK_VIBE: &str = "vibe";

/// The whole body of `POST {q}/generateAssistantResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateAssistantResponseRequest {
    pub conversation_state: ConversationState,
    /// The account's own profile ARN (§2.3); never with API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationState {
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_continuation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_task_type: Option<String>,
    /// Always [`CHAT_TRIGGER_MANUAL`].
    pub chat_trigger_type: String,
    /// Oldest first. Omitted when empty (see the module docs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    pub current_message: CurrentMessage,
}

/// One past turn: a single-key object naming its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HistoryEntry {
    #[serde(rename = "userInputMessage")]
    User(UserInputMessage),
    #[serde(rename = "assistantResponseMessage")]
    Assistant(AssistantResponseMessage),
}

impl HistoryEntry {
    pub fn is_user(&self) -> bool {
        matches!(self, HistoryEntry::User(_))
    }

    pub fn is_assistant(&self) -> bool {
        matches!(self, HistoryEntry::Assistant(_))
    }
}

/// The turn to answer; always a user message (V1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentMessage {
    pub user_input_message: UserInputMessage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInputMessage {
    /// May be `""` when the turn carries tool results or images (V12).
    pub content: String,
    /// Sent on every user message, history included, as the IDE does.
    pub model_id: String,
    /// [`ORIGIN_AI_EDITOR`].
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_input_message_context: Option<UserInputMessageContext>,
    /// Native reasoning / effort (§4.4); current message only. Passed through verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<Value>,
}

impl UserInputMessage {
    /// A user message with the IDE's `origin` and nothing optional set.
    pub fn new(content: impl Into<String>, model_id: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            model_id: model_id.into(),
            origin: ORIGIN_AI_EDITOR.to_owned(),
            images: None,
            user_input_message_context: None,
            additional_model_request_fields: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInputMessageContext {
    /// Tool declarations; current message only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_results: Option<Vec<ToolResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_state: Option<EnvState>,
}

/// An entry of `tools`: a declaration, or a prompt-cache marker (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Tool {
    #[serde(rename = "toolSpecification")]
    Specification(ToolSpecification),
    #[serde(rename = "cachePoint")]
    CachePoint(CachePoint),
}

/// `{"type": "default"}`, the only cache-point type seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePoint {
    #[serde(rename = "type")]
    pub kind: String,
}

impl Default for CachePoint {
    fn default() -> Self {
        Self {
            kind: "default".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpecification {
    pub name: String,
    pub description: String,
    pub input_schema: InputSchema,
}

/// `{"json": <JSON Schema object>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSchema {
    pub json: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResult {
    pub tool_use_id: String,
    pub status: ToolResultStatus,
    pub content: Vec<ToolResultContent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolResultStatus {
    Success,
    Error,
}

/// One block of a tool result: `{"text": "..."}` or `{"json": <any>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToolResultContent {
    #[serde(rename = "text")]
    Text(String),
    #[serde(rename = "json")]
    Json(Value),
}

/// `{"operatingSystem", "currentWorkingDirectory"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_working_directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantResponseMessage {
    /// May be `""` when `tool_uses` is present (V12).
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_uses: Option<Vec<ToolUse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// At most one per turn (§4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<ReasoningContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<CachePoint>,
}

impl AssistantResponseMessage {
    pub fn new(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            tool_uses: None,
            message_id: None,
            reasoning_content: None,
            cache_point: None,
        }
    }
}

/// A past tool call. `input` must be a JSON object, not a string (§4.2); deserialising accepts
/// any value so that a validator can report the violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUse {
    pub tool_use_id: String,
    pub name: String,
    pub input: Value,
}

/// Replayed thinking (§4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReasoningContent {
    #[serde(rename = "reasoningText")]
    Text(ReasoningText),
    /// Base64 of the redacted thinking.
    #[serde(rename = "redactedContent")]
    Redacted(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningText {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub format: ImageFormat,
    pub source: ImageSource,
}

/// `{"bytes": "<standard base64, no data: prefix>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSource {
    pub bytes: String,
}

/// The four accepted image formats, lowercase on the wire. Deserialising is strict (no `jpg`):
/// the upstream is; use [`ImageFormat::from_name`] on client input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    /// The format named by the leading magic bytes (§4.3), or `None`.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        const PNG: &[u8] = &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if bytes.starts_with(PNG) {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"GIF8") {
            Some(ImageFormat::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }

    /// Reads a client's format name or media type (`png`, `JPG`, `image/jpeg`, ...).
    pub fn from_name(name: &str) -> Option<ImageFormat> {
        let name = name.trim();
        let name = name
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("image/"))
            .map_or(name, |_| &name[6..]);
        match name.to_ascii_lowercase().as_str() {
            "png" => Some(ImageFormat::Png),
            "jpeg" | "jpg" => Some(ImageFormat::Jpeg),
            "gif" => Some(ImageFormat::Gif),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Gif => "gif",
            ImageFormat::Webp => "webp",
        }
    }

    /// The media type (`image/png`, ...), for dialects that label images that way.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_every_format() {
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(ImageFormat::sniff(&png), Some(ImageFormat::Png));
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::sniff(b"GIF89a..."), Some(ImageFormat::Gif));
        assert_eq!(
            ImageFormat::sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        // RIFF but not WebP (a WAV file), truncated headers, empty input.
        assert_eq!(ImageFormat::sniff(b"RIFF\x10\x00\x00\x00WAVEfmt "), None);
        assert_eq!(ImageFormat::sniff(b"RIFF\x10\x00"), None);
        assert_eq!(ImageFormat::sniff(&png[..7]), None);
        assert_eq!(ImageFormat::sniff(&[]), None);
    }

    #[test]
    fn names_and_media_types() {
        assert_eq!(ImageFormat::from_name("JPG"), Some(ImageFormat::Jpeg));
        assert_eq!(
            ImageFormat::from_name("image/webp"),
            Some(ImageFormat::Webp)
        );
        assert_eq!(ImageFormat::from_name("Image/PNG"), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::from_name("image/bmp"), None);
        assert_eq!(ImageFormat::from_name("é"), None);
        assert_eq!(ImageFormat::Gif.media_type(), "image/gif");
        assert_eq!(
            serde_json::to_string(&ImageFormat::Jpeg).unwrap(),
            r#""jpeg""#
        );
        assert!(serde_json::from_str::<ImageFormat>(r#""jpg""#).is_err());
    }
}
