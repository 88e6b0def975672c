//! The classification table of spec §8.2 (documented in [`super::fault`]): which class each
//! signal (`reason`, exception name, message, status) means, and what each class makes the
//! service do and the client see.

use super::fault::{Reaction, UpstreamFault};
use crate::canonical::{ClientError, ErrorKind};

/// Cooldown for the anti-abuse throttle, when `Retry-After` does not say longer.
const SUSPICIOUS_COOLDOWN_SECS: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    ContextOverflow,
    InvalidModel,
    SignatureInvalid,
    ImproperlyFormed,
    InvalidConversationState,
    Capacity,
    HighLoad,
    ModelUnavailable,
    RateExceeded,
    Throttled,
    Suspicious,
    QuotaExhausted,
    Suspended,
    TokenRejected,
    AccessDenied,
    Unauthorized,
    Forbidden,
    Internal,
    Unavailable,
    GatewayTimeout,
    RequestTimeout,
    TooLarge,
    BadRequest,
    OtherClientError,
    ServerError,
    Unexpected,
}

fn by_reason(reason: &str) -> Option<Class> {
    const TABLE: &[(&str, Class)] = &[
        ("CONTENT_LENGTH_EXCEEDS_THRESHOLD", Class::ContextOverflow),
        ("INVALID_MODEL_ID", Class::InvalidModel),
        ("THINKING_SIGNATURE_INVALID", Class::SignatureInvalid),
        ("REQUEST_BODY_INVALID", Class::ImproperlyFormed),
        (
            "INVALID_CONVERSATION_STATE",
            Class::InvalidConversationState,
        ),
        ("INSUFFICIENT_MODEL_CAPACITY", Class::Capacity),
        ("MODEL_TEMPORARILY_UNAVAILABLE", Class::ModelUnavailable),
        ("SERVICE_REQUEST_RATE_EXCEEDED", Class::RateExceeded),
        ("MONTHLY_REQUEST_COUNT", Class::QuotaExhausted),
        ("TEMPORARILY_SUSPENDED", Class::Suspended),
    ];
    let reason = reason.trim();
    TABLE
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(reason))
        .map(|&(_, c)| c)
}

/// Message refinements allowed for an exception name (the name alone would be coarser).
fn refine(message: Option<&str>, allowed: &[Class]) -> Option<Class> {
    message.and_then(by_message).filter(|c| allowed.contains(c))
}

fn by_type(name: &str, message: Option<&str>) -> Option<Class> {
    Some(match name {
        "ContentLengthExceededException" => Class::ContextOverflow,
        "ThrottlingException" => refine(
            message,
            &[
                Class::Suspicious,
                Class::HighLoad,
                Class::RateExceeded,
                Class::QuotaExhausted,
            ],
        )
        .unwrap_or(Class::Throttled),
        "ValidationException" => refine(
            message,
            &[
                Class::ContextOverflow,
                Class::InvalidModel,
                Class::SignatureInvalid,
            ],
        )
        .unwrap_or(Class::ImproperlyFormed),
        "ServiceQuotaExceededException" => Class::QuotaExhausted,
        "AccessDeniedException" => refine(message, &[Class::TokenRejected, Class::Suspended])
            .unwrap_or(Class::AccessDenied),
        "ExpiredTokenException" | "UnauthorizedException" => Class::TokenRejected,
        "InternalServerException" | "InternalServerError" | "InternalFailure" => {
            refine(message, &[Class::HighLoad]).unwrap_or(Class::Internal)
        }
        "ServiceUnavailableException" => Class::Unavailable,
        _ => return None,
    })
}

fn by_message(message: &str) -> Option<Class> {
    const TABLE: &[(&str, Class)] = &[
        ("input is too long", Class::ContextOverflow),
        ("prompt is too long", Class::ContextOverflow),
        ("content length exceeds", Class::ContextOverflow),
        (
            "invalid signature in thinking block",
            Class::SignatureInvalid,
        ),
        ("invalid model", Class::InvalidModel),
        ("temporarily is suspended", Class::Suspended),
        ("temporarily suspended", Class::Suspended),
        ("suspicious activity", Class::Suspicious),
        (
            "bearer token included in the request is invalid",
            Class::TokenRejected,
        ),
        ("not authorized", Class::AccessDenied),
        ("reached the limit", Class::QuotaExhausted),
        ("too many requests", Class::RateExceeded),
        ("high load", Class::HighLoad),
        ("high traffic", Class::HighLoad),
        ("improperly formed request", Class::ImproperlyFormed),
    ];
    let lower = message.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|&(_, c)| c)
}

fn by_status(status: Option<u16>) -> Class {
    match status {
        Some(400) => Class::BadRequest,
        Some(401) => Class::Unauthorized,
        Some(402) => Class::QuotaExhausted,
        Some(403) => Class::Forbidden,
        Some(408) => Class::RequestTimeout,
        Some(413) => Class::TooLarge,
        Some(429) => Class::Throttled,
        Some(500) => Class::Internal,
        Some(502 | 503) => Class::Unavailable,
        Some(504) => Class::GatewayTimeout,
        Some(s) if (400..500).contains(&s) => Class::OtherClientError,
        Some(s) if (500..600).contains(&s) => Class::ServerError,
        _ => Class::Unexpected,
    }
}

/// Everything a classification reads.
#[derive(Debug, Default)]
pub(super) struct Signals {
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub retry_after: Option<u64>,
}

impl Signals {
    fn class(&self) -> Class {
        let message = self.message.as_deref();
        self.reason
            .as_deref()
            .and_then(by_reason)
            .or_else(|| self.error_type.as_deref().and_then(|t| by_type(t, message)))
            .or_else(|| message.and_then(by_message))
            .unwrap_or_else(|| by_status(self.status))
    }

    pub(super) fn into_fault(self) -> UpstreamFault {
        let class = self.class();
        build(class, self)
    }
}

fn build(class: Class, s: Signals) -> UpstreamFault {
    use ErrorKind as K;
    use Reaction as R;
    let ra = s.retry_after;
    let upstream_msg = s.message.clone().unwrap_or_default();
    let rejected = |what: &str| {
        if upstream_msg.is_empty() {
            format!("the upstream rejected the request ({what})")
        } else {
            format!("the upstream rejected the request: {upstream_msg}")
        }
    };
    let no_account = "no upstream account can serve this request right now".to_owned();
    let (reaction, kind, label, client_message) = match class {
        Class::ContextOverflow => (
            R::FailFastClientError,
            K::ContextLengthExceeded,
            "context_overflow",
            "prompt is too long: the conversation does not fit in the model's context window"
                .to_owned(),
        ),
        Class::InvalidModel => (
            R::InvalidModelTryOther,
            K::InvalidRequest,
            "invalid_model",
            "the model is not available upstream; select a different model".to_owned(),
        ),
        Class::SignatureInvalid => (
            R::FailFastClientError,
            K::InvalidRequest,
            "thinking_signature_invalid",
            rejected("invalid thinking signature"),
        ),
        Class::ImproperlyFormed => (
            R::FailFastClientError,
            K::InvalidRequest,
            "improperly_formed",
            rejected("improperly formed request"),
        ),
        Class::InvalidConversationState => (
            R::FailFastClientError,
            K::InvalidRequest,
            "invalid_conversation_state",
            rejected("invalid conversation state"),
        ),
        Class::Capacity => (
            R::TransientRetryWithBackoff,
            K::Overloaded,
            "insufficient_capacity",
            "the upstream model is at capacity; try again shortly".to_owned(),
        ),
        Class::HighLoad => (
            R::TransientRetryWithBackoff,
            K::Overloaded,
            "high_load",
            "the upstream is under high load; try again shortly".to_owned(),
        ),
        Class::ModelUnavailable => (
            R::TransientRetryWithBackoff,
            K::Overloaded,
            "model_unavailable",
            "the upstream model is temporarily unavailable".to_owned(),
        ),
        Class::RateExceeded => (
            R::AccountCooldownAndSwitch { cooldown_secs: ra },
            K::RateLimited,
            "rate_exceeded",
            "upstream rate limit reached; retry later".to_owned(),
        ),
        Class::Throttled => (
            R::AccountCooldownAndSwitch { cooldown_secs: ra },
            K::RateLimited,
            "throttled",
            "upstream rate limit reached; retry later".to_owned(),
        ),
        Class::Suspicious => (
            R::AccountCooldownAndSwitch {
                cooldown_secs: Some(ra.unwrap_or(0).max(SUSPICIOUS_COOLDOWN_SECS)),
            },
            K::RateLimited,
            "suspicious_activity",
            "upstream rate limit reached; retry later".to_owned(),
        ),
        Class::QuotaExhausted => (
            R::AccountExhaustedUntilReset,
            K::RateLimited,
            "quota_exhausted",
            "the upstream usage quota is exhausted".to_owned(),
        ),
        Class::Suspended => (
            R::AccountDisabledNeedsRelogin,
            K::Overloaded,
            "suspended",
            no_account,
        ),
        Class::TokenRejected => (
            R::RefreshAndRetryOnce,
            K::Overloaded,
            "token_rejected",
            no_account,
        ),
        Class::AccessDenied => (
            R::AccountDisabledNeedsRelogin,
            K::Overloaded,
            "access_denied",
            no_account,
        ),
        Class::Unauthorized => (
            R::RefreshAndRetryOnce,
            K::Overloaded,
            "unauthorized",
            no_account,
        ),
        Class::Forbidden => (
            R::RefreshAndRetryOnce,
            K::Overloaded,
            "forbidden",
            no_account,
        ),
        Class::Internal => (
            R::TransientRetryWithBackoff,
            K::Api,
            "internal",
            "the upstream failed with an internal error".to_owned(),
        ),
        Class::Unavailable => (
            R::TransientRetryWithBackoff,
            K::Overloaded,
            "unavailable",
            "the upstream is temporarily unavailable".to_owned(),
        ),
        Class::GatewayTimeout => (
            R::TransientRetryWithBackoff,
            K::Timeout,
            "gateway_timeout",
            "the upstream did not answer in time".to_owned(),
        ),
        Class::RequestTimeout => (
            R::TransientRetryWithBackoff,
            K::Timeout,
            "request_timeout",
            "the upstream did not answer in time".to_owned(),
        ),
        Class::TooLarge => (
            R::FailFastClientError,
            K::RequestTooLarge,
            "too_large",
            "the request is too large for the upstream".to_owned(),
        ),
        Class::BadRequest => (
            R::FailFastClientError,
            K::InvalidRequest,
            "bad_request",
            rejected("bad request"),
        ),
        Class::OtherClientError => (
            R::FailFastClientError,
            K::InvalidRequest,
            "client_error",
            rejected("client error"),
        ),
        Class::ServerError => (
            R::TransientRetryWithBackoff,
            K::Overloaded,
            "server_error",
            "the upstream failed; try again shortly".to_owned(),
        ),
        Class::Unexpected => (
            R::TransientRetryWithBackoff,
            K::Api,
            "unexpected",
            "the upstream answered with an unexpected error".to_owned(),
        ),
    };
    let mut client_error = ClientError::new(kind, client_message);
    if class == Class::InvalidModel {
        client_error.param = Some("model".to_owned());
    }
    if kind == K::RateLimited {
        client_error.retry_after = ra;
    }
    let message = match (s.message, s.status) {
        (Some(m), _) => m,
        (None, Some(status)) => format!("HTTP {status}"),
        (None, None) => label.to_owned(),
    };
    UpstreamFault {
        status: s.status,
        reason: s.reason,
        error_type: s.error_type,
        message,
        reaction,
        client_error,
        label,
        context_overflow: class == Class::ContextOverflow,
    }
}
