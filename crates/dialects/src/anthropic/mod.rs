//! The Anthropic Messages dialect (`POST /v1/messages`, `/v1/messages/count_tokens`,
//! `GET /v1/models`).
//!
//! Decoding turns a request body into the canonical [`Request`](crate::canonical::Request);
//! [`SseEncoder`] writes canonical events as Anthropic's SSE and [`Folder`] folds the same events
//! into the non-streaming message. Both go through one block sequencer ([`blocks`]), so a folded
//! reply is exactly what an SDK assembles from the stream.

mod blocks;
mod content;
mod error;
mod fold;
mod loc;
mod metadata;
mod models;
mod request;
mod sse;
mod wire;

pub use error::{AnthropicErrors, error_event, error_type, prompt_too_long};
pub use fold::Folder;
pub use metadata::session_from_user_id;
pub use models::{ModelListing, count_tokens_response, models_response, rfc3339_utc};
pub use request::{decode_count_tokens, decode_request};
pub use sse::SseEncoder;
