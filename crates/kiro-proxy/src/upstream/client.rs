//! [`UpstreamClient`]: one tuned HTTP client for every upstream call, and the shared plumbing of
//! those calls (timeouts, capped body reads, error capture). The calls themselves live in
//! [`super::chat`], [`super::social`], [`super::oidc`] and [`super::runtime`].

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, timeout_at};

use super::credential::AccountAuth;
use super::endpoints::UpstreamUrls;
use super::error::{TransportKind, UpstreamError, error_type_header, retry_after};

/// Timeouts, pool and size limits of the upstream client. Every value has a working default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// DNS + TCP + TLS.
    pub connect_timeout: Duration,
    /// From sending a chat request to its response headers (spec §7.5: 30 s).
    pub response_headers_timeout: Duration,
    /// From a chat's response headers to its first frame (60 s: thinking models are slow).
    pub first_event_timeout: Duration,
    /// Longest silence between frames of a chat stream once it has started (180–300 s).
    pub idle_timeout: Duration,
    /// Whole-call limit of the non-streaming calls (refresh, usage, models, profiles, MCP).
    pub request_timeout: Duration,
    /// Idle keep-alive connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// TCP keep-alive probe interval.
    pub tcp_keepalive: Duration,
    /// Bytes of an error body kept (the rest is dropped).
    pub max_error_body_bytes: usize,
    /// Largest JSON success body accepted.
    pub max_json_body_bytes: usize,
    /// EventStream frame cap (spec §6.4: 16 MiB).
    pub max_frame_bytes: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            response_headers_timeout: Duration::from_secs(30),
            first_event_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 512,
            pool_idle_timeout: Duration::from_secs(90),
            tcp_keepalive: Duration::from_secs(30),
            max_error_body_bytes: 64 * 1024,
            max_json_body_bytes: 8 * 1024 * 1024,
            max_frame_bytes: 16 * 1024 * 1024,
        }
    }
}

/// HTTP client of the Kiro upstream. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    pub(crate) http: reqwest::Client,
    pub(crate) urls: Arc<UpstreamUrls>,
    pub(crate) config: Arc<UpstreamConfig>,
}

impl UpstreamClient {
    pub fn new(urls: UpstreamUrls, config: UpstreamConfig) -> Result<Self, UpstreamError> {
        // HTTP/1.1 keep-alive with a wide pool, deliberately not one HTTP/2 connection: every
        // account talks to the same host (`q.us-east-1.amazonaws.com`), so a single multiplexed
        // connection would carry every in-flight chat. That is one TCP congestion window and
        // head-of-line blocking for all streams on any lost packet, one server-side
        // concurrent-stream cap (about 100) queueing everything above it, and one GOAWAY or
        // reset failing every stream at once. Chats are long-lived streams (seconds to
        // minutes), so a connection per in-flight request costs little next to that, and the
        // idle pool keeps TLS handshakes off the hot path. (reqwest is built without its
        // `http2` feature; `http1_only` makes the choice explicit.)
        let http = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_idle_timeout(config.pool_idle_timeout)
            .tcp_keepalive(config.tcp_keepalive)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| UpstreamError::Request(e.to_string()))?;
        Ok(Self {
            http,
            urls: Arc::new(urls),
            config: Arc::new(config),
        })
    }

    pub fn urls(&self) -> &UpstreamUrls {
        &self.urls
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// The HTTP client for an account's calls. Seam for per-account outbound proxies: those will
    /// need one `reqwest::Client` per distinct proxy URL (proxies are fixed at client build
    /// time), looked up here; today every account shares the one pool.
    pub(crate) fn http_for(&self, _account: &AccountAuth) -> &reqwest::Client {
        &self.http
    }

    /// The HTTP client for calls made before or outside an account (login, refresh).
    pub(crate) fn http_plain(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends a request and waits for its headers until `deadline`.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: Instant,
        what: &'static str,
    ) -> Result<reqwest::Response, UpstreamError> {
        match timeout_at(deadline, request.send()).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(UpstreamError::from_reqwest(&e, false)),
            Err(_) => Err(UpstreamError::transport(
                TransportKind::Timeout,
                format!("no response headers from {what} in time"),
            )),
        }
    }

    /// A non-streaming JSON call: sends, maps a non-2xx answer to [`UpstreamError::Http`] and
    /// parses a 2xx body as `T`, all within [`UpstreamConfig::request_timeout`].
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &'static str,
    ) -> Result<T, UpstreamError> {
        let deadline = Instant::now() + self.config.request_timeout;
        let resp = self.send(request, deadline, what).await?;
        if !resp.status().is_success() {
            return Err(self.http_error(resp, deadline, BytesMut::new()).await);
        }
        let cap = self.config.max_json_body_bytes;
        let body = match read_capped(resp, cap, deadline, BytesMut::new()).await {
            Ok((body, false)) => body,
            Ok((_, true)) => {
                return Err(UpstreamError::decode(
                    what,
                    format!("response body exceeds {cap} bytes"),
                ));
            }
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&body).map_err(|e| UpstreamError::decode(what, e))
    }

    /// Turns an error answer into [`UpstreamError::Http`], reading at most
    /// [`UpstreamConfig::max_error_body_bytes`] of the body (after the `already` bytes). A body
    /// that breaks off is kept as far as it came: the status is the fact that matters.
    pub(crate) async fn http_error(
        &self,
        resp: reqwest::Response,
        deadline: Instant,
        already: BytesMut,
    ) -> UpstreamError {
        let status = resp.status().as_u16();
        let error_type_header = error_type_header(resp.headers());
        let retry_after = retry_after(resp.headers());
        let cap = self.config.max_error_body_bytes;
        let mut resp = resp;
        let mut buf = already;
        while buf.len() < cap {
            match timeout_at(deadline, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => buf.extend_from_slice(&chunk),
                _ => break,
            }
        }
        buf.truncate(cap);
        let body = buf.freeze();
        UpstreamError::Http {
            status,
            error_type_header,
            retry_after,
            body,
        }
    }
}

/// A request body as JSON bytes.
pub(crate) fn json_body<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, UpstreamError> {
    serde_json::to_vec(body).map_err(|e| UpstreamError::Request(e.to_string()))
}

/// Reads a body until its end, `cap` bytes (the flag says it was cut), or `deadline`.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
    deadline: Instant,
    mut buf: BytesMut,
) -> Result<(Bytes, bool), UpstreamError> {
    loop {
        if buf.len() >= cap {
            buf.truncate(cap);
            return Ok((buf.freeze(), true));
        }
        match timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.extend_from_slice(&chunk),
            Ok(Ok(None)) => return Ok((buf.freeze(), false)),
            Ok(Err(e)) => return Err(UpstreamError::from_reqwest(&e, false)),
            Err(_) => {
                return Err(UpstreamError::transport(
                    TransportKind::Timeout,
                    "response body not received in time",
                ));
            }
        }
    }
}
