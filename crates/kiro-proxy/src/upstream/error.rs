//! What went wrong on an upstream call, as raw facts. Mapping these to reaction classes (spec
//! §8.1) is the fault classifier's job, not this module's.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use kiro_wire::DecodeError;
use kiro_wire::types::{OidcError, OidcErrorCode, UpstreamErrorBody, oidc_error_code};

/// How a connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// DNS, TCP connect or TLS handshake: nothing was sent.
    Connect,
    /// Response headers, first event or the idle gap between frames took too long.
    Timeout,
    /// The connection broke at a frame boundary (or before any body).
    Reset,
    /// The body ended, or broke, inside a frame.
    Truncated,
}

impl TransportKind {
    pub fn label(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Reset => "reset",
            TransportKind::Truncated => "truncated",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A failed upstream call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// A non-2xx answer, or a JSON error body under 200 (spec §3.5, §8.4). `body` is capped.
    #[error("upstream answered HTTP {status}{}", error_type_header.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Http {
        status: u16,
        /// `x-amzn-ErrorType`, verbatim.
        error_type_header: Option<String>,
        /// `Retry-After` (delta-seconds or an HTTP date), as a wait from the time of the answer.
        retry_after: Option<Duration>,
        body: Bytes,
    },
    #[error("upstream transport failure ({kind}): {detail}")]
    Transport { kind: TransportKind, detail: String },
    /// The EventStream framing broke; the stream cannot continue (spec §6.4).
    #[error("bad EventStream frame: {0}")]
    BadFrame(DecodeError),
    /// A 200 whose JSON (a response body, or an event payload) could not be read.
    #[error("unreadable upstream {context}: {detail}")]
    Decode {
        context: &'static str,
        detail: String,
    },
    /// The request could not be built (an invalid header value from configuration or a token).
    #[error("could not build the upstream request: {0}")]
    Request(String),
}

impl UpstreamError {
    pub(crate) fn transport(kind: TransportKind, detail: impl fmt::Display) -> Self {
        UpstreamError::Transport {
            kind,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn decode(context: &'static str, detail: impl fmt::Display) -> Self {
        UpstreamError::Decode {
            context,
            detail: detail.to_string(),
        }
    }

    /// Maps a reqwest failure before or while reading a body. `in_frame` tells whether a partial
    /// frame was buffered when it happened.
    pub(crate) fn from_reqwest(e: &reqwest::Error, in_frame: bool) -> Self {
        let kind = if e.is_connect() {
            TransportKind::Connect
        } else if e.is_timeout() {
            TransportKind::Timeout
        } else if in_frame {
            TransportKind::Truncated
        } else {
            TransportKind::Reset
        };
        // The full source chain says *why* (reset by peer, incomplete message); reqwest's own
        // Display only says which phase failed.
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        UpstreamError::transport(kind, detail)
    }

    /// HTTP status for [`UpstreamError::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            UpstreamError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error body for [`UpstreamError::Http`].
    pub fn body(&self) -> Option<&Bytes> {
        match self {
            UpstreamError::Http { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The chat-family error body (§8.2), when this is an HTTP error with a JSON body.
    pub fn error_body(&self) -> Option<UpstreamErrorBody> {
        self.body().and_then(|b| UpstreamErrorBody::parse(b))
    }

    /// The OIDC error code (§3.2: `error`, then `__type`, then `x-amzn-ErrorType`).
    pub fn oidc_code(&self) -> Option<OidcErrorCode> {
        match self {
            UpstreamError::Http {
                body,
                error_type_header,
                ..
            } => {
                let parsed: Option<OidcError> = serde_json::from_slice(body).ok();
                oidc_error_code(parsed.as_ref(), error_type_header.as_deref())
            }
            _ => None,
        }
    }

    /// A short stable label, for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            UpstreamError::Http { .. } => "http",
            UpstreamError::Transport { kind, .. } => kind.label(),
            UpstreamError::BadFrame(_) => "bad_frame",
            UpstreamError::Decode { .. } => "decode",
            UpstreamError::Request(_) => "request",
        }
    }
}

/// `x-amzn-ErrorType` of a response.
pub(crate) fn error_type_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Retry-After` of a response: delta-seconds, or an IMF-fixdate (RFC 9110) turned into a wait
/// from now. Other date forms are ignored rather than guessed.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_imf_fixdate(raw)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let at = u64::try_from(at).ok()?;
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → Unix seconds.
fn parse_imf_fixdate(s: &str) -> Option<i64> {
    let rest = s.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(kiro_wire::num::days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdate() {
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "17".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(17)));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn oidc_code_reads_body_then_header() {
        let e = UpstreamError::Http {
            status: 400,
            error_type_header: None,
            retry_after: None,
            body: Bytes::from_static(br#"{"error":"invalid_grant","error_description":null}"#),
        };
        assert_eq!(e.oidc_code(), Some(OidcErrorCode::InvalidGrant));
        let e = UpstreamError::Http {
            status: 401,
            error_type_header: Some("ExpiredClientException".into()),
            retry_after: None,
            body: Bytes::new(),
        };
        assert_eq!(e.oidc_code(), Some(OidcErrorCode::InvalidClient));
    }
}
