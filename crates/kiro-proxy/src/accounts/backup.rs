//! Our own account file: the complete backup `GET /api/accounts/export` writes and every
//! import path restores exactly (ids, machine ids, weights, proxies, secrets). Reading it back
//! is [`super::import_formats`]' job.

use kiro_wire::types::Secret;
use serde::Serialize;

use super::model::AuthMethod;
use crate::store::AccountRecord;

/// `format` of our export.
pub const BACKUP_FORMAT: &str = "kiro-proxy-accounts";
/// The export version this build writes and reads.
pub const BACKUP_VERSION: u64 = 1;
/// `warning` of our export.
pub const BACKUP_WARNING: &str = "contains secrets (access and refresh tokens, client secrets, \
                                  API keys, proxy passwords): whoever holds this file can use \
                                  these accounts; keep it private";

/// Our export: every field of every account, secrets included.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupFile {
    pub format: &'static str,
    pub version: u64,
    pub warning: &'static str,
    /// Unix seconds.
    pub exported_at: i64,
    pub accounts: Vec<BackupAccount>,
}

/// One account of [`BackupFile`]. Timestamps are Unix seconds; absent values are `null`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupAccount {
    pub id: String,
    pub auth_method: AuthMethod,
    pub label: Option<String>,
    pub enabled: bool,
    pub weight: u32,
    pub proxy: Option<String>,
    pub api_region: String,
    pub auth_region: String,
    pub profile_arn: Option<String>,
    pub start_url: Option<String>,
    pub machine_id: String,
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub created_at: i64,
    pub access_token: Option<Secret>,
    pub expires_at: Option<i64>,
    pub refresh_token: Option<Secret>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_secret_expires_at: Option<i64>,
    pub api_key: Option<Secret>,
}

impl From<&AccountRecord> for BackupAccount {
    fn from(r: &AccountRecord) -> Self {
        let a = &r.account;
        let c = &a.credentials;
        Self {
            id: a.id.clone(),
            auth_method: a.auth_method,
            label: a.label.clone(),
            enabled: a.enabled,
            weight: r.weight,
            proxy: a.proxy.clone(),
            api_region: a.api_region.clone(),
            auth_region: a.auth_region.clone(),
            profile_arn: a.profile_arn.clone(),
            start_url: a.start_url.clone(),
            machine_id: a.machine_id.clone(),
            email: r.email.clone(),
            user_id: r.user_id.clone(),
            created_at: r.created_at,
            access_token: c.access_token.clone(),
            expires_at: c.expires_at,
            refresh_token: c.refresh_token.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            client_secret_expires_at: c.client_secret_expires_at,
            api_key: c.api_key.clone(),
        }
    }
}

impl BackupFile {
    pub fn new(records: &[AccountRecord], exported_at: i64) -> Self {
        Self {
            format: BACKUP_FORMAT,
            version: BACKUP_VERSION,
            warning: BACKUP_WARNING,
            exported_at,
            accounts: records.iter().map(BackupAccount::from).collect(),
        }
    }
}
