//! The on-disk form of [`Credentials`]: a JSON document sealed with the master key.
//!
//! A separate serde type keeps the stored format stable when the in-memory struct changes, and
//! keeps `Serialize` off the in-memory type (which could otherwise leak through a log or a
//! response by accident).

use kiro_wire::types::Secret;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::accounts::Credentials;
use crate::crypto::Crypto;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
}

pub(super) fn seal(crypto: &Crypto, c: &Credentials) -> Result<String, StoreError> {
    let expose = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned());
    let stored = StoredCredentials {
        access_token: expose(&c.access_token),
        expires_at: c.expires_at,
        refresh_token: expose(&c.refresh_token),
        client_id: c.client_id.clone(),
        client_secret: expose(&c.client_secret),
        client_secret_expires_at: c.client_secret_expires_at,
        api_key: expose(&c.api_key),
    };
    let json = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt {
        what: "credentials".to_owned(),
        message: e.to_string(),
    })?;
    Ok(crypto.seal(&json)?)
}

pub(super) fn open(
    crypto: &Crypto,
    account_id: &str,
    sealed: &str,
) -> Result<Credentials, StoreError> {
    let json = crypto.open(sealed)?;
    let s: StoredCredentials = serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt {
        what: format!("credentials of account {account_id}"),
        // Position only: serde_json's full message can quote a value, i.e. a secret.
        message: format!("invalid JSON at line {} column {}", e.line(), e.column()),
    })?;
    Ok(Credentials {
        access_token: s.access_token.map(Secret::from),
        expires_at: s.expires_at,
        refresh_token: s.refresh_token.map(Secret::from),
        client_id: s.client_id,
        client_secret: s.client_secret.map(Secret::from),
        client_secret_expires_at: s.client_secret_expires_at,
        api_key: s.api_key.map(Secret::from),
    })
}
