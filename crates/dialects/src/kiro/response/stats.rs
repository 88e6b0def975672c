//! Counters a reply keeps for metrics and logs.

/// Counters for metrics and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyStats {
    pub text_frames: u64,
    pub reasoning_frames: u64,
    pub tool_use_frames: u64,
    pub metering_frames: u64,
    pub context_usage_frames: u64,
    pub metadata_frames: u64,
    pub message_metadata_frames: u64,
    pub initial_response_frames: u64,
    /// Legacy Amazon Q events, ignored (spec §7.1).
    pub legacy_events: u64,
    /// Event types nobody knows, ignored.
    pub unknown_events: u64,
    /// `exception` / `error` frames and `invalidStateEvent`s.
    pub fault_frames: u64,
    /// Text or thinking chunks identical to the one just before them.
    pub repeated_chunks: u64,
    /// Of those, how many were dropped (only with `dedupe_repeated_chunks`).
    pub deduped_chunks: u64,
    /// Lone surrogates and invalid bytes dropped rather than shown as U+FFFD.
    pub dropped_invalid_sequences: u64,
    /// Frames `serde_json` refused (lone surrogate escapes) that were read leniently.
    pub recovered_frames: u64,
    /// Frames that could not be read at all (tail events are then ignored; others fail).
    pub malformed_frames: u64,
    /// Reasoning frames dropped because the client did not ask for thinking.
    pub ignored_reasoning_frames: u64,
    /// Tool frames after that call's `stop`.
    pub late_tool_frames: u64,
    /// Completed tool calls whose input does not parse as JSON.
    pub invalid_tool_inputs: u64,
    /// Tool calls with no `stop` by the end of the stream.
    pub truncated_tool_calls: u64,
}
