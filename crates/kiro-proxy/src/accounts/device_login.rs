//! Device-code login for AWS Builder ID and IAM Identity Center (spec §3.2–3.4): register an
//! OIDC client in the auth region, start a device authorization, poll the token endpoint at the
//! given interval (5 s when absent, 5 s more after each `slow_down`) until approval, denial or
//! expiry; then resolve the profile ARN (§3.8) and the user's identity (§3.6), both best effort,
//! and save the account (an earlier login of the same user is updated, see [`super::intake`]).
//!
//! Shared by `POST /api/auth/device` (which polls in a background task) and `kiro-proxy login`.

use std::sync::Arc;
use std::time::Duration;

use kiro_wire::types::{OidcErrorCode, Secret, TokenResponse, pick_profile};
use tokio::time::Instant;

use super::checks::{self, API_REGIONS};
use super::intake::{self, Intake, Saved};
use super::model::{Account, AuthMethod, Credentials};
use crate::crypto::random_hex;
use crate::store::{AccountMeta, Store, StoreError};
use crate::upstream::{
    AccountAuth, AccountHeaders, Fingerprint, FingerprintDefaults, InvalidFingerprint,
    UpstreamClient, UpstreamError,
};

/// Poll interval when the device authorization gives none (spec §3.3).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the interval (spec §3.4).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Device-code lifetime assumed when the authorization gives none.
const DEFAULT_EXPIRES_IN: u64 = 600;
/// Access-token lifetime assumed when the token answer gives none (spec §2.2).
const DEFAULT_TOKEN_LIFETIME: u64 = 3600;

/// Why a device login did not produce an account.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the device code expired before the login was approved; start a new login")]
    Expired,
    #[error("the login was denied in the browser")]
    Denied,
    #[error("OIDC client registration failed: {0}")]
    Register(String),
    #[error("device authorization failed: {0}")]
    Authorize(String),
    #[error("the token endpoint refused the login: {0}")]
    Token(String),
    #[error(transparent)]
    Fingerprint(#[from] InvalidFingerprint),
    #[error("could not save the account: {0}")]
    Store(#[from] StoreError),
}

impl LoginError {
    /// The session status the admin API reports: `expired`, `denied` or `error`.
    pub fn status(&self) -> &'static str {
        match self {
            LoginError::Expired => "expired",
            LoginError::Denied => "denied",
            _ => "error",
        }
    }
}

/// What happened at one poll that did not end the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollEvent {
    /// `authorization_pending`: not approved yet.
    Pending,
    /// `slow_down`: polling continues at the new interval.
    SlowDown { interval: Duration },
    /// A transient failure (5xx, network): polling continues.
    Retrying { reason: String },
}

/// A started device login: show [`verification_url`](Self::verification_url) and
/// [`user_code`](Self::user_code) to the operator, then [`wait`](Self::wait).
#[derive(Debug)]
pub struct DeviceLogin {
    client: UpstreamClient,
    headers: Arc<AccountHeaders>,
    machine_id: String,
    auth_region: String,
    start_url: String,
    client_id: String,
    client_secret: Secret,
    client_secret_expires_at: Option<i64>,
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    /// Unix seconds.
    expires_at: i64,
    deadline: Instant,
    interval: Duration,
}

/// An OIDC error code, when the failure carries one, in the message.
fn describe(e: &UpstreamError) -> String {
    match e.oidc_code() {
        Some(code) => format!("{e} ({})", code.as_str()),
        None => e.to_string(),
    }
}

fn is_transient(e: &UpstreamError) -> bool {
    match e {
        UpstreamError::Http { status, .. } => *status >= 500 || *status == 429,
        UpstreamError::Transport { .. } => true,
        _ => false,
    }
}

impl DeviceLogin {
    /// Registers a client and starts the device authorization for `start_url` in
    /// `auth_region`. The future account's machine id is chosen here.
    pub async fn start(
        client: &UpstreamClient,
        auth_region: &str,
        start_url: &str,
        fingerprint: &FingerprintDefaults,
    ) -> Result<Self, LoginError> {
        let machine_id = random_hex(32);
        let headers = Arc::new(AccountHeaders::new(Fingerprint::new(
            machine_id.clone(),
            fingerprint,
        ))?);
        let registration = client
            .register_client(auth_region, &headers)
            .await
            .map_err(|e| LoginError::Register(describe(&e)))?;
        let authorization = client
            .device_authorization(
                auth_region,
                &headers,
                &registration.client_id,
                &registration.client_secret,
                start_url,
            )
            .await
            .map_err(|e| LoginError::Authorize(describe(&e)))?;
        let expires_in = authorization
            .expires_in
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_EXPIRES_IN);
        let interval = authorization
            .interval
            .filter(|s| *s > 0)
            .map_or(DEFAULT_INTERVAL, Duration::from_secs);
        tracing::info!(auth_region, user_code = %authorization.user_code, "device login started");
        Ok(Self {
            client: client.clone(),
            headers,
            machine_id,
            auth_region: auth_region.to_owned(),
            start_url: start_url.to_owned(),
            client_id: registration.client_id,
            client_secret: registration.client_secret,
            client_secret_expires_at: registration.client_secret_expires_at,
            device_code: authorization.device_code,
            user_code: authorization.user_code,
            verification_uri: authorization.verification_uri,
            verification_uri_complete: authorization.verification_uri_complete,
            expires_at: crate::store::unix_now()
                .saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
            deadline: Instant::now() + Duration::from_secs(expires_in),
            interval,
        })
    }

    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    pub fn verification_uri(&self) -> &str {
        &self.verification_uri
    }

    /// The link with the code filled in, when the service gave one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// The link to show: the complete one when there is one.
    pub fn verification_url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }

    /// When the device code expires, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// When the device code expires, on the monotonic clock.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The current poll interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls the token endpoint every interval until the login ends. `on_event` sees every poll
    /// that did not (for progress output).
    pub async fn wait(
        &mut self,
        mut on_event: impl FnMut(&PollEvent),
    ) -> Result<TokenResponse, LoginError> {
        loop {
            let wake = Instant::now() + self.interval;
            if wake > self.deadline {
                tokio::time::sleep_until(self.deadline).await;
                return Err(LoginError::Expired);
            }
            tokio::time::sleep_until(wake).await;
            let result = self
                .client
                .poll_device_token(
                    &self.auth_region,
                    &self.headers,
                    &self.client_id,
                    &self.client_secret,
                    &self.device_code,
                )
                .await;
            let e = match result {
                Ok(tokens) => return Ok(tokens),
                Err(e) => e,
            };
            let event = match e.oidc_code() {
                Some(OidcErrorCode::AuthorizationPending) => PollEvent::Pending,
                Some(OidcErrorCode::SlowDown) => {
                    self.interval += SLOW_DOWN_STEP;
                    PollEvent::SlowDown {
                        interval: self.interval,
                    }
                }
                Some(OidcErrorCode::ExpiredToken) => return Err(LoginError::Expired),
                Some(OidcErrorCode::AccessDenied) => return Err(LoginError::Denied),
                Some(OidcErrorCode::ServerError) => PollEvent::Retrying {
                    reason: describe(&e),
                },
                _ if is_transient(&e) => PollEvent::Retrying {
                    reason: describe(&e),
                },
                _ => return Err(LoginError::Token(describe(&e))),
            };
            on_event(&event);
        }
    }

    /// Turns the tokens of an approved login into a saved account: profile ARN (queried in
    /// both API regions, §3.8) and identity (§3.6) are looked up best effort; `default_region`
    /// is the configured API region.
    pub async fn complete(
        &self,
        tokens: TokenResponse,
        store: &Store,
        default_region: &str,
    ) -> Result<Saved, LoginError> {
        let refresh_token = tokens
            .new_refresh_token()
            .cloned()
            .ok_or_else(|| LoginError::Token("the answer carried no refresh token".to_owned()))?;
        let lifetime = tokens
            .expires_in
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let account_id = uuid::Uuid::new_v4().to_string();
        let access = tokens.access_token;
        let (profile_arn, api_region) = self
            .resolve_profile(&account_id, &access, default_region)
            .await;
        let (email, user_id) = self
            .identity(&account_id, &access, &api_region, profile_arn.as_deref())
            .await;
        let account = Account {
            id: account_id,
            auth_method: AuthMethod::Idc,
            label: None,
            enabled: true,
            api_region,
            auth_region: self.auth_region.clone(),
            profile_arn,
            start_url: Some(self.start_url.clone()),
            machine_id: self.machine_id.clone(),
            proxy: None,
            credentials: Credentials {
                access_token: Some(access),
                expires_at: Some(
                    crate::store::unix_now()
                        .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
                ),
                refresh_token: Some(refresh_token),
                client_id: Some(self.client_id.clone()),
                client_secret: Some(self.client_secret.clone()),
                client_secret_expires_at: self.client_secret_expires_at,
                api_key: None,
            },
        };
        let saved = intake::save(
            store,
            Intake {
                account,
                meta: AccountMeta {
                    email,
                    user_id,
                    ..AccountMeta::default()
                },
                created_at: None,
                restore: false,
            },
        )
        .await?;
        tracing::info!(
            account_id = %saved.record().account.id,
            updated = matches!(saved, Saved::Updated(_)),
            "device login succeeded"
        );
        Ok(saved)
    }

    /// The profile ARN and the API region it names; without one, the configured API region.
    async fn resolve_profile(
        &self,
        account_id: &str,
        access: &Secret,
        default_region: &str,
    ) -> (Option<String>, String) {
        let first = checks::api_region(None, default_region);
        let regions = std::iter::once(first.clone()).chain(
            API_REGIONS
                .iter()
                .map(|r| (*r).to_owned())
                .filter(|r| *r != first),
        );
        for region in regions {
            let Some(auth) = self.auth(account_id, access, &region, None) else {
                break;
            };
            match self.client.list_profiles(&auth).await {
                Ok(list) => {
                    if let Some(profile) = pick_profile(&list.profiles, &region) {
                        let arn = profile.arn.clone();
                        let api_region = checks::api_region(Some(&arn), &region);
                        return (Some(arn), api_region);
                    }
                }
                Err(e) => {
                    tracing::debug!(region, error = %e, "ListAvailableProfiles failed (ignored)");
                }
            }
        }
        (None, first)
    }

    /// Email and user id from `getUsageLimits`, when it answers.
    async fn identity(
        &self,
        account_id: &str,
        access: &Secret,
        api_region: &str,
        profile_arn: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        let Some(auth) = self.auth(account_id, access, api_region, profile_arn) else {
            return (None, None);
        };
        match self.client.get_usage_limits(&auth, profile_arn).await {
            Ok(usage) => (
                usage.email().map(str::to_owned),
                usage.user_id().map(str::to_owned),
            ),
            Err(e) => {
                tracing::debug!(error = %e, "getUsageLimits failed (ignored)");
                (None, None)
            }
        }
    }

    fn auth(
        &self,
        account_id: &str,
        access: &Secret,
        api_region: &str,
        profile_arn: Option<&str>,
    ) -> Option<AccountAuth> {
        AccountAuth::new(
            account_id,
            AuthMethod::Idc,
            access.clone(),
            api_region,
            profile_arn,
            Arc::clone(&self.headers),
        )
        .ok()
    }
}
