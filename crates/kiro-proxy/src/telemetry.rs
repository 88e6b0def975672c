//! What one client request did, reported once when it ends, to whoever keeps statistics:
//! the request log, the aggregates, the Prometheus metrics, the per-key limits.
//!
//! The request path only fills a [`RequestRecord`] and hands it to [`Telemetry::record`]; every
//! observer must return at once (push to a channel, bump an atomic) so the hot path never waits
//! on a lock held across I/O or on the disk.

mod capture;
mod trace;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

pub use capture::CapturedBodies;
pub use trace::{CLIENT_CLOSED, Trace, kind_label, stop_label, unix_millis};

use crate::client_auth::ClientIdentity;

/// Which client credential a request used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum KeyRef {
    /// A key from `KIRO_API_KEYS`, by its position.
    Configured { index: usize },
    /// A key created with the admin API.
    Stored { id: String, name: String },
    /// No key configured; a loopback client.
    Loopback,
    /// The request was refused before a key was recognised.
    None,
}

impl From<&ClientIdentity> for KeyRef {
    fn from(identity: &ClientIdentity) -> Self {
        match identity {
            ClientIdentity::ConfiguredKey { index } => KeyRef::Configured { index: *index },
            ClientIdentity::StoredKey { id, name } => KeyRef::Stored {
                id: id.clone(),
                name: name.clone(),
            },
            ClientIdentity::Loopback => KeyRef::Loopback,
        }
    }
}

/// The outcome of one client request on `/v1/messages` or `/v1/chat/completions`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub request_id: String,
    /// Unix milliseconds when the request arrived.
    pub started_at_ms: i64,
    pub key: KeyRef,
    pub client_ip: Option<IpAddr>,
    /// `anthropic` or `openai`.
    pub dialect: &'static str,
    pub stream: bool,
    /// The model name the client sent.
    pub model_requested: Option<String>,
    /// The upstream model id it resolved to.
    pub model_upstream: Option<String>,
    /// The account that served the final attempt.
    pub account_id: Option<String>,
    /// Upstream attempts made (0 when refused before any).
    pub attempts: u32,
    /// HTTP status the client got (200 for a stream that later failed in band;
    /// [`CLIENT_CLOSED`] when the client left before any response).
    pub status: u16,
    /// `end_turn`, `max_tokens`, `tool_use`, `stop_sequence`, `context_window_exceeded`.
    pub stop_reason: Option<&'static str>,
    /// Short error class when the request failed (before or during the reply).
    pub error: Option<String>,
    /// The message the client got with that error (redacted and capped when stored).
    pub error_message: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    /// Credits the upstream metered.
    pub credits: f64,
    /// Arrival to the last byte sent (or the failure).
    pub latency_ms: f64,
    /// Arrival to the first content byte sent, when there was one.
    pub ttft_ms: Option<f64>,
    /// Time spent waiting on the upstream (headers, first frame, and the frames of the reply);
    /// `latency_ms - upstream_ms` is what the proxy itself added.
    pub upstream_ms: f64,
    /// The client went away before the reply ended.
    pub client_disconnected: bool,
    /// The request and reply bodies, only while body capture is on (not redacted yet: only
    /// the statistics writer reads them, and redacts them before they are stored).
    #[serde(skip)]
    pub bodies: Option<Arc<CapturedBodies>>,
}

/// Something that keeps statistics of requests. Must not block.
pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    fn observe(&self, record: &RequestRecord);
}

/// The observers at one time; replaced whole on subscribe.
type Observers = Arc<[Arc<dyn RequestObserver>]>;

/// The fan-out of request records to every observer. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Telemetry {
    /// Copy-on-subscribe: recording clones one `Arc`, never the list.
    observers: Arc<RwLock<Observers>>,
}

impl Telemetry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an observer; it sees every request recorded from now on.
    pub fn subscribe(&self, observer: Arc<dyn RequestObserver>) {
        let mut slot = self
            .observers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut list: Vec<_> = slot.iter().cloned().collect();
        list.push(observer);
        *slot = list.into();
    }

    /// Hands a finished request to every observer.
    pub fn record(&self, record: &RequestRecord) {
        let observers = self
            .observers
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        for o in observers.iter() {
            o.observe(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Collect(Mutex<Vec<String>>);

    impl RequestObserver for Collect {
        fn observe(&self, record: &RequestRecord) {
            self.0.lock().unwrap().push(record.request_id.clone());
        }
    }

    #[test]
    fn every_observer_sees_every_record() {
        let t = Telemetry::new();
        let a = Arc::new(Collect::default());
        let b = Arc::new(Collect::default());
        t.subscribe(a.clone());
        t.subscribe(b.clone());
        let rec = RequestRecord {
            request_id: "r1".into(),
            started_at_ms: 0,
            key: KeyRef::None,
            client_ip: None,
            dialect: "openai",
            stream: false,
            model_requested: None,
            model_upstream: None,
            account_id: None,
            attempts: 0,
            status: 400,
            stop_reason: None,
            error: Some("invalid_request".into()),
            error_message: None,
            input_tokens: 0,
            output_tokens: 0,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
            credits: 0.0,
            latency_ms: 0.1,
            ttft_ms: None,
            upstream_ms: 0.0,
            client_disconnected: false,
            bodies: None,
        };
        t.record(&rec);
        assert_eq!(*a.0.lock().unwrap(), ["r1"]);
        assert_eq!(*b.0.lock().unwrap(), ["r1"]);
    }
}
