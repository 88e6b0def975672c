//! Fetching one remote image on a client's behalf, behind SSRF guards.
//!
//! Every hop (the URL and each redirect target) is checked the same way: https only, the host
//! resolved here and every address it resolves to checked against the [`AddressPolicy`], then
//! the connection pinned to exactly those addresses so a second DNS answer (rebinding) cannot
//! swap them. Redirects are followed by hand so each hop gets that check. The body is streamed
//! and abandoned at the size cap; the whole fetch runs under one deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, USER_AGENT};
use reqwest::redirect;

use super::address::{AddressPolicy, BlockedRange};
use kiro_wire::types::request::ImageFormat;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

const AGENT: &str = concat!("kiro-proxy-image-fetch/", env!("CARGO_PKG_VERSION"));

/// Why a remote image could not be used; each message is shown to the client.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not a valid URL ({0})")]
    InvalidUrl(String),
    #[error("only https image URLs are fetched, not `{0}:`")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("refused: `{host}` is {addr}, {range}; only public internet addresses are fetched")]
    Blocked {
        host: String,
        addr: IpAddr,
        range: BlockedRange,
    },
    #[error("could not resolve `{host}`: {detail}")]
    Dns { host: String, detail: String },
    #[error("`{0}` has no address")]
    NoAddress(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("a redirect without a usable Location header")]
    BadRedirect,
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the image is over the {limit}-byte limit (Content-Length {declared})")]
    DeclaredTooLarge { limit: usize, declared: u64 },
    #[error("the image is over the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("no complete answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("the request failed: {0}")]
    Transport(String),
    #[error(
        "the response is not a PNG, JPEG, GIF or WebP image (Content-Type: {})",
        content_type.as_deref().unwrap_or("none")
    )]
    NotAnImage { content_type: Option<String> },
}

/// A fetched image: its bytes and the format sniffed from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

/// Fetches remote images under the SSRF rules above.
///
/// Cheap to build: it holds only the rules. Each hop uses a one-shot reqwest client, because
/// reqwest pins a host to addresses only at client build time; image fetches are rare, so the
/// lost connection reuse does not matter.
#[derive(Debug, Clone)]
pub struct ImageFetcher {
    policy: AddressPolicy,
    allow_http: bool,
}

impl Default for ImageFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl ImageFetcher {
    /// The production fetcher: https only, public addresses only.
    pub fn new() -> Self {
        Self::with_policy(AddressPolicy::public_only())
    }

    pub fn with_policy(policy: AddressPolicy) -> Self {
        ImageFetcher {
            policy,
            allow_http: false,
        }
    }

    /// Also accepts plain `http://` URLs, so tests can serve images locally. For tests only:
    /// nothing in the service calls this, and no configuration or environment variable
    /// reaches it.
    pub fn allow_http_for_tests(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Fetches `url` within `timeout` (everything included: DNS, redirects, body), refusing
    /// bodies over `max_bytes` and anything that is not a PNG, JPEG, GIF or WebP image.
    pub async fn fetch(
        &self,
        url: &str,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<FetchedImage, FetchError> {
        tokio::time::timeout(timeout, self.fetch_unbounded(url, max_bytes))
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout)))
    }

    async fn fetch_unbounded(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<FetchedImage, FetchError> {
        let mut url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        let mut redirects = 0;
        loop {
            let resp = self.send(&url).await?;
            let status = resp.status();
            if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                url = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or(FetchError::BadRedirect)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return read_image(resp, max_bytes).await;
        }
    }

    /// One hop: check the URL, resolve and check its host, send pinned to those addresses.
    async fn send(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => return Err(FetchError::Scheme(other.to_owned())),
        }
        let host = url.host_str().ok_or(FetchError::NoHost)?;
        let port = url.port_or_known_default().unwrap_or(443);
        let mut builder = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .https_only(!self.allow_http)
            // Any lookup not covered by the pin below fails instead of reaching the system
            // resolver unchecked.
            .dns_resolver(Arc::new(PinnedOnly));
        match literal_ip(host) {
            Some(ip) => self.check(host, ip)?,
            None => {
                let addrs = self.resolve(host, port).await?;
                builder = builder.resolve_to_addrs(host, &addrs);
            }
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Transport(describe(e)))?;
        tracing::debug!(host, port, "fetching remote image");
        client
            .get(url.clone())
            .header(ACCEPT, "image/*")
            .header(USER_AGENT, AGENT)
            .send()
            .await
            .map_err(|e| FetchError::Transport(describe(e)))
    }

    /// Resolves `host` and checks every address; one forbidden address refuses the host.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
        let found = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FetchError::Dns {
                host: host.to_owned(),
                detail: e.to_string(),
            })?;
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for addr in found {
            self.check(host, addr.ip())?;
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(FetchError::NoAddress(host.to_owned()));
        }
        Ok(addrs)
    }

    fn check(&self, host: &str, ip: IpAddr) -> Result<(), FetchError> {
        self.policy.check(ip).map_err(|range| FetchError::Blocked {
            host: host.to_owned(),
            addr: ip,
            range,
        })
    }
}

/// The IP address a URL host names literally (`1.2.3.4`, `[::1]`), if it is one. The URL
/// parser has already normalised the odd IPv4 spellings (`0x7f.1`, `2130706433`).
fn literal_ip(host: &str) -> Option<IpAddr> {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse().ok(),
        None => host.parse().ok(),
    }
}

/// Streams the body up to `max_bytes`, then checks it is an image.
async fn read_image(
    mut resp: reqwest::Response,
    max_bytes: usize,
) -> Result<FetchedImage, FetchError> {
    let too_large = FetchError::TooLarge { limit: max_bytes };
    if let Some(declared) = resp.content_length() {
        if declared > max_bytes as u64 {
            return Err(FetchError::DeclaredTooLarge {
                limit: max_bytes,
                declared,
            });
        }
    }
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let capacity = resp
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity.min(max_bytes));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| FetchError::Transport(describe(e)))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    let format = ImageFormat::sniff(&bytes).ok_or(FetchError::NotAnImage { content_type })?;
    Ok(FetchedImage { format, bytes })
}

/// A reqwest error with its causes ("error sending request" alone says little).
fn describe(e: reqwest::Error) -> String {
    // The URL is already in the client's message.
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A resolver that resolves nothing: every host a fetch may reach is pinned explicitly.
#[derive(Debug)]
struct PinnedOnly;

impl reqwest::dns::Resolve for PinnedOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let err: Box<dyn std::error::Error + Send + Sync> =
            format!("`{}` was not checked by the SSRF guard", name.as_str()).into();
        Box::pin(std::future::ready(Err(err)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_hosts() {
        assert_eq!(literal_ip("127.0.0.1"), Some([127, 0, 0, 1].into()));
        assert_eq!(literal_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(literal_ip("example.com"), None);
        // The URL parser normalises odd IPv4 spellings before we see them.
        for odd in ["http://0x7f.1/", "http://2130706433/", "http://0177.0.0.1/"] {
            let url = Url::parse(odd).unwrap();
            assert_eq!(
                literal_ip(url.host_str().unwrap()),
                Some([127, 0, 0, 1].into()),
                "{odd}"
            );
        }
    }
}
