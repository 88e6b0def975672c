//! Turns canonical content events into Anthropic content blocks: one block open at a time,
//! indexes from 0 across all blocks, the open block closed when the kind changes or a tool call
//! ends. The SSE encoder and the fold both drive this sequencer, so they cannot disagree.
//!
//! Anthropic's stream has one open block at a time, but upstream tool calls may interleave
//! (spec §7.2). While a tool call is still receiving input, anything else (another tool call,
//! text, thinking) is held back in arrival order and replayed as soon as that call ends, so no
//! fragment of any input is lost and the open call is still streamed as it arrives.

use std::collections::VecDeque;

use crate::canonical::StreamEvent;

/// How a block begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockStart<'a> {
    Text,
    Thinking,
    RedactedThinking { data: &'a str },
    ToolUse { id: &'a str, name: &'a str },
}

/// A piece of an open block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockDelta<'a> {
    Text(&'a str),
    Thinking(&'a str),
    Signature(&'a str),
    InputJson(&'a str),
}

/// Receives the block operations, in order.
pub(super) trait BlockSink {
    fn start(&mut self, index: usize, block: BlockStart<'_>);
    fn delta(&mut self, index: usize, delta: BlockDelta<'_>);
    fn stop(&mut self, index: usize);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenKind {
    Text,
    Thinking,
    /// A tool call still receiving input; `tool` is the canonical tool-call index.
    Tool {
        tool: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct Open {
    index: usize,
    kind: OpenKind,
}

/// Content that arrived while a tool call was open.
#[derive(Debug)]
enum Pending {
    Text(String),
    Thinking {
        text: String,
        signature: Option<String>,
    },
    Redacted(String),
    Tool {
        tool: usize,
        id: String,
        name: String,
        input: String,
        ended: bool,
    },
}

#[derive(Debug, Default)]
pub(super) struct Blocks {
    next_index: usize,
    open: Option<Open>,
    pending: VecDeque<Pending>,
    /// Canonical indexes of the tool calls started so far (duplicates are ignored).
    tools_seen: Vec<usize>,
}

impl Blocks {
    /// Handles a content event; message-level events (`Start`, `Usage`, `Stop`, `Error`) are the
    /// caller's and are ignored here.
    pub fn push(&mut self, event: &StreamEvent, sink: &mut impl BlockSink) {
        match event {
            StreamEvent::TextDelta(text) => self.text(text, sink),
            StreamEvent::ThinkingDelta(text) => self.thinking(text, sink),
            StreamEvent::ThinkingSignature(signature) => self.signature(signature, sink),
            StreamEvent::RedactedThinking(data) => self.redacted(data, sink),
            StreamEvent::ToolUseStart { index, id, name } => {
                self.tool_start(*index, id, name, sink)
            }
            StreamEvent::ToolInputDelta { index, fragment } => {
                self.tool_input(*index, fragment, sink)
            }
            StreamEvent::ToolUseEnd { index } => self.tool_end(*index, sink),
            StreamEvent::Start(_)
            | StreamEvent::Usage(_)
            | StreamEvent::Stop(_)
            | StreamEvent::Error(_) => {}
        }
    }

    /// Closes every block, replaying anything held back, before `message_delta`. Tool calls that
    /// never ended are closed as they are (the service reports the truncation in the stop reason).
    pub fn finish(&mut self, sink: &mut impl BlockSink) {
        loop {
            self.close(sink);
            if self.pending.is_empty() {
                return;
            }
            self.drain(sink);
        }
    }

    fn tool_open(&self) -> bool {
        matches!(
            self.open,
            Some(Open {
                kind: OpenKind::Tool { .. },
                ..
            })
        )
    }

    fn text(&mut self, text: &str, sink: &mut impl BlockSink) {
        if text.is_empty() {
            return;
        }
        if self.tool_open() {
            match self.pending.back_mut() {
                Some(Pending::Text(held)) => held.push_str(text),
                _ => self.pending.push_back(Pending::Text(text.to_owned())),
            }
            return;
        }
        let index = self.ensure_open(OpenKind::Text, BlockStart::Text, sink);
        sink.delta(index, BlockDelta::Text(text));
    }

    fn thinking(&mut self, text: &str, sink: &mut impl BlockSink) {
        if text.is_empty() {
            return;
        }
        if self.tool_open() {
            match self.pending.back_mut() {
                Some(Pending::Thinking {
                    text: held,
                    signature: None,
                }) => held.push_str(text),
                _ => self.pending.push_back(Pending::Thinking {
                    text: text.to_owned(),
                    signature: None,
                }),
            }
            return;
        }
        let index = self.ensure_open(OpenKind::Thinking, BlockStart::Thinking, sink);
        sink.delta(index, BlockDelta::Thinking(text));
    }

    /// A signature belongs to the thinking block just streamed. One that arrives when no thinking
    /// block is open cannot be attached to anything and is dropped: an unsigned thinking block
    /// is only stripped from history later (spec N12), never an error.
    fn signature(&mut self, signature: &str, sink: &mut impl BlockSink) {
        if signature.is_empty() {
            return;
        }
        if self.tool_open() {
            if let Some(Pending::Thinking {
                signature: held, ..
            }) = self.pending.back_mut()
            {
                *held = Some(signature.to_owned());
            }
            return;
        }
        if let Some(Open {
            index,
            kind: OpenKind::Thinking,
        }) = self.open
        {
            sink.delta(index, BlockDelta::Signature(signature));
        }
    }

    fn redacted(&mut self, data: &str, sink: &mut impl BlockSink) {
        if self.tool_open() {
            self.pending.push_back(Pending::Redacted(data.to_owned()));
            return;
        }
        self.close(sink);
        let index = self.begin(BlockStart::RedactedThinking { data }, sink);
        sink.stop(index);
    }

    fn tool_start(&mut self, tool: usize, id: &str, name: &str, sink: &mut impl BlockSink) {
        if self.tools_seen.contains(&tool) {
            return;
        }
        self.tools_seen.push(tool);
        if self.tool_open() {
            self.pending.push_back(Pending::Tool {
                tool,
                id: id.to_owned(),
                name: name.to_owned(),
                input: String::new(),
                ended: false,
            });
            return;
        }
        self.close(sink);
        let index = self.begin(BlockStart::ToolUse { id, name }, sink);
        self.open = Some(Open {
            index,
            kind: OpenKind::Tool { tool },
        });
    }

    /// Fragments of the open call stream at once; fragments of a held-back call are kept for its
    /// replay; fragments of unknown or already closed calls have nowhere to go.
    fn tool_input(&mut self, tool: usize, fragment: &str, sink: &mut impl BlockSink) {
        if fragment.is_empty() {
            return;
        }
        if let Some(Open {
            index,
            kind: OpenKind::Tool { tool: open },
        }) = self.open
        {
            if open == tool {
                sink.delta(index, BlockDelta::InputJson(fragment));
                return;
            }
        }
        if let Some(Pending::Tool { input, .. }) = self.pending_tool(tool) {
            input.push_str(fragment);
        }
    }

    fn tool_end(&mut self, tool: usize, sink: &mut impl BlockSink) {
        if let Some(Open {
            kind: OpenKind::Tool { tool: open },
            ..
        }) = self.open
        {
            if open == tool {
                self.close(sink);
                self.drain(sink);
                return;
            }
        }
        if let Some(Pending::Tool { ended, .. }) = self.pending_tool(tool) {
            *ended = true;
        }
    }

    fn pending_tool(&mut self, tool: usize) -> Option<&mut Pending> {
        self.pending
            .iter_mut()
            .find(|p| matches!(p, Pending::Tool { tool: t, ended: false, .. } if *t == tool))
    }

    /// Replays held-back content until it is empty or a replayed tool call is still open.
    fn drain(&mut self, sink: &mut impl BlockSink) {
        while let Some(item) = self.pending.pop_front() {
            match item {
                Pending::Text(text) => {
                    let index = self.ensure_open(OpenKind::Text, BlockStart::Text, sink);
                    sink.delta(index, BlockDelta::Text(&text));
                }
                Pending::Thinking { text, signature } => {
                    self.close(sink);
                    let index = self.begin(BlockStart::Thinking, sink);
                    self.open = Some(Open {
                        index,
                        kind: OpenKind::Thinking,
                    });
                    if !text.is_empty() {
                        sink.delta(index, BlockDelta::Thinking(&text));
                    }
                    if let Some(signature) = signature {
                        sink.delta(index, BlockDelta::Signature(&signature));
                    }
                }
                Pending::Redacted(data) => {
                    self.close(sink);
                    let index = self.begin(BlockStart::RedactedThinking { data: &data }, sink);
                    sink.stop(index);
                }
                Pending::Tool {
                    tool,
                    id,
                    name,
                    input,
                    ended,
                } => {
                    self.close(sink);
                    let index = self.begin(
                        BlockStart::ToolUse {
                            id: &id,
                            name: &name,
                        },
                        sink,
                    );
                    if !input.is_empty() {
                        sink.delta(index, BlockDelta::InputJson(&input));
                    }
                    if ended {
                        sink.stop(index);
                    } else {
                        self.open = Some(Open {
                            index,
                            kind: OpenKind::Tool { tool },
                        });
                        return;
                    }
                }
            }
        }
    }

    /// The open block's index if it is of `kind`, else closes it and starts a new one.
    fn ensure_open(
        &mut self,
        kind: OpenKind,
        start: BlockStart<'_>,
        sink: &mut impl BlockSink,
    ) -> usize {
        if let Some(open) = self.open {
            if open.kind == kind {
                return open.index;
            }
        }
        self.close(sink);
        let index = self.begin(start, sink);
        self.open = Some(Open { index, kind });
        index
    }

    fn begin(&mut self, start: BlockStart<'_>, sink: &mut impl BlockSink) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        sink.start(index, start);
        index
    }

    fn close(&mut self, sink: &mut impl BlockSink) {
        if let Some(open) = self.open.take() {
            sink.stop(open.index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records operations as short strings.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl BlockSink for Log {
        fn start(&mut self, index: usize, block: BlockStart<'_>) {
            self.0.push(format!("start {index} {block:?}"));
        }
        fn delta(&mut self, index: usize, delta: BlockDelta<'_>) {
            self.0.push(format!("delta {index} {delta:?}"));
        }
        fn stop(&mut self, index: usize) {
            self.0.push(format!("stop {index}"));
        }
    }

    fn run(events: &[StreamEvent]) -> Vec<String> {
        let mut blocks = Blocks::default();
        let mut log = Log::default();
        for e in events {
            blocks.push(e, &mut log);
        }
        blocks.finish(&mut log);
        log.0
    }

    fn start(index: usize, id: &str) -> StreamEvent {
        StreamEvent::ToolUseStart {
            index,
            id: id.into(),
            name: "f".into(),
        }
    }

    fn input(index: usize, fragment: &str) -> StreamEvent {
        StreamEvent::ToolInputDelta {
            index,
            fragment: fragment.into(),
        }
    }

    #[test]
    fn kind_changes_close_blocks() {
        let log = run(&[
            StreamEvent::ThinkingDelta("a".into()),
            StreamEvent::ThinkingSignature("s".into()),
            StreamEvent::TextDelta("b".into()),
            StreamEvent::TextDelta("c".into()),
            start(0, "t0"),
            input(0, "{}"),
            StreamEvent::ToolUseEnd { index: 0 },
        ]);
        assert_eq!(
            log,
            [
                "start 0 Thinking",
                "delta 0 Thinking(\"a\")",
                "delta 0 Signature(\"s\")",
                "stop 0",
                "start 1 Text",
                "delta 1 Text(\"b\")",
                "delta 1 Text(\"c\")",
                "stop 1",
                "start 2 ToolUse { id: \"t0\", name: \"f\" }",
                "delta 2 InputJson(\"{}\")",
                "stop 2",
            ]
        );
    }

    #[test]
    fn interleaved_tools_are_serialised() {
        let log = run(&[
            start(0, "t0"),
            start(1, "t1"),
            input(1, "{\"b\":"),
            input(0, "{\"a\":1}"),
            StreamEvent::TextDelta("held".into()),
            input(1, "2}"),
            StreamEvent::ToolUseEnd { index: 1 },
            StreamEvent::ToolUseEnd { index: 0 },
            StreamEvent::TextDelta(" on".into()),
        ]);
        assert_eq!(
            log,
            [
                "start 0 ToolUse { id: \"t0\", name: \"f\" }",
                "delta 0 InputJson(\"{\\\"a\\\":1}\")",
                "stop 0",
                "start 1 ToolUse { id: \"t1\", name: \"f\" }",
                "delta 1 InputJson(\"{\\\"b\\\":2}\")",
                "stop 1",
                "start 2 Text",
                "delta 2 Text(\"held\")",
                "delta 2 Text(\" on\")",
                "stop 2",
            ]
        );
    }

    #[test]
    fn unended_tools_are_closed_at_finish() {
        let log = run(&[start(0, "t0"), start(1, "t1"), input(1, "{")]);
        assert_eq!(
            log,
            [
                "start 0 ToolUse { id: \"t0\", name: \"f\" }",
                "stop 0",
                "start 1 ToolUse { id: \"t1\", name: \"f\" }",
                "delta 1 InputJson(\"{\")",
                "stop 1",
            ]
        );
    }

    #[test]
    fn stray_events_are_ignored() {
        let log = run(&[
            StreamEvent::ThinkingSignature("orphan".into()),
            input(7, "x"),
            StreamEvent::ToolUseEnd { index: 7 },
            StreamEvent::TextDelta(String::new()),
            start(0, "t0"),
            start(0, "dup"),
            StreamEvent::ToolUseEnd { index: 0 },
            input(0, "late"),
        ]);
        assert_eq!(
            log,
            ["start 0 ToolUse { id: \"t0\", name: \"f\" }", "stop 0"]
        );
    }
}
