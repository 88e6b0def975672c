//! The runtime settings' rewrites of a reply (thinking as tagged text for OpenAI clients, the
//! operator notice), as wrappers around the dialect's encoder and folder: the request path
//! asks for its encoder or folder here and is otherwise unchanged. With nothing to rewrite, the
//! dialect's own encoder or folder is returned as is.

use bytes::BytesMut;
use dialects::canonical::StreamEvent;
use dialects::encode::{ReplyEncoder, ReplyFolder};

use super::notice::NoticeAdapter;
use super::thinking::TagAdapter;

/// The rewrites one reply gets, applied in order: thinking tags, then the notice (so that the
/// notice follows a closing tag).
#[derive(Debug, Default)]
pub(super) struct Adapters {
    pub tags: Option<TagAdapter>,
    pub notice: Option<NoticeAdapter>,
}

impl Adapters {
    pub fn is_empty(&self) -> bool {
        self.tags.is_none() && self.notice.is_none()
    }

    fn each(&mut self, event: &StreamEvent, emit: &mut dyn FnMut(&StreamEvent)) {
        let Adapters { tags, notice } = self;
        let mut after_tags = |e: &StreamEvent| match notice {
            Some(n) => n.apply(e, emit),
            None => emit(e),
        };
        match tags {
            Some(t) => t.apply(event, &mut after_tags),
            None => after_tags(event),
        }
    }

    pub fn encoder(self, inner: Box<dyn ReplyEncoder>) -> Box<dyn ReplyEncoder> {
        if self.is_empty() {
            inner
        } else {
            Box::new(AdaptedEncoder {
                inner,
                adapters: self,
            })
        }
    }

    pub fn folder(self, inner: Box<dyn ReplyFolder>) -> Box<dyn ReplyFolder> {
        if self.is_empty() {
            inner
        } else {
            Box::new(AdaptedFolder {
                inner,
                adapters: self,
            })
        }
    }
}

struct AdaptedEncoder {
    inner: Box<dyn ReplyEncoder>,
    adapters: Adapters,
}

impl ReplyEncoder for AdaptedEncoder {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        let AdaptedEncoder { inner, adapters } = self;
        adapters.each(event, &mut |e| inner.event(e, out));
    }

    fn keepalive(&mut self, out: &mut BytesMut) {
        self.inner.keepalive(out);
    }
}

struct AdaptedFolder {
    inner: Box<dyn ReplyFolder>,
    adapters: Adapters,
}

impl ReplyFolder for AdaptedFolder {
    fn push(&mut self, event: &StreamEvent) {
        let AdaptedFolder { inner, adapters } = self;
        adapters.each(event, &mut |e| inner.push(e));
    }

    fn finish(self: Box<Self>) -> (u16, serde_json::Value) {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dialects::canonical::{Request, StartInfo, StopReason};
    use dialects::openai;

    use super::*;
    use crate::settings::notice::{SeenConversations, conversation_key};
    use crate::settings::thinking::ThinkingFormat;

    #[test]
    fn openai_fold_shows_tagged_thinking_then_the_notice() {
        let req = Request::default();
        let adapters = Adapters {
            tags: ThinkingFormat::ThinkTags.adapter(),
            notice: Some(NoticeAdapter::new(
                "Read me.",
                conversation_key(&req),
                Arc::new(SeenConversations::default()),
            )),
        };
        let mut folder = adapters.folder(Box::new(openai::Folder::new("m")));
        for e in [
            StreamEvent::Start(StartInfo::default()),
            StreamEvent::ThinkingDelta("hmm".into()),
            StreamEvent::TextDelta("Hi.".into()),
            StreamEvent::Stop(StopReason::EndTurn),
        ] {
            folder.push(&e);
        }
        let (status, json) = folder.finish();
        assert_eq!(status, 200);
        let message = &json["choices"][0]["message"];
        assert_eq!(
            message["content"],
            "<think>\nhmm\n</think>\n\nHi.\n\nRead me."
        );
        assert!(
            message
                .get("reasoning_content")
                .is_none_or(|r| r.is_null() || r == ""),
            "{message}"
        );
    }

    #[test]
    fn nothing_to_do_returns_the_dialect_encoder() {
        let adapters = Adapters::default();
        assert!(adapters.is_empty());
    }
}
