//! AWS SSO-OIDC calls (spec §3.2–3.4): client registration, device authorization, the
//! device-code poll and the IdC refresh grant. Errors come back as [`UpstreamError::Http`];
//! [`UpstreamError::oidc_code`] reads their `error` code.

use kiro_wire::types::{
    DeviceAuthorizationRequest, DeviceAuthorizationResponse, OidcRegisterRequest,
    OidcRegisterResponse, Secret, TokenRequest, TokenResponse,
};

use super::client::{UpstreamClient, json_body};
use super::error::UpstreamError;
use super::headers::AccountHeaders;
use super::social::RefreshedTokens;

impl UpstreamClient {
    /// `POST {oidc}/client/register` with the Kiro IDE's registration.
    pub async fn register_client(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
    ) -> Result<OidcRegisterResponse, UpstreamError> {
        let body = OidcRegisterRequest::kiro_ide();
        let request = self
            .http_plain()
            .post(self.urls.oidc_register(auth_region))
            .headers(headers.oidc())
            .body(json_body(&body)?);
        self.call_json(request, "oidc client registration").await
    }

    /// `POST {oidc}/device_authorization`: starts a device login.
    pub async fn device_authorization(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
        client_id: &str,
        client_secret: &Secret,
        start_url: &str,
    ) -> Result<DeviceAuthorizationResponse, UpstreamError> {
        let body = DeviceAuthorizationRequest {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            start_url: start_url.to_owned(),
        };
        let request = self
            .http_plain()
            .post(self.urls.oidc_device_authorization(auth_region))
            .headers(headers.oidc())
            .body(json_body(&body)?);
        self.call_json(request, "oidc device authorization").await
    }

    /// One device-code poll of `POST {oidc}/token`. `authorization_pending` and `slow_down` come
    /// back as errors ([`UpstreamError::oidc_code`]); pacing the polls is the caller's job.
    pub async fn poll_device_token(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
        client_id: &str,
        client_secret: &Secret,
        device_code: &Secret,
    ) -> Result<TokenResponse, UpstreamError> {
        let body = TokenRequest::device_code(client_id, client_secret.clone(), device_code.clone());
        self.token(auth_region, headers, &body, "oidc device token")
            .await
    }

    /// The IdC refresh grant of `POST {oidc}/token`.
    pub async fn refresh_idc(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &Secret,
    ) -> Result<RefreshedTokens, UpstreamError> {
        let body = TokenRequest::refresh(client_id, client_secret.clone(), refresh_token.clone());
        let resp = self
            .token(auth_region, headers, &body, "oidc refresh")
            .await?;
        Ok(resp.into())
    }

    async fn token(
        &self,
        auth_region: &str,
        headers: &AccountHeaders,
        body: &TokenRequest,
        what: &'static str,
    ) -> Result<TokenResponse, UpstreamError> {
        let request = self
            .http_plain()
            .post(self.urls.oidc_token(auth_region))
            .headers(headers.oidc())
            .body(json_body(body)?);
        self.call_json(request, what).await
    }
}
