//! Upstream error classification (spec §8): what the service does about a failure (its
//! [`Reaction`]) and what the client sees if retries cannot hide it (its [`ClientError`]).
//!
//! Signals are read in the spec's order, first hit wins: `reason` (authoritative: the same reason
//! is seen under different statuses), then the exception name (`__type` or `x-amzn-ErrorType`,
//! stripped of its `…#` prefix; a few names are refined by their message, below), then the message
//! text, then the HTTP status. An unknown `reason` or name is not a hit: the next signal decides.
//!
//! | Class (label)                | Signals                                                                   | Reaction                         | Client sees |
//! |------------------------------|---------------------------------------------------------------------------|----------------------------------|-------------|
//! | `context_overflow`           | `CONTENT_LENGTH_EXCEEDS_THRESHOLD`, `ContentLengthExceededException`, "input is too long" | fail-fast         | ContextLengthExceeded ("prompt is too long") |
//! | `invalid_model`              | `INVALID_MODEL_ID`, "invalid model"                                       | invalid-model-try-other          | InvalidRequest, `param: model` (1) |
//! | `thinking_signature_invalid` | `THINKING_SIGNATURE_INVALID`, "invalid signature in thinking block"       | fail-fast (2)                    | InvalidRequest |
//! | `improperly_formed`          | `REQUEST_BODY_INVALID`, `ValidationException`, "improperly formed request" | fail-fast                       | InvalidRequest |
//! | `invalid_conversation_state` | `INVALID_CONVERSATION_STATE`                                              | fail-fast                        | InvalidRequest |
//! | `insufficient_capacity`      | `INSUFFICIENT_MODEL_CAPACITY`                                             | transient                        | Overloaded |
//! | `high_load`                  | "high load", "high traffic" (also refines `ThrottlingException`, `InternalServerException`) | transient      | Overloaded |
//! | `model_unavailable`          | `MODEL_TEMPORARILY_UNAVAILABLE`                                           | transient                        | Overloaded |
//! | `rate_exceeded`              | `SERVICE_REQUEST_RATE_EXCEEDED`, "too many requests"                      | cooldown = Retry-After           | RateLimited + retry_after |
//! | `throttled`                  | `ThrottlingException` without reason, HTTP 429                            | cooldown = Retry-After (short)   | RateLimited + retry_after |
//! | `suspicious_activity`        | "suspicious activity"                                                     | cooldown ≥ 600 s                 | RateLimited |
//! | `quota_exhausted`            | `MONTHLY_REQUEST_COUNT`, `ServiceQuotaExceededException`, "reached the limit", HTTP 402 | exhausted-until-reset | RateLimited (3) |
//! | `suspended`                  | `TEMPORARILY_SUSPENDED`, "temporarily is suspended"                       | disabled-needs-relogin           | Overloaded (4) |
//! | `token_rejected`             | "bearer token included in the request is invalid", `ExpiredTokenException` | refresh-and-retry-once (5)      | Overloaded (4) |
//! | `access_denied`              | `AccessDeniedException`, "not authorized"                                 | disabled-needs-relogin (6)       | Overloaded (4) |
//! | `unauthorized` / `forbidden` | HTTP 401 / 403 with nothing more specific                                 | refresh-and-retry-once           | Overloaded (4) |
//! | `internal`                   | `InternalServerException`, HTTP 500                                       | transient                        | Api |
//! | `unavailable`                | `ServiceUnavailableException`, HTTP 502 / 503                             | transient                        | Overloaded |
//! | `gateway_timeout` / `request_timeout` | HTTP 504 / 408                                                   | transient                        | Timeout |
//! | `server_error`               | other 5xx                                                                 | transient                        | Overloaded |
//! | `too_large`                  | HTTP 413                                                                  | fail-fast                        | RequestTooLarge |
//! | `bad_request` / `client_error` | HTTP 400 / other 4xx with nothing more specific                         | fail-fast                        | InvalidRequest |
//! | `unexpected`                 | nothing recognised (e.g. HTTP 200 with an unreadable body, an unknown in-stream error) | transient | Api |
//! | `connect`, `reset` / `timeout` / `bad_frame` | transport failures ([`classify_transport`])              | transient                        | Overloaded / Timeout / Api |
//!
//! (1) An upstream "invalid model" means this account cannot use a model the catalogue knows
//!     (unknown models are refused before any upstream call with NotFound), so the request,
//!     not the route, is at fault: InvalidRequest naming `model`.
//! (2) The service retries once without history reasoning (N12) on this label, then fails.
//! (3) Quota exhaustion is a capacity limit the client can wait out, not a malformed request.
//! (4) Account-level faults are the proxy's problem: the service switches accounts, and when none
//!     is left the client sees "overloaded" (all accounts unavailable), never an authentication
//!     error about its own key.
//! (5) The service disables the account (`disabled-needs-relogin`) if the fault repeats after
//!     the refresh.
//! (6) The service re-resolves the profileArn once on this label before disabling (spec §8.2).
//!
//! Auth endpoints ([`classify_auth`], spec §8.3): rejected credentials (`invalid_grant`,
//! `invalid_client` / "Client is expired", `expired_token`, social 400 "Invalid refresh token",
//! social 401, other 4xx) disable the account; 5xx, 408, 429 and network failures are transient
//! (keep using the current token). Device-flow polling states (`authorization_pending`,
//! `slow_down`) come back as transient with their own label.

use kiro_wire::Event;
use kiro_wire::types::{
    OidcError, OidcErrorCode, UpstreamErrorBody, error_type_name, oidc_error_code,
};

use super::fault_class::Signals;
use crate::canonical::{ClientError, ErrorKind};

/// What the service does about a fault (spec §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    FailFastClientError,
    RefreshAndRetryOnce,
    /// Cool the account down (`Retry-After` when given, else the configured default) and try
    /// another.
    AccountCooldownAndSwitch {
        cooldown_secs: Option<u64>,
    },
    AccountExhaustedUntilReset,
    AccountDisabledNeedsRelogin,
    TransientRetryWithBackoff,
    /// The model is unavailable to this account: one try on another account, no penalty.
    InvalidModelTryOther,
}

/// A classified upstream failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("upstream {label}: {message}")]
pub struct UpstreamFault {
    /// HTTP status, when the fault came from a status line (`None` for in-stream frames and
    /// transport failures).
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// The exception name without its namespace (`ThrottlingException`).
    pub error_type: Option<String>,
    /// The upstream's own message (for logs), or a description of the failure.
    pub message: String,
    pub reaction: Reaction,
    /// What the client sees if the fault cannot be retried away.
    pub client_error: ClientError,
    /// Short metric label (see the table above).
    pub label: &'static str,
    pub context_overflow: bool,
}

/// Which auth endpoint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEndpoint {
    /// `POST {social_auth}/refreshToken`.
    Social,
    /// `POST {oidc}/token` (and the other OIDC calls).
    Oidc,
}

/// A failure below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    Connect,
    Timeout,
    Reset,
    /// The EventStream could not be decoded (CRC, bounds, cut frame, unreadable payload).
    BadFrame,
}

/// How a reply that already showed output to the client ends after a fault (spec §8.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterOutput {
    /// Context overflow: end normally with stop reason `max_tokens`.
    EndWithMaxTokens,
    /// Anything else: an in-band error event ends the stream.
    InBandError(ClientError),
}

/// How much of a non-JSON body is kept as the message.
const MAX_TEXT_MESSAGE: usize = 300;

/// `Retry-After` in seconds (fractions round up). HTTP-date values are ignored: turning them
/// into a delay needs the clock, which this crate does not read.
fn parse_retry_after(raw: Option<&str>) -> Option<u64> {
    let raw = raw?.trim();
    raw.parse::<u64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f.ceil() as u64)
    })
}

fn non_blank(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A non-JSON body as a message: trimmed, lossy, bounded.
fn text_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(text.chars().take(MAX_TEXT_MESSAGE).collect())
}

/// Classifies an HTTP error from chat, usage, models or MCP, or an HTTP 200 whose body is a
/// JSON error object instead of frames (spec §7.5; pass status 200 and the body).
pub fn classify_http(
    status: u16,
    error_type_header: Option<&str>,
    retry_after: Option<&str>,
    body: &[u8],
) -> UpstreamFault {
    let parsed = UpstreamErrorBody::parse(body);
    let (reason, body_type, message) = match &parsed {
        Some(b) => (
            non_blank(b.reason()),
            b.error_type().map(str::to_owned),
            non_blank(b.message()),
        ),
        None => (None, None, text_message(body)),
    };
    Signals {
        status: Some(status),
        reason,
        error_type: body_type.or_else(|| {
            error_type_header
                .and_then(error_type_name)
                .map(str::to_owned)
        }),
        message,
        retry_after: parse_retry_after(retry_after),
    }
    .into_fault()
}

/// Whether an `:error-code` looks like a `reason` (`INSUFFICIENT_MODEL_CAPACITY`) rather than an
/// exception name (`ThrottlingException`).
fn looks_like_reason(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Classifies an in-stream failure (spec §8.4): an `exception` frame, an `error` frame or an
/// `invalidStateEvent`. `None` for every other event.
pub fn classify_event(ev: &Event) -> Option<UpstreamFault> {
    let signals = match ev {
        Event::Exception(e) => {
            let body = UpstreamErrorBody::parse(&e.payload);
            Signals {
                reason: non_blank(e.reason.as_deref())
                    .or_else(|| body.as_ref().and_then(|b| non_blank(b.reason()))),
                error_type: error_type_name(&e.exception_type)
                    .map(str::to_owned)
                    .or_else(|| {
                        body.as_ref()
                            .and_then(|b| b.error_type().map(str::to_owned))
                    }),
                message: non_blank(e.message.as_deref()),
                ..Signals::default()
            }
        }
        Event::Error(e) => {
            let body = UpstreamErrorBody::parse(&e.payload);
            let code = e.code.trim();
            let (code_reason, code_type) = if looks_like_reason(code) {
                (Some(code.to_owned()), None)
            } else {
                (None, error_type_name(code).map(str::to_owned))
            };
            Signals {
                reason: body
                    .as_ref()
                    .and_then(|b| non_blank(b.reason()))
                    .or(code_reason),
                error_type: code_type.or_else(|| {
                    body.as_ref()
                        .and_then(|b| b.error_type().map(str::to_owned))
                }),
                message: non_blank(Some(&e.message))
                    .or_else(|| body.as_ref().and_then(|b| non_blank(b.message()))),
                ..Signals::default()
            }
        }
        Event::InvalidState(e) => Signals {
            reason: non_blank(Some(&e.reason)),
            message: non_blank(Some(&e.message)),
            ..Signals::default()
        },
        _ => return None,
    };
    Some(signals.into_fault())
}

fn auth_fault(
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
    disable: bool,
    label: &'static str,
) -> UpstreamFault {
    let (reaction, kind, client_message) = if disable {
        (
            Reaction::AccountDisabledNeedsRelogin,
            ErrorKind::Overloaded,
            "no upstream account can serve this request right now",
        )
    } else {
        (
            Reaction::TransientRetryWithBackoff,
            ErrorKind::Overloaded,
            "the upstream sign-in service is unavailable; try again shortly",
        )
    };
    let message = message.unwrap_or_else(|| match status {
        Some(s) => format!("HTTP {s}"),
        None => label.to_owned(),
    });
    UpstreamFault {
        status,
        reason: None,
        error_type: code,
        message,
        reaction,
        client_error: ClientError::new(kind, client_message),
        label,
        context_overflow: false,
    }
}

/// Whether a status means "try again later" rather than "these credentials are bad".
fn auth_status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 429) || !(400..500).contains(&status)
}

/// Classifies a failed refresh or OIDC call (spec §8.3).
pub fn classify_auth(
    endpoint: AuthEndpoint,
    status: u16,
    body: &[u8],
    error_type_header: Option<&str>,
) -> UpstreamFault {
    match endpoint {
        AuthEndpoint::Social => {
            let parsed = UpstreamErrorBody::parse(body);
            let message = match &parsed {
                Some(b) => non_blank(b.message()),
                None => text_message(body),
            };
            let error_type = parsed
                .as_ref()
                .and_then(|b| b.error_type().map(str::to_owned))
                .or_else(|| {
                    error_type_header
                        .and_then(error_type_name)
                        .map(str::to_owned)
                });
            let invalid_token = message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("invalid refresh token"));
            let (disable, label) = if invalid_token {
                (true, "invalid_refresh_token")
            } else if auth_status_is_transient(status) {
                (false, "auth_unavailable")
            } else if status == 401 {
                (true, "refresh_unauthorized")
            } else {
                (true, "refresh_rejected")
            };
            auth_fault(Some(status), error_type, message, disable, label)
        }
        AuthEndpoint::Oidc => {
            let parsed: Option<OidcError> = serde_json::from_slice(body).ok();
            let code = oidc_error_code(parsed.as_ref(), error_type_header);
            let message = parsed
                .as_ref()
                .and_then(|e| non_blank(e.error_description.as_deref()))
                .or_else(|| match &parsed {
                    Some(_) => None,
                    None => text_message(body),
                });
            let client_expired = message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("client is expired"));
            let (disable, label) = match &code {
                Some(OidcErrorCode::InvalidGrant) => (true, "invalid_grant"),
                Some(OidcErrorCode::InvalidClient) => (true, "invalid_client"),
                _ if client_expired => (true, "invalid_client"),
                Some(OidcErrorCode::ExpiredToken) => (true, "expired_token"),
                Some(OidcErrorCode::UnauthorizedClient) => (true, "unauthorized_client"),
                Some(OidcErrorCode::AccessDenied) => (true, "access_denied"),
                Some(OidcErrorCode::AuthorizationPending) => (false, "authorization_pending"),
                Some(OidcErrorCode::SlowDown) => (false, "slow_down"),
                Some(OidcErrorCode::ServerError) => (false, "auth_unavailable"),
                _ if auth_status_is_transient(status) => (false, "auth_unavailable"),
                _ => (true, "refresh_rejected"),
            };
            let code = code.map(|c| c.as_str().to_owned());
            auth_fault(Some(status), code, message, disable, label)
        }
    }
}

/// Classifies a failure below HTTP (spec §8.2, last row): always transient.
pub fn classify_transport(kind: TransportFailure, detail: &str) -> UpstreamFault {
    let (label, client_kind, client_message) = match kind {
        TransportFailure::Connect => (
            "connect",
            ErrorKind::Overloaded,
            "could not reach the upstream; try again shortly",
        ),
        TransportFailure::Timeout => (
            "timeout",
            ErrorKind::Timeout,
            "the upstream did not answer in time",
        ),
        TransportFailure::Reset => (
            "reset",
            ErrorKind::Overloaded,
            "the upstream connection was lost; try again shortly",
        ),
        TransportFailure::BadFrame => (
            "bad_frame",
            ErrorKind::Api,
            "the upstream sent an unreadable reply",
        ),
    };
    UpstreamFault {
        status: None,
        reason: None,
        error_type: None,
        message: if detail.is_empty() {
            label.to_owned()
        } else {
            detail.to_owned()
        },
        reaction: Reaction::TransientRetryWithBackoff,
        client_error: ClientError::new(client_kind, client_message),
        label,
        context_overflow: false,
    }
}

/// How a reply that already reached the client ends after `fault` (spec §8.4): a context
/// overflow ends the message normally with `max_tokens`; anything else is an in-band error. The
/// account effect of the fault's reaction applies either way.
pub fn after_output(fault: &UpstreamFault) -> AfterOutput {
    if fault.context_overflow {
        AfterOutput::EndWithMaxTokens
    } else {
        AfterOutput::InBandError(fault.client_error.clone())
    }
}
