//! Typed upstream events (spec §7) and the `error` / `exception` frames (spec §8.4).
//!
//! [`Event::from_frame`] never drops a frame: event types it does not model are kept as
//! [`Event::Legacy`] or [`Event::Unknown`] with their raw payload, so the caller can count them.
//! [`Event::to_frame`] writes headers in the order the upstream uses
//! (`:event-type`, `:content-type`, `:message-type`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::frame::{Frame, Header, HeaderValue};
use crate::num;

/// Event types of the legacy Amazon Q transport: recognised, carried, never shown to clients.
pub const LEGACY_EVENT_TYPES: &[&str] = &[
    "followupPromptEvent",
    "codeReferenceEvent",
    "supplementaryWebLinksEvent",
    "citationEvent",
    "codeEvent",
    "intentsEvent",
    "interactionComponentsEvent",
    "dryRunSucceedEvent",
];

/// `assistantResponseEvent`: a text delta. Extra fields (`modelId`, `messageStatus`, ...) are
/// ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AssistantResponseEvent {
    #[serde(default)]
    pub content: String,
}

/// The `input` of a `toolUseEvent`: normally a string fragment; one nested variant sends the whole
/// input as a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolInput {
    Fragment(String),
    Object(serde_json::Value),
}

/// `toolUseEvent`: one fragment of one tool call (spec §7.2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseEvent {
    #[serde(default)]
    pub tool_use_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ToolInput>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop: bool,
}

/// `reasoningContentEvent`: a thinking delta; `signature` normally on the last one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningContentEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_content: Option<String>,
}

/// `meteringEvent`: credits charged (may repeat; sum them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeteringEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_plural: Option<String>,
    #[serde(default, deserialize_with = "num::f64_or_zero")]
    pub usage: f64,
}

/// `contextUsageEvent`: context fill in percent points (61.49 means 61.49 %).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextUsageEvent {
    #[serde(default, deserialize_with = "num::f64_or_zero")]
    pub context_usage_percentage: f64,
}

/// Authoritative token counts (spec §7.6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub uncached_input_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_write_input_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_tokens: Option<u64>,
    /// Some builds send a lone `inputTokens`; it counts as uncached.
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub input_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_tokens: Option<u64>,
}

/// `metadataEvent`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_usage: Option<TokenUsage>,
}

/// `messageMetadataEvent`; some builds carry `tokenUsage` here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageMetadataEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utterance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_usage: Option<TokenUsage>,
}

/// `invalidStateEvent`: an error inside a 200 stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InvalidStateEvent {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

/// An `:message-type: error` frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorFrame {
    pub code: String,
    pub message: String,
    pub payload: Bytes,
}

/// An `:message-type: exception` frame; `message` and `reason` come from the JSON payload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExceptionFrame {
    pub exception_type: String,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub payload: Bytes,
}

/// One decoded upstream frame, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    AssistantResponse(AssistantResponseEvent),
    ToolUse(ToolUseEvent),
    Reasoning(ReasoningContentEvent),
    Metering(MeteringEvent),
    ContextUsage(ContextUsageEvent),
    Metadata(MetadataEvent),
    MessageMetadata(MessageMetadataEvent),
    InvalidState(InvalidStateEvent),
    /// `initial-response`, seen on JSON-1.0 transports; carries nothing useful.
    InitialResponse {
        payload: Bytes,
    },
    /// A legacy Amazon Q event type (see [`LEGACY_EVENT_TYPES`]).
    Legacy {
        event_type: String,
        payload: Bytes,
    },
    /// An event type this crate does not know, preserved.
    Unknown {
        event_type: String,
        payload: Bytes,
    },
    Error(ErrorFrame),
    Exception(ExceptionFrame),
}

/// Why a frame could not be read as an event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("frame has no :message-type header")]
    MissingMessageType,
    #[error("unknown :message-type {0:?}")]
    UnknownMessageType(String),
    #[error("event frame has no :event-type header")]
    MissingEventType,
    #[error("{event_type} payload is not valid JSON for its type: {source}")]
    Payload {
        event_type: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Deserialize)]
struct ExceptionBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, alias = "Message")]
    message_upper: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

fn payload_json<T: for<'de> Deserialize<'de> + Default>(
    event_type: &'static str,
    payload: &[u8],
) -> Result<T, EventError> {
    // An empty payload is an event with every field absent.
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(payload).map_err(|source| EventError::Payload { event_type, source })
}

impl Event {
    /// Reads a decoded frame as a typed event.
    pub fn from_frame(frame: &Frame) -> Result<Event, EventError> {
        let message_type = frame.message_type().ok_or(EventError::MissingMessageType)?;
        match message_type {
            "event" => Self::from_event_frame(frame),
            "error" => Ok(Event::Error(ErrorFrame {
                code: frame.header_str(":error-code").unwrap_or("").to_owned(),
                message: frame.header_str(":error-message").unwrap_or("").to_owned(),
                payload: frame.payload.clone(),
            })),
            "exception" => {
                let body: Option<ExceptionBody> = serde_json::from_slice(&frame.payload).ok();
                let (message, reason) = match body {
                    Some(b) => (b.message.or(b.message_upper), b.reason),
                    None => (None, None),
                };
                Ok(Event::Exception(ExceptionFrame {
                    exception_type: frame.header_str(":exception-type").unwrap_or("").to_owned(),
                    message,
                    reason,
                    payload: frame.payload.clone(),
                }))
            }
            other => Err(EventError::UnknownMessageType(other.to_owned())),
        }
    }

    fn from_event_frame(frame: &Frame) -> Result<Event, EventError> {
        let event_type = frame.event_type().ok_or(EventError::MissingEventType)?;
        let p = &frame.payload[..];
        Ok(match event_type {
            "assistantResponseEvent" => {
                Event::AssistantResponse(payload_json("assistantResponseEvent", p)?)
            }
            "toolUseEvent" => Event::ToolUse(payload_json("toolUseEvent", p)?),
            "reasoningContentEvent" => Event::Reasoning(payload_json("reasoningContentEvent", p)?),
            "meteringEvent" => Event::Metering(payload_json("meteringEvent", p)?),
            "contextUsageEvent" => Event::ContextUsage(payload_json("contextUsageEvent", p)?),
            "metadataEvent" => Event::Metadata(payload_json("metadataEvent", p)?),
            "messageMetadataEvent" => {
                Event::MessageMetadata(payload_json("messageMetadataEvent", p)?)
            }
            "invalidStateEvent" => Event::InvalidState(payload_json("invalidStateEvent", p)?),
            "initial-response" => Event::InitialResponse {
                payload: frame.payload.clone(),
            },
            other if LEGACY_EVENT_TYPES.contains(&other) => Event::Legacy {
                event_type: other.to_owned(),
                payload: frame.payload.clone(),
            },
            other => Event::Unknown {
                event_type: other.to_owned(),
                payload: frame.payload.clone(),
            },
        })
    }

    /// The `:event-type` name of an event frame, or `None` for error and exception frames.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            Event::Legacy { event_type, .. } | Event::Unknown { event_type, .. } => {
                Some(event_type.as_str())
            }
            _ => self.known_event_type(),
        }
    }

    fn known_event_type(&self) -> Option<&'static str> {
        Some(match self {
            Event::AssistantResponse(_) => "assistantResponseEvent",
            Event::ToolUse(_) => "toolUseEvent",
            Event::Reasoning(_) => "reasoningContentEvent",
            Event::Metering(_) => "meteringEvent",
            Event::ContextUsage(_) => "contextUsageEvent",
            Event::Metadata(_) => "metadataEvent",
            Event::MessageMetadata(_) => "messageMetadataEvent",
            Event::InvalidState(_) => "invalidStateEvent",
            Event::InitialResponse { .. } => "initial-response",
            Event::Legacy { .. }
            | Event::Unknown { .. }
            | Event::Error(_)
            | Event::Exception(_) => {
                return None;
            }
        })
    }

    /// The frame the upstream would send for this event, headers in wire order.
    pub fn to_frame(&self) -> Frame {
        let json = |v: Result<Vec<u8>, serde_json::Error>| Bytes::from(v.unwrap_or_default());
        let payload = match self {
            Event::AssistantResponse(e) => json(serde_json::to_vec(e)),
            Event::ToolUse(e) => json(serde_json::to_vec(e)),
            Event::Reasoning(e) => json(serde_json::to_vec(e)),
            Event::Metering(e) => json(serde_json::to_vec(e)),
            Event::ContextUsage(e) => json(serde_json::to_vec(e)),
            Event::Metadata(e) => json(serde_json::to_vec(e)),
            Event::MessageMetadata(e) => json(serde_json::to_vec(e)),
            Event::InvalidState(e) => json(serde_json::to_vec(e)),
            Event::InitialResponse { payload }
            | Event::Legacy { payload, .. }
            | Event::Unknown { payload, .. } => payload.clone(),
            Event::Error(e) => {
                return Frame::new(
                    vec![
                        Header::new(":message-type", "error"),
                        Header::new(":error-code", HeaderValue::from(e.code.clone())),
                        Header::new(":error-message", HeaderValue::from(e.message.clone())),
                    ],
                    e.payload.clone(),
                );
            }
            Event::Exception(e) => {
                let payload = if e.payload.is_empty() {
                    json(serde_json::to_vec(&serde_json::json!({
                        "message": e.message,
                        "reason": e.reason,
                    })))
                } else {
                    e.payload.clone()
                };
                return Frame::new(
                    vec![
                        Header::new(
                            ":exception-type",
                            HeaderValue::from(e.exception_type.clone()),
                        ),
                        Header::new(":content-type", "application/json"),
                        Header::new(":message-type", "exception"),
                    ],
                    payload,
                );
            }
        };
        let event_type = match (self.known_event_type(), self) {
            (Some(name), _) => HeaderValue::from(name),
            (None, Event::Legacy { event_type, .. } | Event::Unknown { event_type, .. }) => {
                HeaderValue::from(event_type.clone())
            }
            (None, _) => HeaderValue::from(""),
        };
        Frame::new(
            vec![
                Header::new(":event-type", event_type),
                Header::new(":content-type", "application/json"),
                Header::new(":message-type", "event"),
            ],
            payload,
        )
    }
}
