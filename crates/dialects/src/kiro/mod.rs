//! The Kiro mapping: canonical request → `conversationState`, upstream events → canonical events.
pub mod request;
pub mod response;
