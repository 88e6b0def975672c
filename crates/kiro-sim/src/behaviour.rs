//! Behaviours queued through the control API for the next N matching requests: an error from
//! the catalogue, a scripted stream, or an arbitrary HTTP answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::errors::ErrorKind;
use crate::script::Script;

/// The chat path, which a behaviour without `path` applies to.
pub const CHAT_PATH: &str = "/generateAssistantResponse";

/// What to answer instead of the normal response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Behaviour {
    /// A catalogued error (spec §8.2/§8.3), optionally with another status and a `Retry-After`.
    Error {
        kind: ErrorKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// A scripted chat response (chat path only).
    Script { script: Box<Script> },
    /// Any HTTP answer, verbatim.
    Http {
        status: u16,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    },
}

fn one() -> u32 {
    1
}

/// `POST /_sim/behaviours`.
#[derive(Debug, Clone, Deserialize)]
pub struct QueueRequest {
    #[serde(flatten)]
    pub behaviour: Behaviour,
    /// How many matching requests get it; 0 = every one until cleared.
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests authenticated as this account.
    #[serde(default)]
    pub account: Option<String>,
    /// Only this path (e.g. `/token`); `*` = any; absent = the chat path.
    #[serde(default)]
    pub path: Option<String>,
    /// Delay before the response headers.
    #[serde(default)]
    pub delay_ms: u64,
}

/// A queued behaviour and what is left of it.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedBehaviour {
    pub id: u64,
    #[serde(flatten)]
    pub behaviour: Behaviour,
    /// Uses left; `None` = unlimited.
    pub remaining: Option<u32>,
    pub account: Option<String>,
    pub path: String,
    pub delay_ms: u64,
}

/// One taken behaviour.
#[derive(Debug, Clone)]
pub struct Taken {
    pub id: u64,
    pub behaviour: Behaviour,
    pub delay_ms: u64,
}

/// FIFO of behaviours; the first match wins.
#[derive(Debug, Default)]
pub struct BehaviourQueue {
    entries: Vec<QueuedBehaviour>,
    next_id: u64,
}

impl BehaviourQueue {
    pub fn push(&mut self, req: QueueRequest) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.entries.push(QueuedBehaviour {
            id,
            behaviour: req.behaviour,
            remaining: (req.count > 0).then_some(req.count),
            account: req.account,
            path: req.path.unwrap_or_else(|| CHAT_PATH.to_owned()),
            delay_ms: req.delay_ms,
        });
        id
    }

    /// Takes one use of the first behaviour matching `path` and `account`.
    pub fn take(&mut self, path: &str, account: Option<&str>) -> Option<Taken> {
        if self.entries.is_empty() {
            return None;
        }
        let idx = self.entries.iter().position(|e| {
            (e.path == "*" || e.path == path)
                && e.account.as_deref().is_none_or(|a| Some(a) == account)
        })?;
        let entry = &mut self.entries[idx];
        let taken = Taken {
            id: entry.id,
            behaviour: entry.behaviour.clone(),
            delay_ms: entry.delay_ms,
        };
        if let Some(left) = entry.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.entries.remove(idx);
            }
        }
        Some(taken)
    }

    pub fn list(&self) -> &[QueuedBehaviour] {
        &self.entries
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id);
        before != self.entries.len()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind) -> Behaviour {
        Behaviour::Error {
            kind,
            status: None,
            retry_after: None,
        }
    }

    #[test]
    fn counts_paths_and_accounts() {
        let mut q = BehaviourQueue::default();
        q.push(QueueRequest {
            behaviour: err(ErrorKind::Throttling),
            count: 2,
            account: Some("a".into()),
            path: None,
            delay_ms: 0,
        });
        q.push(QueueRequest {
            behaviour: err(ErrorKind::InvalidGrant),
            count: 1,
            account: None,
            path: Some("/token".into()),
            delay_ms: 0,
        });
        assert!(q.take(CHAT_PATH, Some("b")).is_none());
        assert!(q.take("/token", None).is_some());
        assert!(q.take("/token", None).is_none());
        assert!(q.take(CHAT_PATH, Some("a")).is_some());
        assert!(q.take(CHAT_PATH, Some("a")).is_some());
        assert!(q.take(CHAT_PATH, Some("a")).is_none());
    }

    #[test]
    fn parses_flattened_json() {
        let r: QueueRequest = serde_json::from_value(serde_json::json!({
            "type": "error", "kind": "service_request_rate_exceeded", "retry_after": 7, "count": 0
        }))
        .unwrap();
        assert_eq!(r.count, 0);
        assert!(matches!(
            r.behaviour,
            Behaviour::Error {
                kind: ErrorKind::ServiceRequestRateExceeded,
                retry_after: Some(7),
                ..
            }
        ));
    }
}
