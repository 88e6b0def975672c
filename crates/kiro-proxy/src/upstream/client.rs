//! [`UpstreamClient`]: one tuned HTTP client for every upstream call, and the shared plumbing of
//! those calls (timeouts, capped body reads, error capture). The calls themselves live in
//! [`super::chat`], [`super::social`], [`super::oidc`] and [`super::runtime`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
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

/// Distinct proxy URLs given a client of their own at most; past it the cache starts over
/// (dropping a client only closes its idle connections).
const MAX_PROXIED_CLIENTS: usize = 256;

/// API regions whose parsed chat URL is kept (there are a handful; the bound only guards against
/// a store full of odd regions).
const MAX_CACHED_REGIONS: usize = 64;

/// HTTP client of the Kiro upstream. Cheap to clone; clones share the connection pools.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    /// Direct connections.
    http: reqwest::Client,
    /// The client of the account-less calls (login, refresh): `http`, or the proxied client of
    /// [`UpstreamClient::via_proxy`].
    plain: reqwest::Client,
    pub(crate) urls: Arc<UpstreamUrls>,
    pub(crate) config: Arc<UpstreamConfig>,
    /// One client per outbound proxy URL: reqwest fixes a client's proxy when it is built.
    proxied: Arc<Mutex<HashMap<String, reqwest::Client>>>,
    /// The chat URL of each API region, parsed once: reqwest would parse the string again on
    /// every request (about 6% of a small request's instructions).
    chat_urls: Arc<Mutex<HashMap<String, reqwest::Url>>>,
}

impl UpstreamClient {
    pub fn new(urls: UpstreamUrls, config: UpstreamConfig) -> Result<Self, UpstreamError> {
        let http = build_http(&config, None)?;
        Ok(Self {
            plain: http.clone(),
            http,
            urls: Arc::new(urls),
            config: Arc::new(config),
            proxied: Arc::default(),
            chat_urls: Arc::default(),
        })
    }

    /// `POST …/generateAssistantResponse` for an API region, parsed (None if it does not parse:
    /// the caller then hands reqwest the string, which reports the error as before).
    pub(crate) fn chat_url(&self, api_region: &str) -> Option<reqwest::Url> {
        let mut urls = self
            .chat_urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = urls.get(api_region) {
            return Some(url.clone());
        }
        let url = reqwest::Url::parse(&self.urls.chat(api_region)).ok()?;
        if urls.len() >= MAX_CACHED_REGIONS {
            urls.clear();
        }
        urls.insert(api_region.to_owned(), url.clone());
        Some(url)
    }

    pub fn urls(&self) -> &UpstreamUrls {
        &self.urls
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// The HTTP client for an account's calls: through its outbound proxy when it has one.
    pub(crate) fn http_for(&self, account: &AccountAuth) -> Result<reqwest::Client, UpstreamError> {
        self.http_via(account.proxy())
    }

    /// The HTTP client of the calls made outside an [`AccountAuth`] (login, refresh).
    pub(crate) fn http_plain(&self) -> &reqwest::Client {
        &self.plain
    }

    /// The client whose calls go through `proxy` (directly when `None`), built on first use and
    /// cached per URL. A proxy that cannot be used is an error, never a silent direct
    /// connection: the operator set it to keep this account's traffic off the direct route.
    pub fn http_via(&self, proxy: Option<&str>) -> Result<reqwest::Client, UpstreamError> {
        let Some(proxy) = proxy.map(str::trim).filter(|p| !p.is_empty()) else {
            return Ok(self.http.clone());
        };
        let mut cache = self.proxied.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = cache.get(proxy) {
            return Ok(client.clone());
        }
        let client = build_http(&self.config, Some(proxy))?;
        if cache.len() >= MAX_PROXIED_CLIENTS {
            cache.clear();
        }
        cache.insert(proxy.to_owned(), client.clone());
        Ok(client)
    }

    /// This client with its account-less calls (refresh, login) going through `proxy`: for
    /// the calls an account makes without an [`AccountAuth`]. Calls with an [`AccountAuth`]
    /// still follow that account's own proxy.
    pub fn via_proxy(&self, proxy: Option<&str>) -> Result<UpstreamClient, UpstreamError> {
        Ok(Self {
            plain: self.http_via(proxy)?,
            ..self.clone()
        })
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

/// The client of direct (`proxy: None`) or proxied calls.
fn build_http(
    config: &UpstreamConfig,
    proxy: Option<&str>,
) -> Result<reqwest::Client, UpstreamError> {
    // HTTP/1.1 keep-alive with a wide pool, deliberately not one HTTP/2 connection: every
    // account talks to the same host (`q.us-east-1.amazonaws.com`), so a single multiplexed
    // connection would carry every in-flight chat. That is one TCP congestion window and
    // head-of-line blocking for all streams on any lost packet, one server-side
    // concurrent-stream cap (about 100) queueing everything above it, and one GOAWAY or
    // reset failing every stream at once. Chats are long-lived streams (seconds to
    // minutes), so a connection per in-flight request costs little next to that, and the
    // idle pool keeps TLS handshakes off the hot path. (reqwest is built without its
    // `http2` feature; `http1_only` makes the choice explicit.)
    let mut builder = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .connect_timeout(config.connect_timeout)
        .pool_max_idle_per_host(config.pool_max_idle_per_host)
        .pool_idle_timeout(config.pool_idle_timeout)
        .tcp_keepalive(config.tcp_keepalive)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(url) = proxy {
        // HTTP(S) proxies get CONNECT for https targets (absolute-form requests for http ones);
        // `socks5h` resolves names at the proxy. An explicit proxy also turns off the
        // environment's (`HTTPS_PROXY`, …) for this client. The URL may hold a password: it is
        // never part of the error.
        let proxy = reqwest::Proxy::all(url).map_err(|_| {
            UpstreamError::Request("the account's outbound proxy URL is not usable".to_owned())
        })?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| UpstreamError::Request(e.to_string()))
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
