//! The operator notice: a Markdown message shown once per conversation, appended at the end of
//! a reply as its own final text delta (after a blank line), never in a reply that stops for a
//! tool call, and taken out of the history the client sends back so the model never reads it.
//! It is also added to the message of 401 answers, so users of a rotated key learn where to get
//! a new one.
//!
//! A conversation is the client's session id when it sends one, else the hash of its first
//! user message. Which conversations saw the notice is kept in memory (two bounded
//! generations): after a restart the notice shows once more.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use dialects::canonical::{Part, Request, Role, StopReason, StreamEvent};
use sha2::{Digest as _, Sha256};

use crate::app::AppState;

/// What separates the notice from the reply before it.
pub const SEPARATOR: &str = "\n\n";
/// Conversations remembered per generation (16 bytes each).
const GENERATION: usize = 50_000;
/// Largest 401 body rewritten (they are a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A conversation's identity: 16 bytes of a SHA-256.
pub type ConversationKey = [u8; 16];

/// The conversation `req` belongs to: its session id, else its first user message.
pub fn conversation_key(req: &Request) -> ConversationKey {
    let mut h = Sha256::new();
    match req
        .metadata
        .session_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(session) => {
            h.update(b"session\0");
            h.update(session.as_bytes());
        }
        None => {
            h.update(b"first-user-message\0");
            let first = req.messages.iter().find(|m| m.role == Role::User);
            for part in first.map(|m| m.content.as_slice()).unwrap_or_default() {
                if let Part::Text(t) = part {
                    h.update(t.as_bytes());
                    h.update(b"\0");
                }
            }
        }
    }
    let digest = h.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The conversations that were shown the notice: two generations, the older one dropped when
/// the newer one fills, so memory stays bounded and recent conversations are remembered.
#[derive(Debug, Default)]
pub struct SeenConversations {
    generations: Mutex<(HashSet<ConversationKey>, HashSet<ConversationKey>)>,
}

impl SeenConversations {
    /// True the first time `key` is offered (and remembers it).
    pub fn first_time(&self, key: ConversationKey) -> bool {
        let mut g = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (current, previous) = &mut *g;
        if current.contains(&key) || previous.contains(&key) {
            return false;
        }
        if current.len() >= GENERATION {
            *previous = std::mem::take(current);
        }
        current.insert(key);
        true
    }

    /// Forgets every conversation (a new notice text is news to everyone).
    pub fn clear(&self) {
        let mut g = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        g.0.clear();
        g.1.clear();
    }
}

/// Removes the notice from the end of every assistant turn of `req`: the decoders read it back
/// as plain assistant text. A turn left empty is dropped (the mapping merges the turns around
/// it). Returns how many turns carried it.
pub fn strip(req: &mut Request, markdown: &str) -> usize {
    let notice = markdown.trim();
    if notice.is_empty() {
        return 0;
    }
    let mut stripped = 0;
    let mut emptied = Vec::new();
    for (n, m) in req.messages.iter_mut().enumerate() {
        if m.role != Role::Assistant {
            continue;
        }
        let Some(i) = m.content.iter().rposition(|p| matches!(p, Part::Text(_))) else {
            continue;
        };
        let Part::Text(text) = &mut m.content[i] else {
            continue;
        };
        let Some(rest) = text.trim_end().strip_suffix(notice) else {
            continue;
        };
        let rest = rest.trim_end().len();
        text.truncate(rest);
        if text.is_empty() {
            m.content.remove(i);
            if m.content.is_empty() {
                emptied.push(n);
            }
        }
        stripped += 1;
    }
    for n in emptied.into_iter().rev() {
        req.messages.remove(n);
    }
    stripped
}

/// Appends the notice before the final `Stop` of a reply, once per conversation.
#[derive(Debug)]
pub struct NoticeAdapter {
    text: String,
    key: ConversationKey,
    seen: Arc<SeenConversations>,
}

impl NoticeAdapter {
    pub fn new(markdown: &str, key: ConversationKey, seen: Arc<SeenConversations>) -> Self {
        Self {
            text: format!("{SEPARATOR}{}", markdown.trim()),
            key,
            seen,
        }
    }

    /// Passes `event` to `emit`, preceded by the notice when it is the stop of a reply that
    /// does not hand over to a tool and the conversation has not seen it.
    pub fn apply(&mut self, event: &StreamEvent, emit: &mut dyn FnMut(&StreamEvent)) {
        if let StreamEvent::Stop(reason) = event {
            if *reason != StopReason::ToolUse && self.seen.first_time(self.key) {
                emit(&StreamEvent::TextDelta(std::mem::take(&mut self.text)));
            }
        }
        emit(event);
    }
}

/// Middleware of the client routes: a 401 answer's `error.message` gets the notice appended
/// (both dialects nest the message there), when the notice is on.
pub async fn on_unauthorized(
    State(app): State<AppState>,
    req: HttpRequest,
    next: Next,
) -> Response {
    let resp = next.run(req).await;
    if resp.status() != StatusCode::UNAUTHORIZED {
        return resp;
    }
    let Some(markdown) = app.settings.notice_text() else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let rewritten = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|mut json| {
            let message = json.get_mut("error")?.get_mut("message")?;
            let text = message.as_str()?;
            *message = serde_json::Value::String(format!("{text}{SEPARATOR}{markdown}"));
            serde_json::to_vec(&json).ok()
        });
    match rewritten {
        Some(body) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialects::canonical::Message;

    fn user(text: &str) -> Message {
        Message {
            role: Role::User,
            content: vec![Part::Text(text.into())],
        }
    }

    fn assistant(parts: Vec<Part>) -> Message {
        Message {
            role: Role::Assistant,
            content: parts,
        }
    }

    const NOTICE: &str = "**Note:** keys rotate on Monday; see https://example.test/keys";

    #[test]
    fn strips_the_notice_merged_into_the_last_text_or_alone() {
        let mut req = Request {
            messages: vec![
                user("hi"),
                assistant(vec![Part::Text(format!("Hello!{SEPARATOR}{NOTICE}"))]),
                user("and?"),
                assistant(vec![
                    Part::Text("first".into()),
                    Part::Text(format!("{NOTICE}\n")),
                ]),
                user("more"),
                assistant(vec![Part::Text(NOTICE.into())]),
                user("last"),
            ],
            ..Request::default()
        };
        assert_eq!(strip(&mut req, NOTICE), 3);
        assert_eq!(req.messages[1].content, vec![Part::Text("Hello!".into())]);
        assert_eq!(req.messages[3].content, vec![Part::Text("first".into())]);
        // The turn that held only the notice is gone; user turns are never touched.
        assert_eq!(req.messages.len(), 6);
        assert_eq!(req.messages[4], user("more"));
        assert_eq!(req.messages[5], user("last"));
    }

    #[test]
    fn leaves_other_text_alone() {
        let original = Request {
            messages: vec![
                user(NOTICE),
                assistant(vec![Part::Text(format!("{NOTICE} and more"))]),
                user("next"),
            ],
            ..Request::default()
        };
        let mut req = original.clone();
        assert_eq!(strip(&mut req, NOTICE), 0);
        assert_eq!(req, original);
        assert_eq!(strip(&mut req, "  "), 0);
    }

    #[test]
    fn once_per_conversation_and_never_before_a_tool_call() {
        let seen = Arc::new(SeenConversations::default());
        let key = conversation_key(&Request {
            messages: vec![user("first question")],
            ..Request::default()
        });
        let run = |stop: StopReason| {
            let mut out = Vec::new();
            let mut a = NoticeAdapter::new(NOTICE, key, seen.clone());
            for e in [StreamEvent::TextDelta("x".into()), StreamEvent::Stop(stop)] {
                a.apply(&e, &mut |e| out.push(e.clone()));
            }
            out
        };
        assert_eq!(
            run(StopReason::ToolUse).len(),
            2,
            "no notice on a tool turn"
        );
        let out = run(StopReason::EndTurn);
        assert_eq!(
            out[1],
            StreamEvent::TextDelta(format!("{SEPARATOR}{NOTICE}"))
        );
        assert_eq!(out[2], StreamEvent::Stop(StopReason::EndTurn));
        assert_eq!(run(StopReason::EndTurn).len(), 2, "shown once");
    }

    #[test]
    fn conversations_are_sessions_else_first_user_messages() {
        let mut a = Request {
            messages: vec![user("q1"), assistant(vec![]), user("q2")],
            ..Request::default()
        };
        let b = Request {
            messages: vec![user("q1")],
            ..Request::default()
        };
        assert_eq!(conversation_key(&a), conversation_key(&b));
        a.metadata.session_id = Some("s-1".into());
        assert_ne!(conversation_key(&a), conversation_key(&b));
    }

    #[test]
    fn memory_is_bounded() {
        let seen = SeenConversations::default();
        for i in 0..(GENERATION * 3) {
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&(i as u64).to_le_bytes());
            assert!(seen.first_time(k));
        }
        let g = seen.generations.lock().unwrap();
        assert!(g.0.len() + g.1.len() <= GENERATION * 2);
    }
}
