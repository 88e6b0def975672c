//! Builds a response body as a list of pre-encoded [`Step`]s. Each frame is encoded once with
//! `kiro_wire::encode` into a shared buffer; payload JSON is written into a scratch buffer and
//! split off without copying. With no pacing the whole stream becomes one `Data` step; timers
//! are inserted only where pacing or a script asks for silence.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kiro_wire::{Frame, Header, HeaderValue};

use crate::body::Step;
use crate::settings::Pace;

/// Minimum pause before an abort, so hyper flushes the bytes already queued (it only flushes
/// when the body is pending).
const FLUSH_BEFORE_ABORT: Duration = Duration::from_millis(2);

/// Characters per token for pacing by tokens per second.
const CHARS_PER_TOKEN: f64 = 4.0;

/// Accumulates frames and timing into [`Step`]s.
#[derive(Debug)]
pub struct StreamWriter {
    steps: Vec<Step>,
    buf: BytesMut,
    scratch: BytesMut,
    /// Reused event frame: only the `:event-type` value and the payload change.
    frame: Frame,
    pace: Pace,
    frames: usize,
    ended: bool,
    /// Bytes of text, thinking and tool input emitted (for `outputTokens`).
    pub output_bytes: usize,
}

impl StreamWriter {
    pub fn new(pace: Pace) -> Self {
        StreamWriter {
            steps: Vec::new(),
            buf: BytesMut::with_capacity(4096),
            scratch: BytesMut::with_capacity(4096),
            frame: Frame::new(
                vec![
                    Header::new(":event-type", "assistantResponseEvent"),
                    Header::new(":content-type", "application/json"),
                    Header::new(":message-type", "event"),
                ],
                Bytes::new(),
            ),
            pace,
            frames: 0,
            ended: false,
            output_bytes: 0,
        }
    }

    /// True once a terminal step (abort, reset, close) was written.
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.steps.push(Step::Data(self.buf.split().freeze()));
        }
    }

    /// Inserts the pause due before the next frame; `content_chars` sizes it under a
    /// tokens-per-second pace.
    fn pace_before(&mut self, content_chars: Option<usize>) {
        let ms = if self.frames == 0 {
            self.pace.first_event_ms as f64
        } else {
            match (self.pace.tokens_per_second, content_chars) {
                (Some(tps), Some(chars)) if tps > 0.0 => {
                    (chars as f64 / CHARS_PER_TOKEN).max(1.0) / tps * 1000.0
                }
                _ => self.pace.frame_interval_ms as f64,
            }
        };
        self.frames += 1;
        if ms >= 0.5 {
            self.flush();
            self.steps
                .push(Step::Sleep(Duration::from_micros((ms * 1000.0) as u64)));
        }
    }

    fn emit_frame(&mut self, frame_ref: Option<&Frame>) {
        let frame = frame_ref.unwrap_or(&self.frame);
        if let Err(e) = kiro_wire::encode(frame, &mut self.buf) {
            tracing::warn!(error = %e, "scripted frame cannot be encoded; skipped");
        }
    }

    /// An event frame whose payload is the scratch buffer's current content.
    fn event_from_scratch(&mut self, event_type: HeaderValue, content_chars: Option<usize>) {
        if self.ended {
            self.scratch.clear();
            return;
        }
        self.pace_before(content_chars);
        let payload = self.scratch.split().freeze();
        self.frame.headers[0].value = event_type;
        self.frame.payload = payload;
        self.emit_frame(None);
        self.frame.payload = Bytes::new();
    }

    fn json_str(&mut self, s: &str) {
        // Serialising a &str into memory cannot fail.
        let _ = serde_json::to_writer((&mut self.scratch).writer(), s);
    }

    fn json_value<T: serde::Serialize>(&mut self, v: &T) {
        if let Err(e) = serde_json::to_writer((&mut self.scratch).writer(), v) {
            tracing::warn!(error = %e, "payload not serialisable");
        }
    }

    /// `assistantResponseEvent {"content": text}`.
    pub fn text(&mut self, text: &str) {
        self.scratch.put_slice(b"{\"content\":");
        self.json_str(text);
        self.scratch.put_u8(b'}');
        self.output_bytes += text.len();
        self.event_from_scratch(
            HeaderValue::from("assistantResponseEvent"),
            Some(text.chars().count()),
        );
    }

    /// An event with a payload given as exact text (may be JSON a strict parser rejects).
    pub fn event_text(&mut self, event_type: HeaderValue, payload: &str) {
        self.scratch.put_slice(payload.as_bytes());
        self.event_from_scratch(event_type, None);
    }

    /// An event with a serialisable payload.
    pub fn event_json<T: serde::Serialize>(&mut self, event_type: HeaderValue, payload: &T) {
        self.json_value(payload);
        self.event_from_scratch(event_type, None);
    }

    /// `reasoningContentEvent`.
    pub fn reasoning(
        &mut self,
        text: Option<&str>,
        signature: Option<&str>,
        redacted: Option<&str>,
    ) {
        let ev = kiro_wire::event::ReasoningContentEvent {
            text: text.map(str::to_owned),
            signature: signature.map(str::to_owned),
            redacted_content: redacted.map(str::to_owned),
        };
        let chars = text.map(|t| t.chars().count());
        self.output_bytes += text.map_or(0, str::len);
        self.json_value(&ev);
        self.event_from_scratch(HeaderValue::from("reasoningContentEvent"), chars);
    }

    fn tool_head(&mut self, name: &str, id: &str) {
        // Key order as captured (spec §6.5 example C): name, then toolUseId.
        self.scratch.put_slice(b"{\"name\":");
        self.json_str(name);
        self.scratch.put_slice(b",\"toolUseId\":");
        self.json_str(id);
    }

    /// The opening `toolUseEvent`: `name` and `toolUseId`, no `input`.
    pub fn tool_start(&mut self, name: &str, id: &str) {
        self.tool_head(name, id);
        self.scratch.put_u8(b'}');
        self.event_from_scratch(HeaderValue::from("toolUseEvent"), None);
    }

    /// A `toolUseEvent` input fragment (optionally also the stop frame).
    pub fn tool_fragment(&mut self, name: &str, id: &str, fragment: &str, stop: bool) {
        self.tool_head(name, id);
        self.scratch.put_slice(b",\"input\":");
        self.json_str(fragment);
        if stop {
            self.scratch.put_slice(b",\"stop\":true");
        }
        self.scratch.put_u8(b'}');
        self.output_bytes += fragment.len();
        self.event_from_scratch(
            HeaderValue::from("toolUseEvent"),
            Some(fragment.chars().count()),
        );
    }

    /// A `toolUseEvent` whose `input` is a whole JSON object (the nested variant).
    pub fn tool_object(&mut self, name: &str, id: &str, input: &serde_json::Value) {
        self.tool_head(name, id);
        self.scratch.put_slice(b",\"input\":");
        let before = self.scratch.len();
        self.json_value(input);
        self.output_bytes += self.scratch.len() - before;
        self.scratch.put_u8(b'}');
        self.event_from_scratch(HeaderValue::from("toolUseEvent"), None);
    }

    /// The closing `toolUseEvent` with `stop: true`.
    pub fn tool_stop(&mut self, name: &str, id: &str) {
        self.tool_head(name, id);
        self.scratch.put_slice(b",\"stop\":true}");
        self.event_from_scratch(HeaderValue::from("toolUseEvent"), None);
    }

    /// Any frame, encoded as given.
    pub fn frame(&mut self, frame: &Frame) {
        if self.ended {
            return;
        }
        self.pace_before(None);
        self.emit_frame(Some(frame));
    }

    /// Bytes verbatim (replays, corrupted frames).
    pub fn raw(&mut self, bytes: &[u8]) {
        if self.ended {
            return;
        }
        self.pace_before(None);
        self.buf.extend_from_slice(bytes);
    }

    /// Silence for `ms`.
    pub fn sleep(&mut self, ms: u64) {
        if self.ended || ms == 0 {
            return;
        }
        self.flush();
        self.steps.push(Step::Sleep(Duration::from_millis(ms)));
    }

    /// Ends the body cleanly here.
    pub fn close(&mut self) {
        self.ended = true;
    }

    /// Aborts the connection after the bytes so far.
    pub fn abort(&mut self) {
        if self.ended {
            return;
        }
        self.flush();
        self.steps.push(Step::Sleep(FLUSH_BEFORE_ABORT));
        self.steps.push(Step::Abort);
        self.ended = true;
    }

    /// Resets the connection `flush_ms` after the bytes so far.
    pub fn reset(&mut self, flush_ms: u64) {
        if self.ended {
            return;
        }
        self.flush();
        self.steps.push(Step::Sleep(
            Duration::from_millis(flush_ms).max(FLUSH_BEFORE_ABORT),
        ));
        self.steps.push(Step::Reset);
        self.ended = true;
    }

    /// The steps; with `http_chunk_bytes`, every data step is re-cut into pieces of that size.
    pub fn finish(mut self, http_chunk_bytes: Option<usize>) -> Vec<Step> {
        self.flush();
        match http_chunk_bytes.filter(|n| *n > 0) {
            None => self.steps,
            Some(n) => {
                let mut out = Vec::with_capacity(self.steps.len());
                for step in self.steps {
                    match step {
                        Step::Data(mut b) => {
                            while b.len() > n {
                                out.push(Step::Data(b.split_to(n)));
                            }
                            if !b.is_empty() {
                                out.push(Step::Data(b));
                            }
                        }
                        other => out.push(other),
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaced_is_one_chunk() {
        let mut w = StreamWriter::new(Pace::default());
        w.text("a");
        w.text("b");
        let steps = w.finish(None);
        assert_eq!(steps.len(), 1);
    }

    #[test]
    fn example_a_bytes() {
        let mut w = StreamWriter::new(Pace::default());
        w.text("Hi");
        let steps = w.finish(None);
        let Step::Data(b) = &steps[0] else {
            panic!("data")
        };
        assert_eq!(
            hex::encode(b),
            "0000007c0000005c3bddcf780b3a6576656e742d74797065070016617373697374616e74526573706f6e73654576656e740d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74223a224869227db02babdc"
        );
    }

    #[test]
    fn example_c_tool_start() {
        let mut w = StreamWriter::new(Pace::default());
        w.tool_start("Write", "tooluse_1DCqyICMR-CfTS36UNNiwA");
        let steps = w.finish(None);
        let Step::Data(b) = &steps[0] else {
            panic!("data")
        };
        assert!(hex::encode(b).ends_with("c306fe47"));
    }

    #[test]
    fn paced_inserts_sleeps_and_chunks() {
        let mut w = StreamWriter::new(Pace {
            first_event_ms: 5,
            frame_interval_ms: 1,
            ..Pace::default()
        });
        w.text("a");
        w.text("b");
        let steps = w.finish(Some(10));
        assert!(matches!(steps[0], Step::Sleep(_)));
        assert!(steps.iter().filter(|s| matches!(s, Step::Data(_))).count() > 2);
    }
}
