//! The request log: every upstream request (method, path, query, headers in arrival order, raw
//! body), who it authenticated as, what was answered, and the exact stream bytes served, for
//! tests to assert on (`GET /_sim/requests`). Bounded: the oldest entries drop off.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use serde::Serialize;

/// One logged request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub id: u64,
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// In arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub account: Option<String>,
    pub status: Option<u16>,
    /// Short label of what happened: `stream`, `error:<kind>`, `rejected:<rule>`, `behaviour:<id>`…
    pub outcome: Option<String>,
    /// The response body chunks of a stream, as planned (zero-copy views of what was sent).
    pub stream: Option<Vec<Bytes>>,
}

impl RecordedRequest {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The whole stream served, concatenated.
    pub fn stream_bytes(&self) -> Option<Bytes> {
        let chunks = self.stream.as_ref()?;
        if let [one] = chunks.as_slice() {
            return Some(one.clone());
        }
        let mut all = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
        for c in chunks {
            all.extend_from_slice(c);
        }
        Some(all.freeze())
    }

    /// The JSON form the control API returns.
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            id: self.id,
            at_ms: self.at_ms,
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: String::from_utf8_lossy(&self.body).into_owned(),
            body_json: self.body_json(),
            body_len: self.body.len(),
            account: self.account.as_deref(),
            status: self.status,
            outcome: self.outcome.as_deref(),
            stream_len: self.stream.as_ref().map(|s| s.iter().map(Bytes::len).sum()),
        }
    }
}

/// Serialised form of a [`RecordedRequest`].
#[derive(Debug, Serialize)]
pub struct RequestView<'a> {
    pub id: u64,
    pub at_ms: i64,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: String,
    pub body_json: Option<serde_json::Value>,
    pub body_len: usize,
    pub account: Option<&'a str>,
    pub status: Option<u16>,
    pub outcome: Option<&'a str>,
    pub stream_len: Option<usize>,
}

/// Bounded FIFO of [`RecordedRequest`]s with increasing ids.
#[derive(Debug)]
pub struct RequestLog {
    entries: VecDeque<RecordedRequest>,
    next_id: u64,
    capacity: usize,
}

impl RequestLog {
    pub fn new(capacity: usize) -> Self {
        RequestLog {
            entries: VecDeque::new(),
            next_id: 0,
            capacity,
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.entries.len() > capacity {
            self.entries.pop_front();
        }
    }

    /// Appends a request; returns its id.
    pub fn push(&mut self, mut entry: RecordedRequest) -> u64 {
        self.next_id += 1;
        entry.id = self.next_id;
        if self.capacity == 0 {
            return entry.id;
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.next_id
    }

    pub fn get(&self, id: u64) -> Option<&RecordedRequest> {
        let first = self.entries.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get(idx).filter(|e| e.id == id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut RecordedRequest> {
        let first = self.entries.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get_mut(idx).filter(|e| e.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.entries.iter()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> RecordedRequest {
        RecordedRequest {
            id: 0,
            at_ms: 0,
            method: "POST".into(),
            path: "/x".into(),
            query: None,
            headers: vec![],
            body: Bytes::new(),
            account: None,
            status: None,
            outcome: None,
            stream: None,
        }
    }

    #[test]
    fn bounded_and_addressable() {
        let mut log = RequestLog::new(2);
        let a = log.push(req());
        let b = log.push(req());
        let c = log.push(req());
        assert!(log.get(a).is_none());
        assert_eq!(log.get(b).map(|e| e.id), Some(b));
        assert_eq!(log.get(c).map(|e| e.id), Some(c));
        assert_eq!(log.len(), 2);
    }
}
