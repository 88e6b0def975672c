//! What every dialect implements to turn a reply into bytes.

use bytes::BytesMut;

use crate::canonical::{ClientError, StreamEvent};

/// Encodes canonical events as the dialect's SSE, writing each event's bytes as it comes.
pub trait ReplyEncoder: Send {
    /// Appends the SSE bytes for `event` to `out` (possibly nothing, possibly several SSE events).
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut);
    /// Appends a keep-alive (Anthropic `ping` event, OpenAI SSE comment) for upstream silence.
    fn keepalive(&mut self, out: &mut BytesMut);
}

/// Folds canonical events into the dialect's non-streaming response.
pub trait ReplyFolder: Send {
    fn push(&mut self, event: &StreamEvent);
    /// The HTTP status and JSON body: the message, or the dialect's error body if the events
    /// ended with an error.
    fn finish(self: Box<Self>) -> (u16, serde_json::Value);
}

/// An error before any reply bytes: the status and the dialect's JSON error body.
pub trait ErrorEncoder {
    fn error_body(err: &ClientError) -> (u16, serde_json::Value);
}
