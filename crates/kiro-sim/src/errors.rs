//! The exact upstream error responses of spec §8.2 and §8.3 (plus the OIDC errors of §3.2–3.4
//! and the usage errors of §3.6), so fault injection and validation answer like the service.
//!
//! Bodies are assembled from fixed parts in the key order the spec shows (`__type`, `message`,
//! `reason`; `error`, `error_description`), never through a JSON map whose key order could
//! change. Where the spec quotes no exact text, the text below is our own realistic wording:
//! `Throttling` ("Rate exceeded.", no `reason` key), `SuspiciousActivity`, `Unauthorized`,
//! `TemporarilySuspended` (a fixed sample user id; see [`temporarily_suspended`]),
//! `AccessDeniedException`, `InternalServer`, `BadGateway`, `ServiceUnavailable`,
//! `ModelTemporarilyUnavailable`, `GatewayTimeout`, `InvalidProfileArn`'s `reason`,
//! `FeatureNotSupported`, `ThinkingSignatureInvalid` (message index fixed at 1), and every OIDC
//! `error_description` except "Invalid grant provided" and "Client is expired".
//!
//! `x-amzn-ErrorType` is sent only where it cannot change the §8.1 classification (which reads
//! `reason`, then the exception name, then the message): never on the bearer-invalid 403 or the
//! plain 401, whose meaning lives in the message or the status.

use std::fmt;
use std::str::FromStr;

/// One error response the simulated service can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    // §8.2 row 1 and its two variants: a §4.5 rule broken.
    ImproperlyFormed,
    ImproperlyFormedBodyInvalid,
    ImproperlyFormedValidation,
    // §8.2, the rest.
    ContentLengthExceeded,
    InvalidModelId,
    /// The shorter "Invalid model ID." wording also reported for `INVALID_MODEL_ID`.
    InvalidModelIdShort,
    ThinkingSignatureInvalid,
    /// Default 429; the 400 variant is `response_with(Some(400), _)`.
    InsufficientModelCapacity,
    ServiceRequestRateExceeded,
    Throttling,
    SuspiciousActivity,
    MonthlyRequestCount,
    Unauthorized,
    BearerTokenInvalid,
    TemporarilySuspended,
    AccessDeniedException,
    InternalServer,
    HighLoad,
    BadGateway,
    ServiceUnavailable,
    ModelTemporarilyUnavailable,
    GatewayTimeout,
    // §3.6 usage errors.
    InvalidProfileArn,
    FeatureNotSupported,
    // §8.3 social refresh.
    SocialInvalidRefreshToken,
    SocialUnauthorized,
    // §3.2–3.4 OIDC.
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidClient,
    /// `invalid_client` for an expired registration ("Client is expired").
    ExpiredClient,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidRequest,
    InvalidScope,
    InvalidClientMetadata,
    ServerError,
}

/// A complete HTTP error answer: status, headers (lower-case names except `x-amzn-ErrorType`,
/// spelled as the service does) and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamErrorResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// `reason` as it appears in an AWS-style body.
#[derive(Clone, Copy)]
enum Reason {
    Null,
    Absent,
    Is(&'static str),
}

#[derive(Clone, Copy)]
enum Body {
    /// `{"__type"?, "message", "reason"?}`.
    Aws {
        type_name: Option<&'static str>,
        message: &'static str,
        reason: Reason,
    },
    /// `{"error", "error_description"}` (description may be null).
    Oidc {
        error: &'static str,
        description: Option<&'static str>,
    },
    Empty,
}

#[derive(Clone, Copy)]
struct Row {
    status: u16,
    body: Body,
    /// For `x-amzn-ErrorType` and `exception` frames.
    exception: Option<&'static str>,
    auth: bool,
}

const AWS_TYPE_PREFIX: &str = "com.amazon.aws.codewhisperer#";

/// The sample user id in the `TemporarilySuspended` message.
pub const SAMPLE_SUSPENDED_USER_ID: &str = "d-9067642ac7.14e8a4f8-50b1-70c3-1bcd-3b5e7c9d2f10";
const SUSPENDED_MESSAGE: &str = "Your User ID (d-9067642ac7.14e8a4f8-50b1-70c3-1bcd-3b5e7c9d2f10) temporarily is suspended. We've locked your account as a security precaution. To unlock it, please contact AWS Support.";

const fn aws(status: u16, message: &'static str, reason: Reason) -> Row {
    Row {
        status,
        body: Body::Aws {
            type_name: None,
            message,
            reason,
        },
        exception: None,
        auth: false,
    }
}

/// An AWS body that names its exception in `__type` (and so in the header too).
const fn typed(status: u16, exception: &'static str, message: &'static str, reason: Reason) -> Row {
    Row {
        status,
        body: Body::Aws {
            type_name: Some(exception),
            message,
            reason,
        },
        exception: Some(exception),
        auth: false,
    }
}

const fn with_header(mut row: Row, exception: &'static str) -> Row {
    row.exception = Some(exception);
    row
}

const fn oidc(
    status: u16,
    error: &'static str,
    description: Option<&'static str>,
    exception: &'static str,
) -> Row {
    Row {
        status,
        body: Body::Oidc { error, description },
        exception: Some(exception),
        auth: true,
    }
}

const fn social(status: u16, body: Body) -> Row {
    Row {
        status,
        body,
        exception: None,
        auth: true,
    }
}

const IMPROPER: &str = "Improperly formed request.";
const THROTTLING: &str = "ThrottlingException";
const VALIDATION: &str = "ValidationException";
const ACCESS_DENIED: &str = "AccessDeniedException";

impl ErrorKind {
    fn row(self) -> Row {
        use ErrorKind as K;
        use Reason::{Absent, Is, Null};
        match self {
            K::ImproperlyFormed => aws(400, IMPROPER, Null),
            K::ImproperlyFormedBodyInvalid => aws(400, IMPROPER, Is("REQUEST_BODY_INVALID")),
            K::ImproperlyFormedValidation => typed(400, VALIDATION, IMPROPER, Null),
            K::ContentLengthExceeded => with_header(
                aws(
                    400,
                    "Input is too long.",
                    Is("CONTENT_LENGTH_EXCEEDS_THRESHOLD"),
                ),
                "ContentLengthExceededException",
            ),
            K::InvalidModelId => aws(
                400,
                "Invalid model. Please select a different model to continue.",
                Is("INVALID_MODEL_ID"),
            ),
            K::InvalidModelIdShort => aws(400, "Invalid model ID.", Is("INVALID_MODEL_ID")),
            K::ThinkingSignatureInvalid => aws(
                400,
                "messages.1.content.0: Invalid signature in thinking block",
                Is("THINKING_SIGNATURE_INVALID"),
            ),
            K::InsufficientModelCapacity => typed(
                429,
                THROTTLING,
                "I am experiencing high traffic, please try again shortly.",
                Is("INSUFFICIENT_MODEL_CAPACITY"),
            ),
            K::ServiceRequestRateExceeded => with_header(
                aws(
                    429,
                    "Too many requests, please wait before trying again.",
                    Is("SERVICE_REQUEST_RATE_EXCEEDED"),
                ),
                THROTTLING,
            ),
            K::Throttling => typed(429, THROTTLING, "Rate exceeded.", Absent),
            K::SuspiciousActivity => typed(
                429,
                THROTTLING,
                "We have detected suspicious activity on your account and temporarily limited its requests. Please try again later.",
                Null,
            ),
            K::MonthlyRequestCount => with_header(
                aws(
                    402,
                    "You have reached the limit.",
                    Is("MONTHLY_REQUEST_COUNT"),
                ),
                "ServiceQuotaExceededException",
            ),
            K::Unauthorized => aws(401, "Unauthorized.", Null),
            K::BearerTokenInvalid => aws(
                403,
                "The bearer token included in the request is invalid.",
                Null,
            ),
            K::TemporarilySuspended => with_header(
                aws(403, SUSPENDED_MESSAGE, Is("TEMPORARILY_SUSPENDED")),
                ACCESS_DENIED,
            ),
            K::AccessDeniedException => typed(
                403,
                ACCESS_DENIED,
                "User is not authorized to make this call.",
                Null,
            ),
            K::InternalServer => typed(
                500,
                "InternalServerException",
                "Encountered an unexpected error when processing the request, please try again.",
                Null,
            ),
            K::HighLoad => aws(
                500,
                "Encountered unexpectedly high load when processing the request, please try again.",
                Null,
            ),
            K::BadGateway => aws(502, "Bad Gateway", Null),
            K::ServiceUnavailable => typed(
                503,
                "ServiceUnavailableException",
                "Service is temporarily unavailable. Please try again later.",
                Null,
            ),
            K::ModelTemporarilyUnavailable => with_header(
                aws(
                    503,
                    "The model is temporarily unavailable. Please try again later.",
                    Is("MODEL_TEMPORARILY_UNAVAILABLE"),
                ),
                "ServiceUnavailableException",
            ),
            K::GatewayTimeout => aws(504, "Gateway Timeout", Null),
            K::InvalidProfileArn => typed(400, VALIDATION, "Invalid profileArn", Null),
            K::FeatureNotSupported => typed(
                403,
                ACCESS_DENIED,
                "This feature is not supported for your profile.",
                Is("FEATURE_NOT_SUPPORTED"),
            ),
            K::SocialInvalidRefreshToken => social(
                400,
                Body::Aws {
                    type_name: None,
                    message: "Invalid refresh token provided",
                    reason: Absent,
                },
            ),
            K::SocialUnauthorized => social(401, Body::Empty),
            K::AuthorizationPending => oidc(
                400,
                "authorization_pending",
                None,
                "AuthorizationPendingException",
            ),
            K::SlowDown => oidc(400, "slow_down", None, "SlowDownException"),
            K::ExpiredToken => oidc(
                400,
                "expired_token",
                Some("Token is expired"),
                "ExpiredTokenException",
            ),
            K::AccessDenied => oidc(
                400,
                "access_denied",
                Some("Authorization request was denied"),
                ACCESS_DENIED,
            ),
            K::InvalidGrant => oidc(
                400,
                "invalid_grant",
                Some("Invalid grant provided"),
                "InvalidGrantException",
            ),
            K::InvalidClient => oidc(
                401,
                "invalid_client",
                Some("Invalid client provided"),
                "InvalidClientException",
            ),
            K::ExpiredClient => oidc(
                401,
                "invalid_client",
                Some("Client is expired"),
                "ExpiredClientException",
            ),
            K::UnauthorizedClient => oidc(
                400,
                "unauthorized_client",
                Some("Client is not authorized for this grant type"),
                "UnauthorizedClientException",
            ),
            K::UnsupportedGrantType => oidc(
                400,
                "unsupported_grant_type",
                Some("Unsupported grant type"),
                "UnsupportedGrantTypeException",
            ),
            K::InvalidRequest => oidc(
                400,
                "invalid_request",
                Some("Invalid request"),
                "InvalidRequestException",
            ),
            K::InvalidScope => oidc(
                400,
                "invalid_scope",
                Some("Invalid scope requested"),
                "InvalidScopeException",
            ),
            K::InvalidClientMetadata => oidc(
                400,
                "invalid_client_metadata",
                Some("Invalid client metadata"),
                "InvalidClientMetadataException",
            ),
            K::ServerError => oidc(
                500,
                "server_error",
                Some("An internal server error occurred"),
                "InternalServerException",
            ),
        }
    }

    /// Every kind, in declaration order.
    pub fn all() -> &'static [ErrorKind] {
        use ErrorKind as K;
        &[
            K::ImproperlyFormed,
            K::ImproperlyFormedBodyInvalid,
            K::ImproperlyFormedValidation,
            K::ContentLengthExceeded,
            K::InvalidModelId,
            K::InvalidModelIdShort,
            K::ThinkingSignatureInvalid,
            K::InsufficientModelCapacity,
            K::ServiceRequestRateExceeded,
            K::Throttling,
            K::SuspiciousActivity,
            K::MonthlyRequestCount,
            K::Unauthorized,
            K::BearerTokenInvalid,
            K::TemporarilySuspended,
            K::AccessDeniedException,
            K::InternalServer,
            K::HighLoad,
            K::BadGateway,
            K::ServiceUnavailable,
            K::ModelTemporarilyUnavailable,
            K::GatewayTimeout,
            K::InvalidProfileArn,
            K::FeatureNotSupported,
            K::SocialInvalidRefreshToken,
            K::SocialUnauthorized,
            K::AuthorizationPending,
            K::SlowDown,
            K::ExpiredToken,
            K::AccessDenied,
            K::InvalidGrant,
            K::InvalidClient,
            K::ExpiredClient,
            K::UnauthorizedClient,
            K::UnsupportedGrantType,
            K::InvalidRequest,
            K::InvalidScope,
            K::InvalidClientMetadata,
            K::ServerError,
        ]
    }

    /// The response with the spec's default status and no `retry-after`.
    pub fn response(self) -> UpstreamErrorResponse {
        self.response_with(None, None)
    }

    /// The response with an overridden status (e.g. capacity as 400) and/or a `retry-after`.
    pub fn response_with(
        self,
        status: Option<u16>,
        retry_after_secs: Option<u64>,
    ) -> UpstreamErrorResponse {
        let row = self.row();
        build(row, self.body(), status, retry_after_secs)
    }

    /// The body text.
    pub fn body(self) -> String {
        render(self.row().body)
    }

    /// The spec's default HTTP status.
    pub fn default_status(self) -> u16 {
        self.row().status
    }

    /// The `reason` field, when the body carries a non-null one.
    pub fn reason(self) -> Option<&'static str> {
        match self.row().body {
            Body::Aws {
                reason: Reason::Is(r),
                ..
            } => Some(r),
            _ => None,
        }
    }

    /// The human text of the body (`message`, or the OIDC `error_description`); `""` if none.
    pub fn message(self) -> &'static str {
        match self.row().body {
            Body::Aws { message, .. } => message,
            Body::Oidc { description, .. } => description.unwrap_or(""),
            Body::Empty => "",
        }
    }

    /// The OIDC `error` code, for the auth-endpoint kinds that have one.
    pub fn oidc_error(self) -> Option<&'static str> {
        match self.row().body {
            Body::Oidc { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The exception name for `x-amzn-ErrorType` and for `:exception-type` of an exception frame.
    pub fn exception_type(self) -> Option<&'static str> {
        self.row().exception
    }

    /// Whether this is an error of the social-refresh or OIDC endpoints (§8.3) rather than of
    /// chat, usage, models or MCP (§8.2).
    pub fn is_auth_endpoint(self) -> bool {
        self.row().auth
    }

    /// The snake_case name (the serde and [`FromStr`] form).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }
}

/// `TemporarilySuspended` naming a given user id, as the service does in its message.
pub fn temporarily_suspended(
    user_id: &str,
    retry_after_secs: Option<u64>,
) -> UpstreamErrorResponse {
    let message = SUSPENDED_MESSAGE.replacen(SAMPLE_SUSPENDED_USER_ID, user_id, 1);
    let body = format!(
        "{{\"message\":{},\"reason\":\"TEMPORARILY_SUSPENDED\"}}",
        json_string(&message)
    );
    build(
        ErrorKind::TemporarilySuspended.row(),
        body,
        None,
        retry_after_secs,
    )
}

fn build(
    row: Row,
    body: String,
    status: Option<u16>,
    retry_after_secs: Option<u64>,
) -> UpstreamErrorResponse {
    let mut headers = Vec::new();
    if !body.is_empty() {
        headers.push(("content-type", "application/json".to_owned()));
    }
    if let Some(exception) = row.exception {
        headers.push(("x-amzn-ErrorType", exception.to_owned()));
    }
    if let Some(secs) = retry_after_secs {
        headers.push(("retry-after", secs.to_string()));
    }
    UpstreamErrorResponse {
        status: status.unwrap_or(row.status),
        headers,
        body,
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn render(body: Body) -> String {
    match body {
        Body::Empty => String::new(),
        Body::Oidc { error, description } => format!(
            "{{\"error\":{},\"error_description\":{}}}",
            json_string(error),
            description.map_or_else(|| "null".to_owned(), json_string)
        ),
        Body::Aws {
            type_name,
            message,
            reason,
        } => {
            let mut out = String::from("{");
            if let Some(t) = type_name {
                out.push_str("\"__type\":");
                out.push_str(&json_string(&format!("{AWS_TYPE_PREFIX}{t}")));
                out.push(',');
            }
            out.push_str("\"message\":");
            out.push_str(&json_string(message));
            match reason {
                Reason::Absent => {}
                Reason::Null => out.push_str(",\"reason\":null"),
                Reason::Is(r) => {
                    out.push_str(",\"reason\":");
                    out.push_str(&json_string(r));
                }
            }
            out.push('}');
            out
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An unknown error-kind name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error kind {0:?}")]
pub struct UnknownErrorKind(pub String);

impl FromStr for ErrorKind {
    type Err = UnknownErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| UnknownErrorKind(s.to_owned()))
    }
}
