//! `GET /metrics`: the service in Prometheus text format.
//!
//! Request figures come from [`RequestRecord`]s: [`Metrics`] is a [`RequestObserver`] that only
//! bumps atomics. Pool figures (account states, pool size, upstream failures by class) are read
//! from the pool's views when scraped; refreshes come from the token manager's counter
//! ([`refresh`]); open streams from the [`StreamGauge`] the HTTP layer holds per streamed reply.
//!
//! | Metric | Type | Labels |
//! |---|---|---|
//! | `kiro_requests_total` | counter | `dialect`, `status`, `model` (the upstream model id, `none` when refused before resolving) |
//! | `kiro_request_duration_seconds` | histogram | `dialect`, `stream` |
//! | `kiro_time_to_first_token_seconds` | histogram | `dialect` |
//! | `kiro_proxy_overhead_seconds` | histogram | `dialect` (latency − upstream wait, requests that reached the upstream) |
//! | `kiro_upstream_wait_seconds` | histogram | `dialect` |
//! | `kiro_tokens_total` | counter | `kind` (`input`, `output`, `cache_read`, `cache_creation`), `model` |
//! | `kiro_credits_total` | counter | `model` |
//! | `kiro_request_errors_total` | counter | `dialect`, `class` (the request's final error) |
//! | `kiro_upstream_errors_total` | counter | `class` (every failed upstream attempt, retried or not) |
//! | `kiro_client_disconnects_total` | counter | |
//! | `kiro_accounts` | gauge | `state` |
//! | `kiro_pool_size` | gauge | |
//! | `kiro_token_refreshes_total` | counter | `outcome` (`ok`, `failed`) |
//! | `kiro_open_streams` | gauge | |
//!
//! Model labels use upstream ids (a bounded set), never the client's free-form model name.

pub mod refresh;
mod streams;

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{
    CounterVec, Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

pub use streams::StreamGauge;

use crate::accounts::{Pool, PoolAccountView};
use crate::app::AppState;
use crate::telemetry::{RequestObserver, RequestRecord};

/// Every account state a view can report, so that a state with no account shows `0`.
const ACCOUNT_STATES: [&str; 9] = [
    "active",
    "disabled",
    "drained",
    "needs_login",
    "exhausted",
    "cooldown",
    "circuit_open",
    "half_open",
    "busy",
];

const LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
const TTFT_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// The proxy's own share is sub-millisecond to a few milliseconds when healthy.
const OVERHEAD_BUCKETS: &[f64] = &[
    // A fast proxy adds tens of microseconds: buckets below 250 µs make its median readable.
    0.000_025, 0.000_05, 0.000_1, 0.000_15, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02,
    0.05, 0.1, 0.25, 0.5, 1.0,
];

/// The service's Prometheus registry and the collectors the request path feeds.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    ttft: HistogramVec,
    overhead: HistogramVec,
    upstream_wait: HistogramVec,
    tokens: IntCounterVec,
    credits: CounterVec,
    request_errors: IntCounterVec,
    upstream_errors: IntCounterVec,
    client_disconnects: IntCounter,
    accounts: IntGaugeVec,
    pool_size: IntGauge,
    open_streams: IntGauge,
    /// Per account and failure class, the count already added to `upstream_errors` (the pool
    /// keeps running totals per account; the counter grows by their increase).
    upstream_seen: Mutex<HashMap<(String, String), u64>>,
}

/// Why the metrics could not be set up or written (a programming error: names clash or are
/// malformed).
#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

fn counter(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn histogram(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> prometheus::Result<HistogramVec> {
    let h = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )?;
    r.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    pub fn new() -> Result<Self, MetricsError> {
        let r = Registry::new();
        let credits = CounterVec::new(
            Opts::new("kiro_credits_total", "Credits the upstream metered."),
            &["model"],
        )?;
        r.register(Box::new(credits.clone()))?;
        let client_disconnects = IntCounter::new(
            "kiro_client_disconnects_total",
            "Requests whose client went away before the reply ended.",
        )?;
        r.register(Box::new(client_disconnects.clone()))?;
        let accounts = IntGaugeVec::new(
            Opts::new("kiro_accounts", "Accounts in the pool by state."),
            &["state"],
        )?;
        r.register(Box::new(accounts.clone()))?;
        let pool_size = IntGauge::new("kiro_pool_size", "Accounts in the pool.")?;
        r.register(Box::new(pool_size.clone()))?;
        let open_streams = IntGauge::new(
            "kiro_open_streams",
            "Streamed replies being sent right now.",
        )?;
        r.register(Box::new(open_streams.clone()))?;
        r.register(Box::new(refresh::counter().clone()))?;
        Ok(Self {
            requests: counter(
                &r,
                "kiro_requests_total",
                "Client requests by dialect, HTTP status and upstream model.",
                &["dialect", "status", "model"],
            )?,
            latency: histogram(
                &r,
                "kiro_request_duration_seconds",
                "Arrival to the last byte sent.",
                &["dialect", "stream"],
                LATENCY_BUCKETS,
            )?,
            ttft: histogram(
                &r,
                "kiro_time_to_first_token_seconds",
                "Arrival to the first content byte sent.",
                &["dialect"],
                TTFT_BUCKETS,
            )?,
            overhead: histogram(
                &r,
                "kiro_proxy_overhead_seconds",
                "Latency minus the time spent waiting on the upstream: what the proxy added.",
                &["dialect"],
                OVERHEAD_BUCKETS,
            )?,
            upstream_wait: histogram(
                &r,
                "kiro_upstream_wait_seconds",
                "Time spent waiting on the upstream per request.",
                &["dialect"],
                LATENCY_BUCKETS,
            )?,
            tokens: counter(
                &r,
                "kiro_tokens_total",
                "Tokens by kind (input excludes cache reads and writes) and upstream model.",
                &["kind", "model"],
            )?,
            request_errors: counter(
                &r,
                "kiro_request_errors_total",
                "Requests that failed, by dialect and error class.",
                &["dialect", "class"],
            )?,
            upstream_errors: counter(
                &r,
                "kiro_upstream_errors_total",
                "Failed upstream attempts by class (including attempts a retry recovered).",
                &["class"],
            )?,
            credits,
            client_disconnects,
            accounts,
            pool_size,
            open_streams,
            upstream_seen: Mutex::new(HashMap::new()),
            registry: r,
        })
    }

    /// Counts one streamed reply as open until the guard drops.
    pub fn stream_started(&self) -> StreamGauge {
        StreamGauge::new(self.open_streams.clone())
    }

    /// Streamed replies open right now.
    pub fn open_streams(&self) -> i64 {
        self.open_streams.get()
    }

    /// Refreshes the pool figures and writes every metric in the text format.
    pub fn render(&self, pool: &Pool) -> Result<String, MetricsError> {
        self.observe_pool(&pool.views());
        let mut out = Vec::with_capacity(16 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn observe_pool(&self, views: &[PoolAccountView]) {
        let mut counts: HashMap<&str, i64> = ACCOUNT_STATES.iter().map(|s| (*s, 0)).collect();
        for v in views {
            *counts.entry(v.state).or_default() += 1;
        }
        for (state, n) in counts {
            self.accounts.with_label_values(&[state]).set(n);
        }
        self.pool_size
            .set(i64::try_from(views.len()).unwrap_or(i64::MAX));
        let mut seen = self
            .upstream_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for v in views {
            for (class, &total) in &v.stats.failures {
                let key = (v.id.clone(), class.clone());
                let before = seen.get(&key).copied().unwrap_or(0);
                // A smaller total means the account's statistics started over (it was
                // removed and added again): all of it is new.
                let added = if total >= before {
                    total - before
                } else {
                    total
                };
                if added > 0 {
                    self.upstream_errors
                        .with_label_values(&[class.as_str()])
                        .inc_by(added);
                }
                seen.insert(key, total);
            }
        }
    }
}

impl RequestObserver for Metrics {
    fn observe(&self, r: &RequestRecord) {
        let model = r.model_upstream.as_deref().unwrap_or("none");
        let status = r.status.to_string();
        self.requests
            .with_label_values(&[r.dialect, status.as_str(), model])
            .inc();
        let stream = if r.stream { "true" } else { "false" };
        self.latency
            .with_label_values(&[r.dialect, stream])
            .observe(r.latency_ms / 1000.0);
        if let Some(ttft) = r.ttft_ms {
            self.ttft
                .with_label_values(&[r.dialect])
                .observe(ttft / 1000.0);
        }
        if r.attempts > 0 {
            let overhead = (r.latency_ms - r.upstream_ms).max(0.0);
            self.overhead
                .with_label_values(&[r.dialect])
                .observe(overhead / 1000.0);
            self.upstream_wait
                .with_label_values(&[r.dialect])
                .observe(r.upstream_ms / 1000.0);
        }
        for (kind, n) in [
            ("input", r.input_tokens),
            ("output", r.output_tokens),
            ("cache_read", r.cache_read_input_tokens),
            ("cache_creation", r.cache_creation_input_tokens),
        ] {
            if n > 0 {
                self.tokens.with_label_values(&[kind, model]).inc_by(n);
            }
        }
        if r.credits.is_finite() && r.credits > 0.0 {
            self.credits.with_label_values(&[model]).inc_by(r.credits);
        }
        if let Some(class) = &r.error {
            self.request_errors
                .with_label_values(&[r.dialect, class.as_str()])
                .inc();
        }
        if r.client_disconnected {
            self.client_disconnects.inc();
        }
    }
}

/// `GET /metrics`. With `ops.metrics_token` set, only `Authorization: Bearer <token>` sees it.
pub async fn scrape(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &app.config.ops.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::client_auth::bearer_token);
        let ok = presented.is_some_and(|p| {
            use subtle::ConstantTimeEq as _;
            bool::from(p.as_bytes().ct_eq(token.expose().as_bytes()))
        });
        if !ok {
            let mut resp = (
                StatusCode::UNAUTHORIZED,
                "metrics token required: send `Authorization: Bearer <KIRO_METRICS_TOKEN>`\n",
            )
                .into_response();
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    }
    match app.metrics.render(&app.pool) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not render the metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::KeyRef;

    fn record() -> RequestRecord {
        RequestRecord {
            request_id: "r".into(),
            started_at_ms: 0,
            key: KeyRef::None,
            client_ip: None,
            dialect: "anthropic",
            stream: true,
            model_requested: Some("claude-sonnet-4-5".into()),
            model_upstream: Some("claude-sonnet-4.5".into()),
            account_id: Some("a1".into()),
            attempts: 1,
            status: 200,
            stop_reason: Some("end_turn"),
            error: None,
            error_message: None,
            input_tokens: 10,
            output_tokens: 20,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
            credits: 0.5,
            latency_ms: 120.0,
            ttft_ms: Some(40.0),
            upstream_ms: 118.0,
            client_disconnected: false,
            bodies: None,
        }
    }

    fn text(m: &Metrics) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn records_move_the_counters() {
        let m = Metrics::new().unwrap();
        m.observe(&record());
        m.observe(&RequestRecord {
            status: 529,
            error: Some("overloaded".into()),
            error_message: None,
            ..record()
        });
        let t = text(&m);
        assert!(t.contains(
            "kiro_requests_total{dialect=\"anthropic\",model=\"claude-sonnet-4.5\",status=\"200\"} 1"
        ));
        assert!(t.contains("kiro_tokens_total{kind=\"output\",model=\"claude-sonnet-4.5\"} 40"));
        assert!(t.contains("kiro_credits_total{model=\"claude-sonnet-4.5\"} 1"));
        assert!(
            t.contains("kiro_request_errors_total{class=\"overloaded\",dialect=\"anthropic\"} 1")
        );
        assert!(t.contains("kiro_proxy_overhead_seconds_count{dialect=\"anthropic\"} 2"));
        // 2 ms of overhead each: both in the 0.002 bucket.
        assert!(
            t.contains("kiro_proxy_overhead_seconds_bucket{dialect=\"anthropic\",le=\"0.002\"} 2")
        );
    }

    #[test]
    fn open_streams_follow_the_guards() {
        let m = Metrics::new().unwrap();
        let a = m.stream_started();
        let b = m.stream_started();
        assert_eq!(m.open_streams(), 2);
        drop(a);
        assert_eq!(m.open_streams(), 1);
        drop(b);
        assert_eq!(m.open_streams(), 0);
    }
}
