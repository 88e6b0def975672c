//! Client dialects and the canonical conversation model.
//!
//! Each client API (OpenAI Chat Completions, Anthropic Messages) decodes into one canonical
//! [`Request`](canonical::Request) and encodes canonical [`StreamEvent`](canonical::StreamEvent)s
//! back into its own SSE; its non-streaming JSON is the fold of the same events. The Kiro mapping
//! turns the canonical request into a `conversationState` body and upstream events into canonical
//! events. This crate does no I/O.

pub mod anthropic;
pub mod canonical;
pub mod encode;
mod json_out;
pub mod kiro;
pub mod models;
pub mod openai;
pub mod tokens;

pub use canonical::{ClientError, ErrorKind, Request, StreamEvent};
