//! Why a credential could not be had: [`TokenError`], and the classification of refresh
//! failures into permanent and transient (spec §3.4 table, §8.3).

use std::fmt;

use kiro_wire::types::OidcErrorCode;

use super::model::AuthMethod;
use crate::upstream::{InvalidFingerprint, UpstreamError};

/// What a failed refresh means for the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshFailure {
    /// OIDC `invalid_grant`: the refresh token is invalid, used, or rotated away (rotation races
    /// end here too).
    InvalidGrant,
    /// OIDC `invalid_client` / `ExpiredClientException`: the registration is bad or past
    /// `clientSecretExpiresAt`; register again and log in.
    InvalidClient,
    /// OIDC `expired_token` on refresh: the refresh token has expired.
    ExpiredToken,
    /// Social 400 `Invalid refresh token provided`: a dead refresh token.
    InvalidRefreshToken,
    /// Social 401: revoked or superseded. Another holder (the IDE) may have rotated it, so the
    /// import source is worth re-reading once before asking for a new login.
    Unauthorized,
    /// Another client error no retry can fix (`unauthorized_client`, `invalid_request`, …);
    /// `status` is `None` when the request could not even be built.
    Rejected {
        status: Option<u16>,
        code: Option<String>,
    },
    /// 5xx, 408, 429, `server_error`, network failures, timeouts, an unreadable 200.
    Transient,
}

impl RefreshFailure {
    /// True when retrying cannot help until an operator acts (a new login or registration).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, RefreshFailure::Transient)
    }

    /// A short stable label, for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            RefreshFailure::InvalidGrant => "invalid_grant",
            RefreshFailure::InvalidClient => "invalid_client",
            RefreshFailure::ExpiredToken => "expired_token",
            RefreshFailure::InvalidRefreshToken => "invalid_refresh_token",
            RefreshFailure::Unauthorized => "unauthorized",
            RefreshFailure::Rejected { .. } => "rejected",
            RefreshFailure::Transient => "transient",
        }
    }
}

impl fmt::Display for RefreshFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshFailure::Rejected {
                status,
                code: Some(code),
            } => write!(f, "rejected ({code}, HTTP {})", status.unwrap_or(0)),
            RefreshFailure::Rejected { status, code: None } => {
                write!(f, "rejected (HTTP {})", status.unwrap_or(0))
            }
            other => f.write_str(other.label()),
        }
    }
}

/// Why no usable credential could be given for an account.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    #[error("unknown account {0}")]
    UnknownAccount(String),
    /// The account lacks what its method needs (an API key, a refresh token, an IdC client
    /// registration): it must be imported or logged in again.
    #[error("account {account_id} has no {missing}")]
    MissingCredential {
        account_id: String,
        missing: &'static str,
    },
    #[error("account {account_id}: {source}")]
    Fingerprint {
        account_id: String,
        #[source]
        source: InvalidFingerprint,
    },
    #[error("account {account_id}: its credential cannot be sent in an HTTP header")]
    InvalidCredential { account_id: String },
    #[error("refresh of account {account_id} failed ({failure}): {source}")]
    Refresh {
        account_id: String,
        failure: RefreshFailure,
        #[source]
        source: Box<UpstreamError>,
    },
    /// The refresh worked but its result could not be saved durably, so it was not handed
    /// out; the save is retried on the next call.
    #[error("account {account_id}: refreshed credentials could not be saved: {detail}")]
    Persist { account_id: String, detail: String },
    /// A refresh kept the current token, which has expired since.
    #[error("account {account_id}: the access token has expired")]
    Expired { account_id: String },
}

impl TokenError {
    /// True when retrying the same account cannot help until an operator acts (import, login,
    /// configuration); false for failures that may pass (network, upstream 5xx, storage).
    pub fn is_permanent(&self) -> bool {
        match self {
            TokenError::UnknownAccount(_)
            | TokenError::MissingCredential { .. }
            | TokenError::Fingerprint { .. }
            | TokenError::InvalidCredential { .. } => true,
            TokenError::Refresh { failure, .. } => failure.is_permanent(),
            TokenError::Persist { .. } | TokenError::Expired { .. } => false,
        }
    }

    /// The refresh failure, when the upstream refused or failed a refresh.
    pub fn refresh_failure(&self) -> Option<&RefreshFailure> {
        match self {
            TokenError::Refresh { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// A short stable label, for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            TokenError::UnknownAccount(_) => "unknown_account",
            TokenError::MissingCredential { .. } => "missing_credential",
            TokenError::Fingerprint { .. } => "fingerprint",
            TokenError::InvalidCredential { .. } => "invalid_credential",
            TokenError::Refresh { failure, .. } => failure.label(),
            TokenError::Persist { .. } => "persist",
            TokenError::Expired { .. } => "expired",
        }
    }
}

/// Classifies a failed refresh call of an account of `method`.
pub fn classify(method: AuthMethod, e: &UpstreamError) -> RefreshFailure {
    let status = match e {
        UpstreamError::Http { status, .. } => *status,
        UpstreamError::Request(_) => {
            return RefreshFailure::Rejected {
                status: None,
                code: None,
            };
        }
        UpstreamError::Transport { .. }
        | UpstreamError::BadFrame(_)
        | UpstreamError::Decode { .. } => {
            return RefreshFailure::Transient;
        }
    };
    if status >= 500 || status == 408 || status == 429 {
        return RefreshFailure::Transient;
    }
    match method {
        AuthMethod::Social => match status {
            401 => RefreshFailure::Unauthorized,
            400 if social_dead_token(e) => RefreshFailure::InvalidRefreshToken,
            _ => RefreshFailure::Rejected {
                status: Some(status),
                code: e.error_body().and_then(|b| b.message().map(str::to_owned)),
            },
        },
        AuthMethod::Idc | AuthMethod::ApiKey => match e.oidc_code() {
            Some(OidcErrorCode::InvalidGrant) => RefreshFailure::InvalidGrant,
            Some(OidcErrorCode::InvalidClient) => RefreshFailure::InvalidClient,
            Some(OidcErrorCode::ExpiredToken) => RefreshFailure::ExpiredToken,
            Some(
                OidcErrorCode::ServerError
                | OidcErrorCode::SlowDown
                | OidcErrorCode::AuthorizationPending,
            ) => RefreshFailure::Transient,
            Some(code) => RefreshFailure::Rejected {
                status: Some(status),
                code: Some(code.as_str().to_owned()),
            },
            None if status == 401 => RefreshFailure::InvalidClient,
            None => RefreshFailure::Rejected {
                status: Some(status),
                code: None,
            },
        },
    }
}

/// Social 400 `{"message":"Invalid refresh token provided"}`; matched loosely on the message.
fn social_dead_token(e: &UpstreamError) -> bool {
    e.error_body()
        .and_then(|b| b.message().map(|m| m.to_ascii_lowercase()))
        .is_some_and(|m| m.contains("refresh token"))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::upstream::TransportKind;

    fn http(status: u16, body: &'static str) -> UpstreamError {
        UpstreamError::Http {
            status,
            error_type_header: None,
            retry_after: None,
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn oidc_refresh_failures() {
        let idc = AuthMethod::Idc;
        let c = |s, b| classify(idc, &http(s, b));
        assert_eq!(
            c(400, r#"{"error":"invalid_grant"}"#),
            RefreshFailure::InvalidGrant
        );
        assert_eq!(
            c(401, r#"{"error":"invalid_client"}"#),
            RefreshFailure::InvalidClient
        );
        assert_eq!(
            c(400, r#"{"error":"expired_token"}"#),
            RefreshFailure::ExpiredToken
        );
        assert_eq!(
            c(500, r#"{"error":"server_error"}"#),
            RefreshFailure::Transient
        );
        assert_eq!(c(503, ""), RefreshFailure::Transient);
        assert!(c(400, r#"{"error":"invalid_request"}"#).is_permanent());
    }

    #[test]
    fn social_refresh_failures() {
        let s = AuthMethod::Social;
        assert_eq!(
            classify(
                s,
                &http(400, r#"{"message":"Invalid refresh token provided"}"#)
            ),
            RefreshFailure::InvalidRefreshToken
        );
        assert_eq!(classify(s, &http(401, "")), RefreshFailure::Unauthorized);
        assert_eq!(classify(s, &http(502, "")), RefreshFailure::Transient);
        let net = UpstreamError::Transport {
            kind: TransportKind::Connect,
            detail: "refused".into(),
        };
        assert_eq!(classify(s, &net), RefreshFailure::Transient);
    }
}
