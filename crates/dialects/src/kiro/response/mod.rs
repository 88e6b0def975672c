//! Upstream reply → canonical reply events, upstream error classification, output guards.
//!
//! [`ReplyMapper`] reads decoded upstream frames (spec §7) and appends canonical
//! [`StreamEvent`](crate::canonical::StreamEvent)s as they arrive: text and thinking are
//! streamed, never buffered to the end; tool input fragments are streamed per call; usage is
//! derived per spec §7.6 when the reply ends. It never emits `Start` (the service does, once it
//! knows the reply will go to the client).
//!
//! [`fault`] classifies every upstream failure (HTTP status and body, in-stream error frames,
//! auth endpoints, transport) into the reaction classes of spec §8 and the client error to show
//! if retries cannot hide it.
//!
//! Truncated tool calls (spec §7.2, §7.5): a call with no `stop` by the end of the stream was cut
//! by the upstream. Its start and fragments already reached the client (they are streamed), so
//! the mapper closes it with `ToolUseEnd` and ends the reply with `Stop(MaxTokens)`: the client
//! sees a `max_tokens` / `length` stop, never a completed `tool_use` / `tool_calls` stop, and
//! does not run the call. Its input is left as streamed, which may not be valid JSON: folders
//! must keep the raw partial input rather than fail on it.

pub mod fault;
mod fault_class;
mod guard;
mod mapper;
mod payload;
mod stats;
mod text;
mod thinking_tags;
mod tools;
mod usage;

/// Re-exported from the request side, which produces them with the mapped request.
pub use crate::kiro::request::{ThinkingMode, ToolNameMap};
pub use fault::{
    AfterOutput, AuthEndpoint, Reaction, TransportFailure, UpstreamFault, after_output,
    classify_auth, classify_event, classify_http, classify_transport,
};
pub use mapper::{ReplyContext, ReplyMapper};
pub use stats::ReplyStats;
pub use usage::UsageSource;
