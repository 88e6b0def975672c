//! Client dialects and the canonical conversation model.
//!
//! Each client API (OpenAI Chat Completions, Anthropic Messages, later the OpenAI Responses API)
//! decodes into one canonical request and encodes canonical stream events back into its own SSE or
//! JSON. The Kiro mapping turns the canonical request into a `conversationState` body. This crate
//! does no I/O.
