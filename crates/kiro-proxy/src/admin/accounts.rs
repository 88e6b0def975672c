//! `POST`/`GET /api/accounts`, `DELETE /api/accounts/{id}`, and the account view every account
//! route answers with.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::body::JsonBody;
use super::error::ApiError;
use super::new_account::{new_account, weight};
use super::{AdminState, ChangeKind};
use crate::accounts::AuthMethod;
use crate::accounts::checks::mask_proxy_url;
use crate::store::{AccountMeta, AccountRecord};

/// What the admin API shows of an account: never a secret (the proxy URL's password masked).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub auth_method: AuthMethod,
    pub label: Option<String>,
    /// The identity the upstream reported (device login, import), when known.
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub enabled: bool,
    pub api_region: String,
    pub auth_region: String,
    pub profile_arn: Option<String>,
    pub start_url: Option<String>,
    pub has_refresh_token: bool,
    pub has_access_token: bool,
    /// Unix seconds.
    pub access_token_expires_at: Option<i64>,
    /// IdC client registration expiry, Unix seconds (spec §2.2: about 90 days).
    pub client_secret_expires_at: Option<i64>,
    pub weight: u32,
    /// Outbound proxy, password shown as `****`.
    pub proxy: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Live state from the pool: availability, circuit, cooldown, quota, load and statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<serde_json::Value>,
}

impl AccountView {
    /// The stored account plus the pool's live state of it.
    pub(super) fn with_pool(r: &AccountRecord, state: &AdminState) -> Self {
        let mut view = Self::from(r);
        view.pool = state.pool_view(&r.account.id);
        view
    }
}

impl From<&AccountRecord> for AccountView {
    fn from(r: &AccountRecord) -> Self {
        let a = &r.account;
        let present =
            |s: &Option<kiro_wire::types::Secret>| s.as_ref().is_some_and(|s| !s.is_empty());
        Self {
            id: a.id.clone(),
            auth_method: a.auth_method,
            label: a.label.clone(),
            email: r.email.clone(),
            user_id: r.user_id.clone(),
            enabled: a.enabled,
            api_region: a.api_region.clone(),
            auth_region: a.auth_region.clone(),
            profile_arn: a.profile_arn.clone(),
            start_url: a.start_url.clone(),
            has_refresh_token: present(&a.credentials.refresh_token),
            has_access_token: present(&a.credentials.access_token),
            access_token_expires_at: a.credentials.expires_at,
            client_secret_expires_at: a.credentials.client_secret_expires_at,
            weight: r.weight,
            proxy: a.proxy.as_deref().map(mask_proxy_url),
            status: r.status.clone(),
            status_reason: r.status_reason.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            pool: None,
        }
    }
}

pub(super) async fn create(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let body = JsonBody::parse(&body)?;
    let account = new_account(&body, &state.inner.default_region)?;
    let meta = AccountMeta {
        weight: weight(&body)?.unwrap_or(1),
        ..AccountMeta::default()
    };
    let record = state
        .inner
        .store
        .insert_account_with(&account, &meta, None)
        .await?;
    tracing::info!(
        account_id = %record.account.id,
        auth_method = ?record.account.auth_method,
        "account added"
    );
    state.inner.changes.notify(ChangeKind::Accounts);
    Ok((StatusCode::CREATED, Json(AccountView::from(&record))))
}

pub(super) async fn list(
    State(state): State<AdminState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let records = state.inner.store.list_accounts().await?;
    let views: Vec<AccountView> = records
        .iter()
        .map(|r| AccountView::with_pool(r, &state))
        .collect();
    Ok(Json(serde_json::json!({ "accounts": views })))
}

pub(super) async fn delete(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.inner.store.delete_account(&id).await? {
        tracing::info!(account_id = %id, "account deleted");
        state.inner.changes.notify(ChangeKind::Accounts);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no account with id {id}")))
    }
}
