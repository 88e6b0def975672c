//! Auth bodies: social refresh (§3.1), OIDC registration, device authorization and token
//! (§3.2–3.4), and the OIDC error body. The IDE's token-cache files are in
//! [`super::token_cache`].
//!
//! Response fields the caller cannot do without (`accessToken`, `clientId`, `deviceCode`, ...)
//! are required: a 200 without them is a protocol error, and failing the parse says so. All
//! other fields are optional; numbers go through the lenient [`crate::num`] helpers. Tokens and
//! client secrets are [`Secret`]s.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error_body::strip_exception_decoration;
use super::lenient;
use super::secret::Secret;
use crate::num;

/// OIDC `grantType` of the device-code poll.
pub const GRANT_TYPE_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// OIDC `grantType` of a refresh.
pub const GRANT_TYPE_REFRESH_TOKEN: &str = "refresh_token";
/// Scopes the Kiro IDE registers with.
pub const KIRO_SCOPES: &[&str] = &[
    "codewhisperer:completions",
    "codewhisperer:analysis",
    "codewhisperer:conversations",
];
/// Poll interval when the device authorization gives none (§3.3).
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 5;

/// `POST {social_auth}/refreshToken` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialRefreshRequest {
    pub refresh_token: Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialRefreshResponse {
    pub access_token: Secret,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
}

impl SocialRefreshResponse {
    /// The rotated refresh token, only when non-empty (§2.2: persist only those).
    pub fn new_refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref().filter(|t| !t.is_empty())
    }
}

/// `POST {oidc}/client/register` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcRegisterRequest {
    pub client_name: String,
    pub client_type: String,
    pub scopes: Vec<String>,
}

impl OidcRegisterRequest {
    /// The registration the Kiro IDE sends: public client, [`KIRO_SCOPES`].
    pub fn kiro_ide() -> Self {
        Self {
            client_name: "Kiro IDE".to_owned(),
            client_type: "public".to_owned(),
            scopes: KIRO_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcRegisterResponse {
    pub client_id: String,
    pub client_secret: Secret,
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id_issued_at: Option<i64>,
    /// About 90 days after registration (§2.2).
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
}

/// `POST {oidc}/device_authorization` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAuthorizationRequest {
    pub client_id: String,
    pub client_secret: Secret,
    pub start_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAuthorizationResponse {
    /// Redacted in `Debug`: whoever holds it can finish the login.
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    /// The link to show the operator when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<u64>,
}

impl DeviceAuthorizationResponse {
    /// Seconds between token polls: `interval`, or 5 when absent or zero.
    pub fn poll_interval_secs(&self) -> u64 {
        self.interval
            .filter(|i| *i > 0)
            .unwrap_or(DEFAULT_POLL_INTERVAL_SECS)
    }

    /// The URL to show: `verificationUriComplete`, else `verificationUri`.
    pub fn verification_url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }
}

/// `POST {oidc}/token` body; build it with [`TokenRequest::device_code`] or
/// [`TokenRequest::refresh`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub client_id: String,
    pub client_secret: Secret,
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
}

impl TokenRequest {
    /// The device-code poll after a device authorization.
    pub fn device_code(
        client_id: impl Into<String>,
        client_secret: Secret,
        device_code: Secret,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            grant_type: GRANT_TYPE_DEVICE_CODE.to_owned(),
            device_code: Some(device_code),
            refresh_token: None,
        }
    }

    /// An IdC refresh.
    pub fn refresh(
        client_id: impl Into<String>,
        client_secret: Secret,
        refresh_token: Secret,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            grant_type: GRANT_TYPE_REFRESH_TOKEN.to_owned(),
            device_code: None,
            refresh_token: Some(refresh_token),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    /// On refresh it may be absent or unchanged; see [`TokenResponse::new_refresh_token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    #[serde(
        default,
        rename = "aws_sso_app_session_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub aws_sso_app_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_session_id: Option<String>,
}

impl TokenResponse {
    /// The returned refresh token, only when non-empty (§2.2: persist only those).
    pub fn new_refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref().filter(|t| !t.is_empty())
    }
}

/// The OIDC error body (§3.2): `{"error", "error_description"}`, sometimes with `__type`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OidcError {
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_description: Option<String>,
    #[serde(
        default,
        rename = "__type",
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub type_: Option<String>,
}

impl OidcError {
    /// The error code from the body: `error`, then `__type`.
    pub fn code(&self) -> Option<OidcErrorCode> {
        self.error
            .as_deref()
            .and_then(OidcErrorCode::parse)
            .or_else(|| self.type_.as_deref().and_then(OidcErrorCode::parse))
    }
}

/// The error code of an OIDC error response: the body's `error`, then its `__type`, then the
/// `x-amzn-ErrorType` header (§3.2). `body` is `None` when the body was not JSON.
pub fn oidc_error_code(
    body: Option<&OidcError>,
    error_type_header: Option<&str>,
) -> Option<OidcErrorCode> {
    body.and_then(OidcError::code)
        .or_else(|| error_type_header.and_then(OidcErrorCode::parse))
}

/// OIDC error codes (§3.4), named by their snake_case form ([`OidcErrorCode::as_str`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OidcErrorCode {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    /// Also `ExpiredClientException` ("Client is expired").
    InvalidClient,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidRequest,
    InvalidScope,
    InvalidClientMetadata,
    /// Also `InternalServerException`.
    ServerError,
    /// Any other code, in snake_case.
    Other(String),
}

impl OidcErrorCode {
    /// Reads a snake_case code (`slow_down`) or an exception name (`SlowDownException`,
    /// `com.amazonaws…#SlowDownException`, `SlowDownException:http://…`). `None` for a blank
    /// value.
    pub fn parse(raw: &str) -> Option<OidcErrorCode> {
        let name = strip_exception_decoration(raw);
        if name.is_empty() {
            return None;
        }
        let name = name.strip_suffix("Exception").unwrap_or(name);
        let snake = camel_to_snake(name);
        Some(match snake.as_str() {
            "authorization_pending" => OidcErrorCode::AuthorizationPending,
            "slow_down" => OidcErrorCode::SlowDown,
            "expired_token" => OidcErrorCode::ExpiredToken,
            "access_denied" => OidcErrorCode::AccessDenied,
            "invalid_grant" => OidcErrorCode::InvalidGrant,
            "invalid_client" | "expired_client" => OidcErrorCode::InvalidClient,
            "unauthorized_client" => OidcErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => OidcErrorCode::UnsupportedGrantType,
            "invalid_request" => OidcErrorCode::InvalidRequest,
            "invalid_scope" => OidcErrorCode::InvalidScope,
            "invalid_client_metadata" => OidcErrorCode::InvalidClientMetadata,
            "server_error" | "internal_server" => OidcErrorCode::ServerError,
            _ => OidcErrorCode::Other(snake),
        })
    }

    /// The snake_case code.
    pub fn as_str(&self) -> &str {
        match self {
            OidcErrorCode::AuthorizationPending => "authorization_pending",
            OidcErrorCode::SlowDown => "slow_down",
            OidcErrorCode::ExpiredToken => "expired_token",
            OidcErrorCode::AccessDenied => "access_denied",
            OidcErrorCode::InvalidGrant => "invalid_grant",
            OidcErrorCode::InvalidClient => "invalid_client",
            OidcErrorCode::UnauthorizedClient => "unauthorized_client",
            OidcErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OidcErrorCode::InvalidRequest => "invalid_request",
            OidcErrorCode::InvalidScope => "invalid_scope",
            OidcErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            OidcErrorCode::ServerError => "server_error",
            OidcErrorCode::Other(s) => s,
        }
    }
}

impl fmt::Display for OidcErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `AuthorizationPending` → `authorization_pending`; already-snake input is only lowercased.
fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_to_snake_handles_both_forms() {
        assert_eq!(
            camel_to_snake("AuthorizationPending"),
            "authorization_pending"
        );
        assert_eq!(camel_to_snake("slow_down"), "slow_down");
        assert_eq!(camel_to_snake("Invalid_Grant"), "invalid_grant");
    }
}
