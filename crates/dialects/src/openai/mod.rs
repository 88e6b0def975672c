//! The OpenAI Chat Completions dialect (`POST /v1/chat/completions`, `GET /v1/models`).
//!
//! - [`decode_request`]: request body → canonical [`Request`](crate::canonical::Request).
//! - [`SseEncoder`]: canonical events → `chat.completion.chunk` SSE ending in `data: [DONE]`.
//! - [`Folder`]: the same events → one `chat.completion` object.
//! - [`OpenAiErrors`] / [`error_chunk`]: `{"error":{message,type,param,code}}`, before and
//!   during a stream.
//! - [`models_response`]: the model list.
//!
//! Each file says which OpenAI fields it accepts, ignores or rejects, and why.

mod content;
mod error;
mod fold;
mod image;
mod messages;
mod models;
mod param;
mod reply;
mod request;
mod sse;
mod write;

pub use error::{OpenAiErrors, error_chunk};
pub use fold::Folder;
pub use models::{ModelListing, models_response};
pub use request::decode_request;
pub use sse::SseEncoder;
