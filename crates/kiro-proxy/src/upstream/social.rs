//! Social refresh, `POST {social_auth}/refreshToken` (spec §3.1), and the refresh result shared
//! with the OIDC refresh grant.

use kiro_wire::types::{Secret, SocialRefreshRequest, SocialRefreshResponse, TokenResponse};

use super::client::{UpstreamClient, json_body};
use super::error::UpstreamError;
use super::headers::AccountHeaders;

/// A successful refresh, social or IdC.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshedTokens {
    pub access_token: Secret,
    /// Seconds; `None` when the answer gave none.
    pub expires_in: Option<u64>,
    /// The rotated refresh token, only when the answer carried a non-empty one (spec §2.2).
    pub refresh_token: Option<Secret>,
    /// Social only: the profile ARN the refresh returned.
    pub profile_arn: Option<String>,
}

impl From<SocialRefreshResponse> for RefreshedTokens {
    fn from(r: SocialRefreshResponse) -> Self {
        let refresh_token = r.new_refresh_token().cloned();
        Self {
            access_token: r.access_token,
            expires_in: r.expires_in,
            refresh_token,
            profile_arn: r.profile_arn.filter(|a| !a.trim().is_empty()),
        }
    }
}

impl From<TokenResponse> for RefreshedTokens {
    fn from(r: TokenResponse) -> Self {
        let refresh_token = r.new_refresh_token().cloned();
        Self {
            access_token: r.access_token,
            expires_in: r.expires_in,
            refresh_token,
            profile_arn: None,
        }
    }
}

impl UpstreamClient {
    /// Refreshes a social (Google/GitHub) login. `headers` supplies the account's user agent
    /// (`KiroIDE-{kiroVersion}-{machineId}`); no authorization header is sent.
    pub async fn refresh_social(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
        refresh_token: &Secret,
    ) -> Result<RefreshedTokens, UpstreamError> {
        let body = SocialRefreshRequest {
            refresh_token: refresh_token.clone(),
        };
        let request = self
            .http_plain()
            .post(self.urls.social_refresh(auth_region))
            .headers(headers.social_refresh())
            .body(json_body(&body)?);
        let resp: SocialRefreshResponse = self.call_json(request, "social refresh").await?;
        Ok(resp.into())
    }
}
