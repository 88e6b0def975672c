//! How thinking reaches OpenAI clients. Chat Completions has no thinking field; the de-facto
//! one is `reasoning_content` (what the OpenAI encoder writes), but some clients only render
//! `content`, so the operator can have thinking shown inline between `<thinking>` or `<think>`
//! tags instead. The tags variants are a canonical-event rewrite in front of the encoder:
//! thinking deltas become text deltas wrapped in the tags.

use std::fmt;

use dialects::canonical::StreamEvent;

/// `thinkingFormat` in `/api/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ThinkingFormat {
    /// `delta.reasoning_content` / `message.reasoning_content` (the encoder's own behaviour).
    #[default]
    #[serde(rename = "reasoning_content")]
    ReasoningContent,
    /// Inline in `content` between `<thinking>` and `</thinking>`.
    #[serde(rename = "thinking")]
    ThinkingTags,
    /// Inline in `content` between `<think>` and `</think>`.
    #[serde(rename = "think")]
    ThinkTags,
}

impl ThinkingFormat {
    /// Every accepted value, for error messages.
    pub const VALUES: &'static str = "\"reasoning_content\", \"thinking\" or \"think\"";

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reasoning_content" => Some(Self::ReasoningContent),
            "thinking" => Some(Self::ThinkingTags),
            "think" => Some(Self::ThinkTags),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReasoningContent => "reasoning_content",
            Self::ThinkingTags => "thinking",
            Self::ThinkTags => "think",
        }
    }

    /// The rewrite this format needs, if any.
    pub fn adapter(self) -> Option<TagAdapter> {
        match self {
            Self::ReasoningContent => None,
            Self::ThinkingTags => Some(TagAdapter::new("thinking")),
            Self::ThinkTags => Some(TagAdapter::new("think")),
        }
    }
}

impl fmt::Display for ThinkingFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rewrites thinking as tagged text: the first thinking delta opens the tag, the first event
/// of anything else (text, a tool call, the stop, an error) closes it first. Signatures and
/// redacted thinking have no place in text and are dropped, as the OpenAI encoder drops them.
#[derive(Debug)]
pub struct TagAdapter {
    open: String,
    close: String,
    inside: bool,
}

impl TagAdapter {
    fn new(tag: &str) -> Self {
        Self {
            open: format!("<{tag}>\n"),
            close: format!("\n</{tag}>\n\n"),
            inside: false,
        }
    }

    /// Passes `event`, rewritten, to `emit`.
    pub fn apply(&mut self, event: &StreamEvent, emit: &mut dyn FnMut(&StreamEvent)) {
        match event {
            StreamEvent::ThinkingDelta(text) => {
                if text.is_empty() {
                    return;
                }
                if self.inside {
                    emit(&StreamEvent::TextDelta(text.clone()));
                } else {
                    self.inside = true;
                    emit(&StreamEvent::TextDelta(format!("{}{text}", self.open)));
                }
            }
            StreamEvent::ThinkingSignature(_) | StreamEvent::RedactedThinking(_) => {}
            // Neither ends the thinking: usage may be reported at any time.
            StreamEvent::Start(_) | StreamEvent::Usage(_) => emit(event),
            other => {
                if self.inside {
                    self.inside = false;
                    emit(&StreamEvent::TextDelta(self.close.clone()));
                }
                emit(other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialects::canonical::StopReason;

    fn run(format: ThinkingFormat, events: &[StreamEvent]) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        let mut a = format.adapter().unwrap();
        for e in events {
            a.apply(e, &mut |e| out.push(e.clone()));
        }
        out
    }

    fn text(events: &[StreamEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn thinking_becomes_tagged_text() {
        let events = [
            StreamEvent::ThinkingDelta("let me ".into()),
            StreamEvent::ThinkingDelta("see".into()),
            StreamEvent::ThinkingSignature("sig".into()),
            StreamEvent::TextDelta("Answer.".into()),
            StreamEvent::Stop(StopReason::EndTurn),
        ];
        let out = run(ThinkingFormat::ThinkTags, &events);
        assert_eq!(text(&out), "<think>\nlet me see\n</think>\n\nAnswer.");
        assert!(out.iter().all(|e| !matches!(
            e,
            StreamEvent::ThinkingDelta(_) | StreamEvent::ThinkingSignature(_)
        )));
        assert_eq!(out.last(), Some(&StreamEvent::Stop(StopReason::EndTurn)));
    }

    #[test]
    fn the_tag_closes_before_a_tool_call_or_the_stop() {
        let out = run(
            ThinkingFormat::ThinkingTags,
            &[
                StreamEvent::ThinkingDelta("plan".into()),
                StreamEvent::ToolUseStart {
                    index: 0,
                    id: "t".into(),
                    name: "f".into(),
                },
            ],
        );
        assert_eq!(text(&out), "<thinking>\nplan\n</thinking>\n\n");
        assert!(matches!(out[2], StreamEvent::ToolUseStart { .. }));
        let out = run(
            ThinkingFormat::ThinkingTags,
            &[
                StreamEvent::ThinkingDelta("only".into()),
                StreamEvent::Stop(StopReason::MaxTokens),
            ],
        );
        assert_eq!(text(&out), "<thinking>\nonly\n</thinking>\n\n");
    }

    #[test]
    fn values_round_trip() {
        for f in [
            ThinkingFormat::ReasoningContent,
            ThinkingFormat::ThinkingTags,
            ThinkingFormat::ThinkTags,
        ] {
            assert_eq!(ThinkingFormat::parse(f.as_str()), Some(f));
            let json = serde_json::to_value(f).unwrap();
            assert_eq!(json, f.as_str());
        }
        assert_eq!(ThinkingFormat::parse("tags"), None);
        assert!(ThinkingFormat::ReasoningContent.adapter().is_none());
    }
}
