//! An account of the pool, as the service holds it in memory.

use kiro_wire::types::Secret;

/// How an account authenticates upstream (spec §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthMethod {
    /// Kiro IDE Google/GitHub login: refreshed at `{social_auth}/refreshToken`.
    Social,
    /// AWS Builder ID or IAM Identity Center: refreshed at `{oidc}/token`.
    Idc,
    /// A Kiro API key (`ksk_…`): never refreshed, sent with `tokentype: API_KEY`.
    ApiKey,
}

/// The secret material of an account. `Debug` never shows a secret.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub access_token: Option<Secret>,
    /// Unix seconds; `None` counts as expired.
    pub expires_at: Option<i64>,
    pub refresh_token: Option<Secret>,
    /// IdC client registration.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_secret_expires_at: Option<i64>,
    /// Kiro API key.
    pub api_key: Option<Secret>,
}

/// One pooled account (everything but runtime health and quota state).
#[derive(Debug, Clone)]
pub struct Account {
    /// Stable id (UUID text).
    pub id: String,
    pub auth_method: AuthMethod,
    pub label: Option<String>,
    pub enabled: bool,
    /// Region of the chat/usage API (`us-east-1` or `eu-central-1`).
    pub api_region: String,
    /// Region of the token endpoints (social: `us-east-1`; IdC: the Identity Center region).
    pub auth_region: String,
    /// The account's own profile ARN, when it has one (never borrowed, never sent with API keys).
    pub profile_arn: Option<String>,
    /// IdC start URL (Builder ID or an enterprise `https://d-….awsapps.com/start`).
    pub start_url: Option<String>,
    /// 64 lower-case hex characters, generated once per account and persisted (spec §2.4).
    pub machine_id: String,
    /// Outbound proxy of every upstream call of this account (`http://`, `https://`,
    /// `socks5://` or `socks5h://`, optionally with `user:password@`); `None` connects directly.
    /// It may carry a password: stored sealed, shown masked.
    pub proxy: Option<String>,
    pub credentials: Credentials,
}
