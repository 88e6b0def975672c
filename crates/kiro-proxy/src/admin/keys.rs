//! `POST`/`GET /api/keys`, `DELETE /api/keys/{id}`: client API keys.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::body::JsonBody;
use super::error::ApiError;
use super::{AdminState, ChangeKind};
use crate::crypto::{hash_secret, random_base62};
use crate::store::{ApiKeyRecord, NewApiKey};

/// Prefix of client keys.
pub const CLIENT_KEY_PREFIX: &str = "kp_";
/// Random characters after the prefix (≈ 238 bits).
const CLIENT_KEY_RANDOM_LEN: usize = 40;
/// Characters of the key kept in clear to recognise it (`kp_` + 5).
const SHOWN_PREFIX_LEN: usize = 8;
const MAX_NAME_LEN: usize = 100;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    id: String,
    name: String,
    prefix: String,
    enabled: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            enabled: r.enabled,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// A new random client key: `kp_` + 40 base62 characters.
pub fn generate_client_key() -> String {
    format!(
        "{CLIENT_KEY_PREFIX}{}",
        random_base62(CLIENT_KEY_RANDOM_LEN)
    )
}

pub(super) async fn create(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body = JsonBody::parse(&body)?;
    let name = body.req_str("name", "(a label for the key)")?;
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::bad_request(format!(
            "`name` must be at most {MAX_NAME_LEN} characters"
        )));
    }
    let key = generate_client_key();
    let record = state
        .inner
        .store
        .insert_key(&NewApiKey {
            name,
            prefix: key.chars().take(SHOWN_PREFIX_LEN).collect(),
            key_hash: hash_secret(&key),
        })
        .await?;
    state.inner.client_auth.reload().await?;
    state.inner.changes.notify(ChangeKind::ApiKeys);
    tracing::info!(key_id = %record.id, "client API key created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "name": record.name,
            "key": key,
            "prefix": record.prefix,
            "createdAt": record.created_at,
        })),
    ))
}

pub(super) async fn list(
    State(state): State<AdminState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let keys: Vec<KeyView> = state
        .inner
        .store
        .list_keys()
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

pub(super) async fn delete(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.inner.store.delete_key(&id).await? {
        return Err(ApiError::not_found(format!("no API key with id {id}")));
    }
    state.inner.client_auth.reload().await?;
    state.inner.changes.notify(ChangeKind::ApiKeys);
    tracing::info!(key_id = %id, "client API key deleted");
    Ok(StatusCode::NO_CONTENT)
}
