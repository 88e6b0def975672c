//! [`Trace`]: the record of one request, filled in as the request goes and reported exactly
//! once, when the trace is dropped: at the end of the handler for an answer that is complete
//! when it leaves, when the body ends for a streamed one, and also when the client goes away
//! (the handler future or the body stream is then dropped half-way).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dialects::canonical::{ClientError, ErrorKind, StopReason, StreamEvent, Usage};
use dialects::encode::ReplyFolder;

use super::capture::Capture;
use super::{KeyRef, RequestRecord, Telemetry};
use crate::client_auth::ClientIdentity;

/// Status recorded when no response was produced because the client went away first (the
/// `499 Client Closed Request` of common proxies).
pub const CLIENT_CLOSED: u16 = 499;

/// A request in progress. Reports its [`RequestRecord`] to the telemetry when dropped.
#[derive(Debug)]
pub struct Trace {
    /// `None` once handed off ([`Trace::hand_off`]): nothing to report from this one.
    telemetry: Option<Telemetry>,
    started: Instant,
    upstream: Duration,
    completed: bool,
    /// Label of the last upstream fault met, the most telling class when the request fails.
    last_fault: Option<&'static str>,
    /// Body capture, only while the operator has it on.
    capture: Option<Box<Capture>>,
    record: RequestRecord,
}

impl Trace {
    /// Starts the trace of a request arriving now.
    pub fn start(
        telemetry: &Telemetry,
        request_id: &str,
        dialect: &'static str,
        client_ip: Option<IpAddr>,
    ) -> Self {
        Trace {
            telemetry: Some(telemetry.clone()),
            started: Instant::now(),
            upstream: Duration::ZERO,
            completed: false,
            last_fault: None,
            capture: None,
            record: RequestRecord {
                request_id: request_id.to_owned(),
                started_at_ms: unix_millis(),
                client_ip,
                dialect,
                ..blank_record()
            },
        }
    }

    /// Counts the latency from `arrived`, when the request reached the service, rather than
    /// from the handler: the middleware and the body read are the proxy's work too.
    pub fn arrived_at(&mut self, arrived: Instant) {
        self.started = self.started.min(arrived);
    }

    /// The record as filled so far.
    pub fn record(&self) -> &RequestRecord {
        &self.record
    }

    pub fn set_key(&mut self, identity: &ClientIdentity) {
        self.record.key = KeyRef::from(identity);
    }

    /// What the client asked for, once the request is decoded and its model resolved.
    pub fn set_request(&mut self, model: &str, upstream_model: &str, stream: bool) {
        self.record.model_requested = Some(model.to_owned());
        self.record.model_upstream = Some(upstream_model.to_owned());
        self.record.stream = stream;
    }

    /// An upstream attempt on `account_id` is about to be made (`attempts` so far, this one
    /// included).
    pub fn attempt(&mut self, account_id: &str, attempts: u32) {
        // The buffer of the previous attempt's id is reused.
        let id = self.record.account_id.get_or_insert_with(String::new);
        id.clear();
        id.push_str(account_id);
        self.record.attempts = attempts;
    }

    /// An attempt (or the reply after it was committed) met an upstream fault.
    pub fn fault(&mut self, label: &'static str) {
        self.last_fault = Some(label);
    }

    /// The reply was committed: faults of earlier attempts were retried away.
    pub fn committed(&mut self) {
        self.last_fault = None;
    }

    /// Adds time spent awaiting the upstream (response headers, frames).
    pub fn waited_upstream(&mut self, since: Instant) {
        self.upstream += since.elapsed();
    }

    /// The first byte of content is leaving now (only the first call counts).
    pub fn first_byte(&mut self) {
        if self.record.ttft_ms.is_none() {
            self.record.ttft_ms = Some(millis(self.started.elapsed()));
        }
    }

    /// Starts capturing bodies (body capture is on): the client's request `body`, cut at
    /// `max_bytes` (plus a margin) by the statistics writer.
    pub fn capture_request(&mut self, body: &[u8], max_bytes: usize) {
        self.capture = Some(Box::new(Capture::new(body, max_bytes)));
    }

    /// Whether bodies are being captured for this request.
    pub fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// Captures a streamed reply by folding its events with `folder`, starting with `start`
    /// (does nothing unless capturing; ask [`Trace::capturing`] before building them).
    pub fn capture_stream(&mut self, folder: Box<dyn ReplyFolder>, start: &StreamEvent) {
        if let Some(c) = &mut self.capture {
            c.fold_stream(folder, start);
        }
    }

    /// Captures the JSON reply the client got (does nothing unless capturing).
    pub fn capture_reply(&mut self, json: impl FnOnce() -> serde_json::Value) {
        if let Some(c) = &mut self.capture {
            c.reply(json());
        }
    }

    /// Notes what a reply event says about the outcome: the stop reason, an in-band error.
    pub fn event(&mut self, event: &StreamEvent) {
        if let Some(c) = &mut self.capture {
            c.event(event);
        }
        match event {
            StreamEvent::Stop(reason) => self.record.stop_reason = Some(stop_label(reason)),
            StreamEvent::Error(err) if self.record.error.is_none() => {
                let label = self.last_fault.unwrap_or_else(|| kind_label(err.kind));
                self.record.error = Some(label.to_owned());
                self.record.error_message = Some(err.message.clone());
            }
            _ => {}
        }
    }

    /// Tokens and credits of the reply (final, or so far when the client left).
    pub fn reply(&mut self, usage: &Usage, credits: f64) {
        let r = &mut self.record;
        r.input_tokens = usage.input_tokens;
        r.output_tokens = usage.output_tokens;
        r.cache_read_input_tokens = usage.cache_read_input_tokens;
        r.cache_creation_input_tokens = usage.cache_creation_input_tokens;
        r.credits = credits;
    }

    /// The HTTP status of the response.
    pub fn status(&mut self, status: u16) {
        self.record.status = status;
    }

    /// The request was refused or failed before a reply started.
    pub fn refused(&mut self, err: &ClientError) {
        let label = self.last_fault.unwrap_or_else(|| kind_label(err.kind));
        self.record.error = Some(label.to_owned());
        self.record.error_message = Some(err.message.clone());
    }

    /// The request ended normally (the whole response was handed to the connection).
    pub fn complete(&mut self) {
        self.completed = true;
    }

    /// Moves the trace into whatever carries the request on (a streamed body); this one is
    /// left disarmed and reports nothing.
    pub fn hand_off(&mut self) -> Trace {
        std::mem::replace(
            self,
            Trace {
                telemetry: None,
                started: self.started,
                upstream: Duration::ZERO,
                completed: true,
                last_fault: None,
                capture: None,
                record: blank_record(),
            },
        )
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        let Some(telemetry) = self.telemetry.take() else {
            return;
        };
        let r = &mut self.record;
        r.latency_ms = millis(self.started.elapsed());
        r.upstream_ms = millis(self.upstream);
        r.client_disconnected = !self.completed;
        if let Some(capture) = self.capture.take() {
            r.bodies = Some(std::sync::Arc::new(capture.finish()));
        }
        telemetry.record(r);
    }
}

/// An empty record (allocates nothing).
fn blank_record() -> RequestRecord {
    RequestRecord {
        request_id: String::new(),
        started_at_ms: 0,
        key: KeyRef::None,
        client_ip: None,
        dialect: "",
        stream: false,
        model_requested: None,
        model_upstream: None,
        account_id: None,
        attempts: 0,
        status: CLIENT_CLOSED,
        stop_reason: None,
        error: None,
        error_message: None,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        credits: 0.0,
        latency_ms: 0.0,
        ttft_ms: None,
        upstream_ms: 0.0,
        client_disconnected: false,
        bodies: None,
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Current time in Unix milliseconds.
pub fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The stop reason as the record names it.
pub fn stop_label(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence(_) => "stop_sequence",
        StopReason::ToolUse => "tool_use",
        StopReason::ContextWindowExceeded => "context_window_exceeded",
    }
}

/// The error class of a client error that no upstream fault explains.
pub fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::ContextLengthExceeded => "context_length_exceeded",
        ErrorKind::Authentication => "authentication",
        ErrorKind::PermissionDenied => "permission_denied",
        ErrorKind::NotFound => "not_found",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Overloaded => "overloaded",
        ErrorKind::Api => "api_error",
        ErrorKind::Timeout => "timeout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::RequestObserver;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Default)]
    struct Keep(Mutex<Vec<RequestRecord>>);

    impl RequestObserver for Keep {
        fn observe(&self, record: &RequestRecord) {
            self.0.lock().unwrap().push(record.clone());
        }
    }

    fn setup() -> (Telemetry, Arc<Keep>) {
        let t = Telemetry::new();
        let keep = Arc::new(Keep::default());
        t.subscribe(keep.clone());
        (t, keep)
    }

    #[test]
    fn reports_once_on_drop_and_marks_a_dropped_request_as_disconnected() {
        let (t, keep) = setup();
        {
            let mut trace = Trace::start(&t, "r1", "openai", None);
            trace.status(200);
            trace.complete();
        }
        drop(Trace::start(&t, "r2", "anthropic", None));
        let got = keep.0.lock().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].status, got[0].client_disconnected), (200, false));
        assert_eq!(
            (got[1].status, got[1].client_disconnected),
            (CLIENT_CLOSED, true)
        );
    }

    #[test]
    fn a_handed_off_trace_reports_only_where_it_went() {
        let (t, keep) = setup();
        let mut trace = Trace::start(&t, "r1", "openai", None);
        trace.attempt("acct-1", 1);
        trace.attempt("acct-2", 2);
        let moved = trace.hand_off();
        drop(trace);
        assert!(keep.0.lock().unwrap().is_empty());
        drop(moved);
        let got = keep.0.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].request_id, "r1");
        assert_eq!(got[0].account_id.as_deref(), Some("acct-2"));
        assert_eq!(got[0].attempts, 2);
    }

    #[test]
    fn the_last_fault_explains_a_failure_until_the_reply_is_committed() {
        let (t, keep) = setup();
        let mut trace = Trace::start(&t, "r1", "openai", None);
        trace.fault("throttled");
        trace.refused(&ClientError::new(ErrorKind::RateLimited, "x"));
        drop(trace);
        let mut trace = Trace::start(&t, "r2", "openai", None);
        trace.fault("throttled");
        trace.committed();
        trace.event(&StreamEvent::Error(ClientError::new(ErrorKind::Api, "x")));
        trace.event(&StreamEvent::Stop(StopReason::ToolUse));
        drop(trace);
        let got = keep.0.lock().unwrap();
        assert_eq!(got[0].error.as_deref(), Some("throttled"));
        assert_eq!(got[1].error.as_deref(), Some("api_error"));
        assert_eq!(got[1].stop_reason, Some("tool_use"));
    }
}
