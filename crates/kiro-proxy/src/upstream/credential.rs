//! [`AccountAuth`]: everything an upstream call needs to act as one account.

use std::sync::Arc;

use http::HeaderValue;
use kiro_wire::types::Secret;

use super::headers::AccountHeaders;
use crate::accounts::AuthMethod;

/// A ready-to-use upstream identity: the bearer (access token or API key), the API region, the
/// account's own profile ARN and its pre-built headers. Cheap to clone.
#[derive(Clone)]
pub struct AccountAuth {
    account_id: Arc<str>,
    method: AuthMethod,
    secret: Secret,
    bearer: HeaderValue,
    api_region: Arc<str>,
    profile_arn: Option<Arc<str>>,
    headers: Arc<AccountHeaders>,
    /// The account's outbound proxy URL (may carry a password: never in `Debug`).
    proxy: Option<Arc<str>>,
}

impl std::fmt::Debug for AccountAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountAuth")
            .field("account_id", &self.account_id)
            .field("method", &self.method)
            .field("api_region", &self.api_region)
            .field("profile_arn", &self.profile_arn)
            .field("proxied", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

/// The token or key cannot be put in an `authorization` header.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the credential contains characters not allowed in an HTTP header")]
pub struct InvalidCredential;

impl AccountAuth {
    /// `secret` is the access token (social, IdC) or the API key. The profile ARN is dropped for
    /// API keys: it must never be sent with one (spec §2.1).
    pub fn new(
        account_id: impl Into<Arc<str>>,
        method: AuthMethod,
        secret: Secret,
        api_region: impl Into<Arc<str>>,
        profile_arn: Option<&str>,
        headers: Arc<AccountHeaders>,
    ) -> Result<Self, InvalidCredential> {
        let bearer = super::headers::bearer(secret.expose()).map_err(|_| InvalidCredential)?;
        let profile_arn = match method {
            AuthMethod::ApiKey => None,
            AuthMethod::Social | AuthMethod::Idc => {
                profile_arn.filter(|a| !a.trim().is_empty()).map(Arc::from)
            }
        };
        Ok(Self {
            account_id: account_id.into(),
            method,
            secret,
            bearer,
            api_region: api_region.into(),
            profile_arn,
            headers,
            proxy: None,
        })
    }

    /// Routes this account's calls through `proxy` (an outbound proxy URL), or directly.
    pub fn with_proxy(mut self, proxy: Option<&str>) -> Self {
        self.proxy = proxy.filter(|p| !p.trim().is_empty()).map(Arc::from);
        self
    }

    /// The account's outbound proxy URL, when it has one.
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn method(&self) -> AuthMethod {
        self.method
    }

    pub fn is_api_key(&self) -> bool {
        self.method == AuthMethod::ApiKey
    }

    /// The access token or API key.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    pub fn api_region(&self) -> &str {
        &self.api_region
    }

    /// The account's own profile ARN (never set for API keys).
    pub fn profile_arn(&self) -> Option<&str> {
        self.profile_arn.as_deref()
    }

    pub fn headers(&self) -> &AccountHeaders {
        &self.headers
    }

    pub(crate) fn bearer(&self) -> &HeaderValue {
        &self.bearer
    }
}
