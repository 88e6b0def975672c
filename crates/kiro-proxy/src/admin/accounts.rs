//! `POST`/`GET /api/accounts`, `DELETE /api/accounts/{id}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::body::JsonBody;
use super::error::ApiError;
use super::new_account::new_account;
use super::{AdminState, ChangeKind};
use crate::accounts::AuthMethod;
use crate::store::AccountRecord;

/// What the admin API shows of an account: never a secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub auth_method: AuthMethod,
    pub label: Option<String>,
    pub enabled: bool,
    pub api_region: String,
    pub auth_region: String,
    pub profile_arn: Option<String>,
    pub start_url: Option<String>,
    pub has_refresh_token: bool,
    pub has_access_token: bool,
    /// Unix seconds.
    pub access_token_expires_at: Option<i64>,
    pub weight: u32,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
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
            enabled: a.enabled,
            api_region: a.api_region.clone(),
            auth_region: a.auth_region.clone(),
            profile_arn: a.profile_arn.clone(),
            start_url: a.start_url.clone(),
            has_refresh_token: present(&a.credentials.refresh_token),
            has_access_token: present(&a.credentials.access_token),
            access_token_expires_at: a.credentials.expires_at,
            weight: r.weight,
            status: r.status.clone(),
            status_reason: r.status_reason.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) async fn create(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let body = JsonBody::parse(&body)?;
    let account = new_account(&body, &state.inner.default_region)?;
    let record = state.inner.store.insert_account(&account).await?;
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
    let views: Vec<AccountView> = records.iter().map(AccountView::from).collect();
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
