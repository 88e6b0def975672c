//! Body capture on the request path, only while the operator has it on (see `crate::stats`):
//! the trace keeps the beginning of the client's request body and the reply the client got,
//! and hands both over with the record. Nothing is redacted or capped exactly here (that is
//! the statistics writer's work, off the request path); the request is only cut a little past
//! the cap, so that a large body is not held in memory, and a secret straddling the cap is
//! still whole when the writer looks for it.

use std::fmt;

use dialects::canonical::StreamEvent;
use dialects::encode::ReplyFolder;
use serde_json::Value;

/// Bytes kept past the cap: longer than any secret the writer recognises.
const MARGIN: usize = 4096;

/// What was captured of one request, as it travels to the statistics writer. Its `Debug`
/// shows sizes only: the text is not redacted yet.
#[derive(Clone)]
pub struct CapturedBodies {
    /// The beginning of the client's request body (lossy UTF-8).
    pub request: String,
    /// The whole request body's length in bytes.
    pub request_len: usize,
    /// The reply as JSON: the response body, the error body, or the fold of a streamed reply
    /// (as the model produced it, before the notice and thinking-tag rewrites).
    pub response: Option<Value>,
    /// The cap each stored body is cut at.
    pub max_bytes: usize,
}

impl fmt::Debug for CapturedBodies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedBodies")
            .field("request_len", &self.request_len)
            .field("response", &self.response.is_some())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// Capture in progress, inside a [`super::Trace`].
pub(super) struct Capture {
    bodies: CapturedBodies,
    /// Folds a streamed reply's events as they go out.
    folder: Option<Box<dyn ReplyFolder>>,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("bodies", &self.bodies)
            .field("folding", &self.folder.is_some())
            .finish()
    }
}

impl Capture {
    pub(super) fn new(body: &[u8], max_bytes: usize) -> Self {
        let keep = body.len().min(max_bytes.saturating_add(MARGIN));
        Capture {
            bodies: CapturedBodies {
                request: String::from_utf8_lossy(&body[..keep]).into_owned(),
                request_len: body.len(),
                response: None,
                max_bytes,
            },
            folder: None,
        }
    }

    pub(super) fn fold_stream(&mut self, mut folder: Box<dyn ReplyFolder>, start: &StreamEvent) {
        folder.push(start);
        self.folder = Some(folder);
    }

    pub(super) fn event(&mut self, event: &StreamEvent) {
        if let Some(folder) = &mut self.folder {
            folder.push(event);
        }
    }

    pub(super) fn reply(&mut self, json: Value) {
        self.folder = None;
        self.bodies.response = Some(json);
    }

    pub(super) fn finish(self) -> CapturedBodies {
        let mut bodies = self.bodies;
        if let Some(folder) = self.folder {
            bodies.response = Some(folder.finish().1);
        }
        bodies
    }
}
