//! Statistics of client requests: the request log (the most recent requests, one row each)
//! and hourly and daily aggregates per key, account, model and status class, in the store's
//! SQLite database (`migrations/0003_requests_and_stats.sql`). They survive restarts.
//!
//! The request path never waits for any of it: [`Stats`] observes the finished
//! [`RequestRecord`]s of `crate::telemetry` by pushing each into a bounded channel (a full
//! channel drops the record and counts it, see [`Stats::dropped`]); a background writer
//! ([`Stats::spawn_writer`]) takes them in batches, one transaction per batch, keeps the log at
//! its size and prunes what is older than the retention (daily aggregates: the daily
//! retention), once an hour. [`Stats::flush`] waits
//! until everything recorded so far is written (graceful shutdown, tests).
//!
//! No prompt or completion text is stored unless the operator turns body capture on
//! ([`BodyCapture`]: `stats.capture_bodies` / `KIRO_CAPTURE_BODIES`, or `PUT /api/settings`
//! `bodyCapture`). The request path then keeps the request body and the reply in the record's
//! `bodies` (one atomic load decides; nothing more happens while it is off); the writer
//! redacts secrets ([`redact`]), caps each body and stores them in `request_bodies`
//! (`migrations/0006_body_capture.sql`), one row per log row, deleted with it. Turning capture
//! off stops new captures; bodies already stored go with their log rows.

mod query;
pub mod redact;
mod writer;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

pub use query::{
    Bucket, By, Cursor, LogEntry, Period, RequestFilter, RequestPage, Series, StatsQuery,
    StatusFilter, StoredBodies, Totals, get_request, get_request_with_bodies, list_requests,
    series,
};

use crate::config::StatsConfig;
use crate::store::Store;
use crate::telemetry::{RequestObserver, RequestRecord};

/// Whether request and reply bodies are kept with the log (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyCapture {
    #[default]
    Off,
    /// Each body stored up to `max_bytes` (after redaction), with a marker when cut.
    On { max_bytes: usize },
}

impl BodyCapture {
    /// From the switch and the cap.
    pub fn new(enabled: bool, max_bytes: usize) -> Self {
        if enabled {
            BodyCapture::On {
                max_bytes: max_bytes.max(1),
            }
        } else {
            BodyCapture::Off
        }
    }
}

/// What travels to the writer.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "records are nearly every message; boxing them would allocate once more per request"
)]
enum Msg {
    Record(RequestRecord),
    /// Write everything received so far, then answer.
    Flush(oneshot::Sender<()>),
}

/// What the writer shares with the handles (not the sender: when every handle is gone the
/// channel closes and the writer ends).
#[derive(Debug)]
struct Shared {
    store: Store,
    dropped: AtomicU64,
    written: AtomicU64,
    request_log_size: AtomicUsize,
    retention_days: AtomicU32,
    daily_retention_days: AtomicU32,
}

/// Days the daily aggregates are kept unless the runtime settings say otherwise: over a
/// year, so that a month can be compared with the same month last year.
pub const DEFAULT_DAILY_RETENTION_DAYS: u32 = 400;

#[derive(Debug)]
struct Inner {
    tx: mpsc::Sender<Msg>,
    /// Body capture's cap in bytes; 0 while capture is off (the request path's one load).
    capture_max_bytes: AtomicUsize,
    /// Taken by [`Stats::spawn_writer`].
    rx: Mutex<Option<mpsc::Receiver<Msg>>>,
    running: AtomicBool,
    shared: Arc<Shared>,
}

/// The statistics keeper; cheap to clone. Subscribe it to the telemetry.
#[derive(Debug, Clone)]
pub struct Stats {
    inner: Arc<Inner>,
}

impl Stats {
    /// A keeper writing to `store`. Nothing is written until [`Stats::spawn_writer`].
    pub fn new(store: Store, config: &StatsConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.queue_size.max(1));
        Self {
            inner: Arc::new(Inner {
                tx,
                capture_max_bytes: AtomicUsize::new(if config.capture_bodies {
                    config.capture_max_bytes.max(1)
                } else {
                    0
                }),
                rx: Mutex::new(Some(rx)),
                running: AtomicBool::new(false),
                shared: Arc::new(Shared {
                    store,
                    dropped: AtomicU64::new(0),
                    written: AtomicU64::new(0),
                    request_log_size: AtomicUsize::new(config.request_log_size),
                    retention_days: AtomicU32::new(config.retention_days),
                    daily_retention_days: AtomicU32::new(DEFAULT_DAILY_RETENTION_DAYS),
                }),
            }),
        }
    }

    /// Starts the background writer (once; later calls do nothing). Needs a Tokio runtime.
    pub fn spawn_writer(&self) {
        let rx = self
            .inner
            .rx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(rx) = rx {
            self.inner.running.store(true, Ordering::Release);
            tokio::spawn(writer::run(self.inner.shared.clone(), rx));
        }
    }

    /// Waits until every record observed before this call is written (or failed to be).
    /// Returns at once when the writer was never started.
    pub async fn flush(&self) {
        if !self.inner.running.load(Ordering::Acquire) {
            return;
        }
        let (ack, done) = oneshot::channel();
        if self.inner.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Records dropped because the writer was behind (or could not write them).
    pub fn dropped(&self) -> u64 {
        self.inner.shared.dropped.load(Ordering::Relaxed)
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.inner.shared.written.load(Ordering::Relaxed)
    }

    /// Changes the request log's size at runtime (applied from the next batch).
    pub fn set_request_log_size(&self, rows: usize) {
        self.inner
            .shared
            .request_log_size
            .store(rows, Ordering::Relaxed);
    }

    /// Changes the retention at runtime (applied at the next pruning, within the hour).
    pub fn set_retention_days(&self, days: u32) {
        self.inner
            .shared
            .retention_days
            .store(days.max(1), Ordering::Relaxed);
    }

    /// Changes the retention of the daily aggregates at runtime (applied at the next
    /// pruning, within the hour).
    pub fn set_daily_retention_days(&self, days: u32) {
        self.inner
            .shared
            .daily_retention_days
            .store(days.max(1), Ordering::Relaxed);
    }

    /// Whether bodies are captured now, and their cap (one atomic load: the request path asks
    /// once per request).
    pub fn body_capture(&self) -> BodyCapture {
        match self.inner.capture_max_bytes.load(Ordering::Relaxed) {
            0 => BodyCapture::Off,
            max_bytes => BodyCapture::On { max_bytes },
        }
    }

    /// Turns body capture on or off at runtime (from the next request).
    pub fn set_body_capture(&self, capture: BodyCapture) {
        let max = match capture {
            BodyCapture::Off => 0,
            BodyCapture::On { max_bytes } => max_bytes.max(1),
        };
        self.inner.capture_max_bytes.store(max, Ordering::Relaxed);
    }

    /// Prunes now what is past the retention or over the log size, instead of waiting for
    /// the hourly pruning (tests, and after the operator shortened the retention).
    pub async fn prune_now(&self) -> Result<(), crate::store::StoreError> {
        writer::prune(&self.inner.shared).await
    }
}

impl RequestObserver for Stats {
    fn observe(&self, record: &RequestRecord) {
        if self.inner.tx.try_send(Msg::Record(record.clone())).is_err() {
            self.inner.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests;
