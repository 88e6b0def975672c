//! [`ReplyMapper`]: upstream events in, canonical reply events out, one upstream event at a time.
//!
//! The visible text goes through a fixed pipeline: UTF-8 carry → (tag mode) thinking-tag split →
//! stop-sequence guard → `max_tokens` budget → `TextDelta`. Thinking and tool input go through
//! their own carry and the same budget. Each stage holds back only what it must.

use kiro_wire::event::{ReasoningContentEvent, ToolInput};
use kiro_wire::{Event, EventError, Frame};

use super::fault::{self, AfterOutput, TransportFailure, UpstreamFault};
use super::guard::{OutputBudget, StopGuard};
use super::payload::{self, Recovered};
use super::stats::ReplyStats;
use super::text::{ChunkKind, Decoded, RepeatFilter, Utf8Carry};
use super::thinking_tags::{Piece, TagSplitter};
use super::tools::{FrameInput, ToolAssembler, ToolFrame};
use super::usage::{UsageSource, UsageTracker};
use super::{ThinkingMode, ToolNameMap};
use crate::canonical::{StopReason, StreamEvent, Usage};

/// What the mapper needs to know about the request.
#[derive(Debug, Clone)]
pub struct ReplyContext {
    /// Upstream tool name → client tool name (N10).
    pub tool_names: ToolNameMap,
    pub thinking: ThinkingMode,
    /// The model's context window in tokens, for `contextUsagePercentage` (spec §7.6).
    pub context_window: u64,
    /// The request-side input estimate, the last resort for input usage.
    pub estimated_input_tokens: u64,
    /// Client stop sequences, enforced on the visible text.
    pub stop_sequences: Vec<String>,
    /// Client output cap, enforced on the estimated output.
    pub max_tokens: Option<u64>,
    /// Drop a chunk identical to the one just before it (spec §7.5). Off by default: it
    /// corrupts legitimate repeats.
    pub dedupe_repeated_chunks: bool,
}

impl Default for ReplyContext {
    fn default() -> Self {
        ReplyContext {
            tool_names: ToolNameMap::default(),
            thinking: ThinkingMode::default(),
            context_window: 200_000,
            estimated_input_tokens: 0,
            stop_sequences: Vec::new(),
            max_tokens: None,
            dedupe_repeated_chunks: false,
        }
    }
}

/// Maps one upstream reply. See the module docs of [`super`].
#[derive(Debug)]
pub struct ReplyMapper {
    tool_names: ToolNameMap,
    thinking: ThinkingMode,
    context_window: u64,
    estimated_input_tokens: u64,
    dedupe: bool,
    text_carry: Utf8Carry,
    thinking_carry: Utf8Carry,
    repeats: RepeatFilter,
    tags: Option<TagSplitter>,
    stop_guard: StopGuard,
    budget: OutputBudget,
    tools: ToolAssembler,
    /// Tool calls the client saw start and not yet end.
    open_tool_blocks: Vec<usize>,
    usage: UsageTracker,
    stats: ReplyStats,
    credits: f64,
    visible: bool,
    done: bool,
    /// Set by [`ReplyMapper::take_budget`] when the budget ran out, until the reply ends.
    budget_exhausted: bool,
    scratch: Vec<StreamEvent>,
    pieces: Vec<Piece>,
}

fn char_count(s: &str) -> u64 {
    s.chars().count() as u64
}

fn is_tail_event(event_type: &str) -> bool {
    matches!(
        event_type,
        "meteringEvent" | "contextUsageEvent" | "metadataEvent" | "messageMetadataEvent"
    )
}

impl ReplyMapper {
    pub fn new(ctx: ReplyContext) -> Self {
        ReplyMapper {
            tags: (ctx.thinking == ThinkingMode::Tags).then(TagSplitter::default),
            stop_guard: StopGuard::new(&ctx.stop_sequences),
            budget: OutputBudget::new(ctx.max_tokens),
            tool_names: ctx.tool_names,
            thinking: ctx.thinking,
            context_window: ctx.context_window,
            estimated_input_tokens: ctx.estimated_input_tokens,
            dedupe: ctx.dedupe_repeated_chunks,
            text_carry: Utf8Carry::default(),
            thinking_carry: Utf8Carry::default(),
            repeats: RepeatFilter::default(),
            tools: ToolAssembler::default(),
            open_tool_blocks: Vec::new(),
            usage: UsageTracker::default(),
            stats: ReplyStats::default(),
            credits: 0.0,
            visible: false,
            done: false,
            budget_exhausted: false,
            scratch: Vec::new(),
            pieces: Vec::new(),
        }
    }

    /// Maps one upstream event to zero or more canonical events appended to `out`.
    ///
    /// `Err` for an in-stream upstream failure (`exception` / `error` frame,
    /// `invalidStateEvent`), classified. Before anything is visible the service may retry
    /// elsewhere; after, it ends the reply with [`ReplyMapper::finish_after_fault`].
    #[expect(
        clippy::result_large_err,
        reason = "the fault is returned at most once per reply; boxing it would only move the cost"
    )]
    pub fn on_event(
        &mut self,
        ev: &Event,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), UpstreamFault> {
        match ev {
            Event::AssistantResponse(e) => self.on_text(e.content.as_bytes(), out),
            Event::Reasoning(e) => self.on_reasoning(e, out),
            Event::ToolUse(e) => {
                let input = match &e.input {
                    None => FrameInput::Absent,
                    Some(ToolInput::Fragment(s)) => FrameInput::Fragment(s.as_bytes()),
                    Some(ToolInput::Object(v)) => FrameInput::Whole(v),
                };
                let frame = ToolFrame {
                    tool_use_id: &e.tool_use_id,
                    name: &e.name,
                    input,
                    stop: e.stop,
                };
                self.on_tool(frame, out);
            }
            Event::Metering(e) => {
                self.stats.metering_frames += 1;
                self.repeats.interrupt();
                if e.usage.is_finite() && e.usage > 0.0 {
                    self.credits += e.usage;
                }
            }
            Event::ContextUsage(e) => {
                self.stats.context_usage_frames += 1;
                self.repeats.interrupt();
                self.usage.on_context_usage(e.context_usage_percentage);
            }
            Event::Metadata(e) => {
                self.stats.metadata_frames += 1;
                self.repeats.interrupt();
                self.usage.on_metadata(e.token_usage.as_ref());
            }
            Event::MessageMetadata(e) => {
                self.stats.message_metadata_frames += 1;
                self.repeats.interrupt();
                self.usage.on_message_metadata(e.token_usage.as_ref());
            }
            Event::InitialResponse { .. } => self.stats.initial_response_frames += 1,
            Event::Legacy { .. } => self.stats.legacy_events += 1,
            Event::Unknown { .. } => self.stats.unknown_events += 1,
            Event::Error(_) | Event::Exception(_) | Event::InvalidState(_) => {
                self.stats.fault_frames += 1;
                if let Some(fault) = fault::classify_event(ev) {
                    return Err(fault);
                }
            }
        }
        Ok(())
    }

    /// Reads one decoded frame: [`Event::from_frame`] then [`ReplyMapper::on_event`], except
    /// that a text, reasoning or tool frame `serde_json` refuses because a surrogate pair was
    /// split across frames is read leniently and repaired (spec §7.5). A frame that cannot be
    /// read at all is a `BadFrame` fault, unless it is a tail event (usage, credits), which is
    /// only counted.
    #[expect(
        clippy::result_large_err,
        reason = "the fault is returned at most once per reply; boxing it would only move the cost"
    )]
    pub fn on_frame(
        &mut self,
        frame: &Frame,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), UpstreamFault> {
        match Event::from_frame(frame) {
            // The hot case, taken by value: the parsed text becomes the delta without a copy.
            Ok(Event::AssistantResponse(e)) => {
                self.on_text_owned(e.content, out);
                Ok(())
            }
            Ok(ev) => self.on_event(&ev, out),
            Err(EventError::Payload { event_type, source }) => {
                match payload::recover(event_type, &frame.payload) {
                    Some(recovered) => {
                        self.stats.recovered_frames += 1;
                        self.on_recovered(recovered, out);
                        Ok(())
                    }
                    None => {
                        self.stats.malformed_frames += 1;
                        if is_tail_event(event_type) {
                            Ok(())
                        } else {
                            Err(fault::classify_transport(
                                TransportFailure::BadFrame,
                                &format!("{event_type} payload unreadable: {source}"),
                            ))
                        }
                    }
                }
            }
            Err(err) => {
                self.stats.malformed_frames += 1;
                Err(fault::classify_transport(
                    TransportFailure::BadFrame,
                    &err.to_string(),
                ))
            }
        }
    }

    fn on_recovered(&mut self, recovered: Recovered, out: &mut Vec<StreamEvent>) {
        match recovered {
            Recovered::Text(t) => self.on_text(&t.content.0, out),
            Recovered::Reasoning(r) => self.on_reasoning_parts(
                r.text.as_ref().map(|t| t.0.as_slice()),
                r.signature.as_deref(),
                r.redacted_content.as_deref(),
                out,
            ),
            Recovered::ToolUse(t) => {
                let input = match &t.input {
                    Some(bytes) => FrameInput::Fragment(&bytes.0),
                    None => FrameInput::Absent,
                };
                let frame = ToolFrame {
                    tool_use_id: &t.tool_use_id,
                    name: &t.name,
                    input,
                    stop: t.stop.unwrap_or(false),
                };
                self.on_tool(frame, out);
            }
        }
    }

    /// End of the upstream stream: flushes held text, closes truncated tool calls, emits
    /// `Usage` and `Stop`. Stop reason: `ContextWindowExceeded` when the context is full
    /// (≥ 100 %), else `MaxTokens` when a tool call was truncated, else `ToolUse` when a tool
    /// call completed, else `EndTurn`. Does nothing if the reply already ended.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.flush_carries();
        self.flush_text(out);
        if self.done {
            return;
        }
        let truncated = self.tools.truncate_open();
        self.stats.truncated_tool_calls += truncated.len() as u64;
        let reason = if self.usage.context_percent().is_some_and(|p| p >= 100.0) {
            StopReason::ContextWindowExceeded
        } else if !truncated.is_empty() {
            StopReason::MaxTokens
        } else if self.tools.completed() > 0 {
            StopReason::ToolUse
        } else {
            StopReason::EndTurn
        };
        self.end(reason, out);
    }

    /// Ends a reply that already showed output after an in-stream or transport fault (spec
    /// §8.4): a context overflow ends normally with `MaxTokens` (held text flushed, open tool
    /// calls closed, usage reported); anything else flushes held text and ends with an in-band
    /// `Error`. Does nothing if the reply already ended.
    pub fn finish_after_fault(&mut self, fault: &UpstreamFault, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.flush_carries();
        self.flush_text(out);
        if self.done {
            return;
        }
        match fault::after_output(fault) {
            AfterOutput::EndWithMaxTokens => {
                let truncated = self.tools.truncate_open();
                self.stats.truncated_tool_calls += truncated.len() as u64;
                self.end(StopReason::MaxTokens, out);
            }
            AfterOutput::InBandError(err) => {
                out.push(StreamEvent::Error(err));
                self.done = true;
            }
        }
    }

    /// Whether any text, thinking, signature, redacted thinking or tool start was emitted:
    /// until then the service may still retry elsewhere.
    pub fn has_visible_output(&self) -> bool {
        self.visible
    }

    /// Whether the reply ended (a guard fired, or it was finished): stop reading upstream.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Credits charged so far (sum of `meteringEvent.usage`).
    pub fn credits(&self) -> f64 {
        self.credits
    }

    /// Usage per spec §7.6 from what has been seen so far.
    pub fn usage(&self) -> Usage {
        self.usage_with_source().0
    }

    /// [`ReplyMapper::usage`] and where its input side came from.
    pub fn usage_with_source(&self) -> (Usage, UsageSource) {
        self.usage
            .usage(self.context_window, self.estimated_input_tokens)
    }

    pub fn stats(&self) -> ReplyStats {
        let mut stats = self.stats.clone();
        let tools = self.tools.counters;
        stats.late_tool_frames = tools.late_frames;
        stats.invalid_tool_inputs = tools.invalid_inputs;
        stats.dropped_invalid_sequences += tools.dropped_sequences;
        stats
    }

    // -----------------------------------------------------------------------------------------

    fn on_text(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>) {
        self.stats.text_frames += 1;
        if self.done || self.skip_repeat(ChunkKind::Text, bytes) {
            return;
        }
        let decoded = self.text_carry.push(bytes);
        self.on_decoded_text(decoded, out);
    }

    /// [`ReplyMapper::on_text`] of a parsed frame's text.
    fn on_text_owned(&mut self, text: String, out: &mut Vec<StreamEvent>) {
        self.stats.text_frames += 1;
        if self.done || self.skip_repeat(ChunkKind::Text, text.as_bytes()) {
            return;
        }
        let decoded = self.text_carry.push_owned(text);
        self.on_decoded_text(decoded, out);
    }

    fn on_decoded_text(&mut self, decoded: Decoded, out: &mut Vec<StreamEvent>) {
        self.stats.dropped_invalid_sequences += decoded.dropped;
        if decoded.text.is_empty() {
            return;
        }
        match self.tags.as_mut() {
            Some(tags) => {
                let mut pieces = std::mem::take(&mut self.pieces);
                tags.push(&decoded.text, &mut pieces);
                self.route_pieces(&mut pieces, out);
                self.pieces = pieces;
            }
            None => self.visible_text(decoded.text, out),
        }
    }

    fn on_reasoning(&mut self, e: &ReasoningContentEvent, out: &mut Vec<StreamEvent>) {
        self.on_reasoning_parts(
            e.text.as_deref().map(str::as_bytes),
            e.signature.as_deref(),
            e.redacted_content.as_deref(),
            out,
        );
    }

    fn on_reasoning_parts(
        &mut self,
        text: Option<&[u8]>,
        signature: Option<&str>,
        redacted: Option<&str>,
        out: &mut Vec<StreamEvent>,
    ) {
        self.stats.reasoning_frames += 1;
        if self.done {
            return;
        }
        if self.thinking == ThinkingMode::Off {
            // The client did not ask for thinking (a model may think by default, spec §4.4).
            self.stats.ignored_reasoning_frames += 1;
            self.repeats.interrupt();
            return;
        }
        let thinking = match text {
            Some(bytes) if !self.skip_repeat(ChunkKind::Thinking, bytes) => {
                let decoded = self.thinking_carry.push(bytes);
                self.stats.dropped_invalid_sequences += decoded.dropped;
                decoded.text
            }
            Some(_) => String::new(),
            None => {
                self.repeats.interrupt();
                String::new()
            }
        };
        let signature = signature.filter(|s| !s.is_empty());
        let redacted = redacted.filter(|s| !s.is_empty());
        if thinking.is_empty() && signature.is_none() && redacted.is_none() {
            return;
        }
        // Text held by the stop guard arrived before this thinking: release it first to keep
        // the order (a stop sequence cannot span a thinking block).
        let held = self.stop_guard.flush();
        self.emit_text(held, out);
        self.emit_thinking(thinking, out);
        if self.done {
            return;
        }
        if let Some(sig) = signature {
            self.visible = true;
            out.push(StreamEvent::ThinkingSignature(sig.to_owned()));
        }
        if let Some(data) = redacted {
            self.visible = true;
            out.push(StreamEvent::RedactedThinking(data.to_owned()));
        }
    }

    fn on_tool(&mut self, frame: ToolFrame<'_>, out: &mut Vec<StreamEvent>) {
        self.stats.tool_use_frames += 1;
        self.repeats.interrupt();
        if self.done {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        self.tools.frame(frame, &self.tool_names, &mut scratch);
        for ev in scratch.drain(..) {
            if self.done {
                break;
            }
            match ev {
                StreamEvent::ToolUseStart { index, .. } => {
                    // Text before the call can no longer become a tag or a stop sequence.
                    self.flush_text(out);
                    if self.done {
                        break;
                    }
                    self.open_tool_blocks.push(index);
                    self.visible = true;
                    out.push(ev);
                }
                StreamEvent::ToolInputDelta { index, fragment } => {
                    let used = self.usage.output_chars();
                    let (taken, exhausted) = self.budget.take(used, &fragment);
                    if !taken.is_empty() {
                        self.usage.tool_chars += char_count(taken);
                        let fragment = if exhausted {
                            taken.to_owned()
                        } else {
                            fragment
                        };
                        out.push(StreamEvent::ToolInputDelta { index, fragment });
                    }
                    if exhausted {
                        self.end(StopReason::MaxTokens, out);
                    }
                }
                StreamEvent::ToolUseEnd { index } => {
                    self.open_tool_blocks.retain(|&i| i != index);
                    out.push(ev);
                }
                other => out.push(other),
            }
        }
        self.scratch = scratch;
    }

    /// Counts a repeat; says whether to drop it.
    fn skip_repeat(&mut self, kind: ChunkKind, bytes: &[u8]) -> bool {
        if !self.repeats.is_repeat(kind, bytes) {
            return false;
        }
        self.stats.repeated_chunks += 1;
        if self.dedupe {
            self.stats.deduped_chunks += 1;
        }
        self.dedupe
    }

    fn route_pieces(&mut self, pieces: &mut Vec<Piece>, out: &mut Vec<StreamEvent>) {
        for piece in pieces.drain(..) {
            if self.done {
                break;
            }
            match piece {
                Piece::Thinking(s) => self.emit_thinking(s, out),
                Piece::Text(s) => self.visible_text(s, out),
            }
        }
    }

    /// Visible text through the stop-sequence guard.
    fn visible_text(&mut self, s: String, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let guarded = self.stop_guard.push(s);
        self.emit_text(guarded.emit, out);
        if let Some(seq) = guarded.matched {
            if !self.done {
                self.end(StopReason::StopSequence(seq), out);
            }
        }
    }

    /// Releases text held by the tag splitter and the stop guard.
    fn flush_text(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(tags) = self.tags.as_mut() {
            let mut pieces = std::mem::take(&mut self.pieces);
            tags.flush(&mut pieces);
            self.route_pieces(&mut pieces, out);
            self.pieces = pieces;
        }
        if self.done {
            return;
        }
        let held = self.stop_guard.flush();
        self.emit_text(held, out);
    }

    fn flush_carries(&mut self) {
        self.stats.dropped_invalid_sequences +=
            self.text_carry.flush() + self.thinking_carry.flush();
    }

    fn emit_text(&mut self, s: String, out: &mut Vec<StreamEvent>) {
        if let Some(s) = self.take_budget(s, out, |u, n| u.text_chars += n) {
            out.push(StreamEvent::TextDelta(s));
            self.after_budget(out);
        }
    }

    fn emit_thinking(&mut self, s: String, out: &mut Vec<StreamEvent>) {
        if let Some(s) = self.take_budget(s, out, |u, n| u.thinking_chars += n) {
            out.push(StreamEvent::ThinkingDelta(s));
            self.after_budget(out);
        }
    }

    /// The part of `s` the `max_tokens` budget allows, counted into usage. When the budget
    /// runs out inside `s`, the reply ends right after the returned part is pushed (see
    /// [`ReplyMapper::after_budget`]). With nothing to emit and the budget gone, it ends here.
    fn take_budget(
        &mut self,
        s: String,
        out: &mut Vec<StreamEvent>,
        count: impl FnOnce(&mut UsageTracker, u64),
    ) -> Option<String> {
        if self.done || s.is_empty() {
            return None;
        }
        let (taken, exhausted) = self.budget.take(self.usage.output_chars(), &s);
        let taken_len = taken.len();
        count(&mut self.usage, char_count(taken));
        if exhausted {
            self.budget_exhausted = true;
        }
        if taken_len == 0 {
            self.after_budget(out);
            return None;
        }
        self.visible = true;
        let mut s = s;
        s.truncate(taken_len);
        Some(s)
    }

    fn after_budget(&mut self, out: &mut Vec<StreamEvent>) {
        if std::mem::take(&mut self.budget_exhausted) {
            self.end(StopReason::MaxTokens, out);
        }
    }

    /// Ends the reply: open tool blocks are closed (the client saw them start), then the final
    /// usage and the stop reason. Held text is discarded: after a stop sequence or the budget,
    /// nothing more shows.
    fn end(&mut self, reason: StopReason, out: &mut Vec<StreamEvent>) {
        for index in self.open_tool_blocks.drain(..) {
            out.push(StreamEvent::ToolUseEnd { index });
        }
        out.push(StreamEvent::Usage(self.usage()));
        out.push(StreamEvent::Stop(reason));
        self.done = true;
    }
}
