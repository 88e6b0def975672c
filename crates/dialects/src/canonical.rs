//! The canonical model: one representation of a conversation and of a reply stream, between the
//! client dialects (OpenAI, Anthropic) and the Kiro mapping. Dialects never see Kiro types; the
//! Kiro mapping never sees dialect types.

use serde_json::Value;

/// A chat request, decoded from any dialect.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// The model name exactly as the client sent it (resolved later by [`crate::models`]).
    pub model: String,
    /// System prompt segments in order (Anthropic `system` blocks, OpenAI `system`/`developer`
    /// messages, Anthropic `role:"system"` messages). Joined with `\n\n` by the mapping.
    pub system: Vec<String>,
    /// The conversation, oldest first, as the client sent it (not yet normalised).
    pub messages: Vec<Message>,
    /// Client-declared function tools.
    pub tools: Vec<Tool>,
    /// Provider-side tools the client asked for (Anthropic `web_search_*` and similar).
    pub server_tools: Vec<ServerTool>,
    pub tool_choice: ToolChoice,
    /// Output cap asked by the client (`max_tokens`, `max_completion_tokens`); enforced on the
    /// output side, since the upstream has no such field.
    pub max_tokens: Option<u64>,
    /// Stop sequences (`stop`, `stop_sequences`); enforced on the output side.
    pub stop_sequences: Vec<String>,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    pub thinking: ThinkingConfig,
    /// Reasoning effort (`reasoning_effort`, Anthropic `output_config.effort`).
    pub effort: Option<Effort>,
    pub metadata: Metadata,
}

/// Who wrote a turn. System text lives in [`Request::system`]; tool results are user content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Assistant,
}

/// One turn as the client sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Part>,
}

/// One piece of a turn's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Image(Image),
    ToolUse(ToolUse),
    ToolResult(ToolResult),
    /// A thinking block echoed back in history (Anthropic), with its signature if any.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// An opaque redacted thinking block echoed back in history.
    RedactedThinking {
        data: String,
    },
}

/// An image, inline or by reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// Base64 data without any `data:` prefix, and the media type the client claimed (the
    /// mapping sniffs the real format from the bytes).
    Base64 {
        media_type: Option<String>,
        data: String,
    },
    /// A remote URL; the service fetches it behind SSRF guards or refuses it.
    Url(String),
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    pub id: String,
    pub name: String,
    /// The arguments as a JSON value (an object when the client sent valid JSON; OpenAI argument
    /// strings that do not parse become `{}`).
    pub input: Value,
}

/// The result of a tool call, sent back by the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub tool_use_id: String,
    pub content: Vec<ToolResultContent>,
    pub is_error: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolResultContent {
    Text(String),
    Image(Image),
    Json(Value),
}

/// A client-declared function tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// JSON Schema of the input, as the client sent it (repaired by the mapping, N8).
    pub input_schema: Value,
}

/// A provider-side tool (e.g. Anthropic `{"type":"web_search_20250305","name":"web_search"}`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerTool {
    pub kind: String,
    pub name: String,
    pub config: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    /// Must call some tool.
    Any,
    /// Must call this tool.
    Tool(String),
}

/// What the client asked for regarding thinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThinkingConfig {
    /// Not asked for (the model default; the mapping may disable it explicitly).
    #[default]
    Default,
    Disabled,
    Enabled {
        budget_tokens: Option<u64>,
    },
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effort {
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
    Max,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::XHigh => "xhigh",
            Effort::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<Effort> {
        Some(match s {
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            "xhigh" => Effort::XHigh,
            "max" => Effort::Max,
            _ => return None,
        })
    }
}

/// Client identity hints, used for a stable upstream `conversationId` and session stickiness.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Anthropic `metadata.user_id` / OpenAI `user`, verbatim.
    pub user_id: Option<String>,
    /// A conversation/session id when the client provides one (Claude Code puts a session UUID
    /// inside `metadata.user_id`).
    pub session_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The reply stream.
// ---------------------------------------------------------------------------------------------

/// One event of a reply, in order. Every dialect's SSE is an encoding of this sequence, and every
/// non-streaming response is its fold.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Always first.
    Start(StartInfo),
    ThinkingDelta(String),
    /// The signature of the thinking block so far (normally once, at its end).
    ThinkingSignature(String),
    RedactedThinking(String),
    TextDelta(String),
    /// A tool call begins. `index` counts tool calls in this reply from 0.
    ToolUseStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A fragment of the tool call's JSON input, as it arrives.
    ToolInputDelta {
        index: usize,
        fragment: String,
    },
    /// The tool call's input is complete.
    ToolUseEnd {
        index: usize,
    },
    /// Final usage (may be sent before `Stop`; the last one wins).
    Usage(Usage),
    /// The reply ended normally. Always last unless an `Error` ends it.
    Stop(StopReason),
    /// The reply failed after it started; ends the stream.
    Error(ClientError),
}

/// What is known when a reply starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StartInfo {
    /// Response id to show the client (`msg_…` / `chatcmpl-…` prefixes added by the dialect if
    /// absent).
    pub id: String,
    /// Model name to show the client (what it asked for).
    pub model: String,
    /// Input tokens as estimated before the upstream reported any usage.
    pub estimated_input_tokens: u64,
    /// Unix seconds.
    pub created: i64,
}

/// Token usage in Anthropic semantics (spec §7.6): `input_tokens` excludes cache reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    /// Part of `output_tokens` spent on thinking, when known.
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    /// OpenAI `prompt_tokens`: every input token, cached or not.
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence(String),
    ToolUse,
    /// The context window is full (Anthropic `model_context_window_exceeded`, OpenAI `length`).
    ContextWindowExceeded,
}

// ---------------------------------------------------------------------------------------------
// Errors shown to clients.
// ---------------------------------------------------------------------------------------------

/// The class of an error as clients see it; each dialect maps it to its own type and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400 malformed or invalid request.
    InvalidRequest,
    /// 400, the prompt does not fit the model's window (OpenAI `context_length_exceeded`,
    /// Anthropic "prompt is too long").
    ContextLengthExceeded,
    /// 401 missing or bad key.
    Authentication,
    /// 403.
    PermissionDenied,
    /// 404 unknown model or route.
    NotFound,
    /// 413 body over the limit.
    RequestTooLarge,
    /// 429 throttled (by the proxy's limits or because every account is throttled).
    RateLimited,
    /// 529 (Anthropic) / 503 (OpenAI): upstream overloaded or no account available.
    Overloaded,
    /// 500.
    Api,
    /// 504: the upstream did not answer in time.
    Timeout,
}

impl ErrorKind {
    /// The HTTP status this kind is answered with before streaming starts. Anthropic uses 529
    /// for `Overloaded`; dialects adjust where their API differs.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RequestTooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Overloaded => 529,
            ErrorKind::Api => 500,
            ErrorKind::Timeout => 504,
        }
    }

    /// Whether a client retry can help (`x-should-retry`).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::Api | ErrorKind::Timeout
        )
    }
}

/// An error as shown to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    pub kind: ErrorKind,
    pub message: String,
    /// The request field at fault, when known (OpenAI `param`), e.g. `messages[2].content`.
    pub param: Option<String>,
    /// Seconds, for `retry-after`.
    pub retry_after: Option<u64>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ClientError {
            kind,
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn invalid_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        ClientError {
            param: Some(param.into()),
            ..Self::invalid(message)
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}
