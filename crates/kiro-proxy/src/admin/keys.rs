//! `POST`/`GET /api/keys`, `PATCH`/`DELETE /api/keys/{id}`: client API keys and their limits.
//!
//! Limits (all optional, `null` for none): `expiresAt` (Unix seconds or RFC 3339; a past time
//! expires the key at once), `models` (client model names or upstream ids; empty: all),
//! `rpm`, `tpm` and `monthlyTokens` (positive integers). `enabled: false` refuses the key
//! with a 401 that says so. Every change applies to the next request (the key cache reloads).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use super::time::parse_timestamp;
use super::{AdminState, ChangeKind};
use crate::crypto::{hash_secret, random_base62};
use crate::limits::KeyUsage;
use crate::store::{ApiKeyRecord, KeyPatch, KeySettings, NewApiKey, unix_now};

/// Prefix of client keys.
pub const CLIENT_KEY_PREFIX: &str = "kp_";
/// Random characters after the prefix (≈ 238 bits).
const CLIENT_KEY_RANDOM_LEN: usize = 40;
/// Characters of the key kept in clear to recognise it (`kp_` + 5).
const SHOWN_PREFIX_LEN: usize = 8;
const MAX_NAME_LEN: usize = 100;
const MAX_MODELS: usize = 100;
const MAX_MODEL_LEN: usize = 200;

/// The fields a create or a change may carry.
const FIELDS: [&str; 7] = [
    "name",
    "enabled",
    "expiresAt",
    "models",
    "rpm",
    "tpm",
    "monthlyTokens",
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct KeyView {
    id: String,
    name: String,
    prefix: String,
    enabled: bool,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    /// Past its expiry (refused with 401).
    expired: bool,
    models: Vec<String>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    monthly_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<KeyUsage>,
}

impl KeyView {
    fn new(r: ApiKeyRecord, state: &AdminState) -> Self {
        let usage = state.limits().map(|l| l.key_usage(&r.id));
        let s = r.settings;
        Self {
            expired: s.expires_at.is_some_and(|at| at <= unix_now()),
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            enabled: r.enabled,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: s.expires_at,
            models: s.models,
            rpm: s.rpm,
            tpm: s.tpm,
            monthly_tokens: s.monthly_tokens,
            usage,
        }
    }
}

/// The answer to a create: the view and, this once, the key.
#[derive(Debug, Serialize)]
pub(super) struct Created {
    #[serde(flatten)]
    view: KeyView,
    key: String,
}

/// A new random client key: `kp_` + 40 base62 characters.
pub fn generate_client_key() -> String {
    format!(
        "{CLIENT_KEY_PREFIX}{}",
        random_base62(CLIENT_KEY_RANDOM_LEN)
    )
}

/// Refuses fields this API does not know (a misspelt limit would otherwise be no limit).
fn known_fields(body: &JsonBody) -> Result<(), ApiError> {
    match body.keys().find(|k| !FIELDS.contains(k)) {
        Some(unknown) => Err(ApiError::bad_request(format!(
            "`{unknown}` is not a key field (fields: {})",
            FIELDS.join(", ")
        ))),
        None => Ok(()),
    }
}

fn name(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let name = body.opt_str("name")?;
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_LEN)
    {
        return Err(ApiError::bad_request(format!(
            "`name` must be at most {MAX_NAME_LEN} characters"
        )));
    }
    Ok(name)
}

/// A limit: absent → `None`, `null` → `Some(None)`, a positive integer → `Some(Some(n))`.
pub(super) fn limit(body: &JsonBody, field: &str) -> Result<Option<Option<u64>>, ApiError> {
    if !body.has(field) {
        return Ok(None);
    }
    match body.value(field) {
        None => Ok(Some(None)),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Err(ApiError::bad_request(format!(
                "`{field}` must be at least 1, or null for no limit"
            ))),
            Some(n) if i64::try_from(n).is_ok() => Ok(Some(Some(n))),
            _ => Err(ApiError::bad_request(format!(
                "`{field}` must be a positive integer, or null for no limit"
            ))),
        },
        Some(other) => Err(wrong_type(field, "a positive integer or null", other)),
    }
}

fn expires_at(body: &JsonBody) -> Result<Option<Option<i64>>, ApiError> {
    if !body.has("expiresAt") {
        return Ok(None);
    }
    match body.value("expiresAt") {
        None => Ok(Some(None)),
        Some(v) => parse_timestamp(v)
            .map(|at| Some(Some(at)))
            .map_err(|expected| {
                ApiError::bad_request(format!("`expiresAt` must be {expected}, or null"))
            }),
    }
}

fn models(body: &JsonBody) -> Result<Option<Vec<String>>, ApiError> {
    if !body.has("models") {
        return Ok(None);
    }
    let items = match body.value("models") {
        None => return Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(wrong_type("models", "an array of model names", other)),
    };
    if items.len() > MAX_MODELS {
        return Err(ApiError::bad_request(format!(
            "`models` may list at most {MAX_MODELS} models"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("models[{i}]");
        let name = match item {
            Value::String(s) => s.trim(),
            other => return Err(wrong_type(&field, "a model name", other)),
        };
        if name.is_empty() || name.chars().count() > MAX_MODEL_LEN {
            return Err(ApiError::bad_request(format!(
                "`{field}` must be a model name of 1 to {MAX_MODEL_LEN} characters"
            )));
        }
        if !out.iter().any(|m| m == name) {
            out.push(name.to_owned());
        }
    }
    Ok(Some(out))
}

/// Every field of a create or change body, checked.
fn read_patch(body: &JsonBody) -> Result<KeyPatch, ApiError> {
    known_fields(body)?;
    Ok(KeyPatch {
        name: name(body)?,
        enabled: body.opt_bool("enabled")?,
        expires_at: expires_at(body)?,
        models: models(body)?,
        rpm: limit(body, "rpm")?,
        tpm: limit(body, "tpm")?,
        monthly_tokens: limit(body, "monthlyTokens")?,
    })
}

async fn keys_changed(state: &AdminState) -> Result<(), ApiError> {
    state.inner.client_auth.reload().await?;
    state.inner.changes.notify(ChangeKind::ApiKeys);
    Ok(())
}

pub(super) async fn create(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let body = JsonBody::parse(&body)?;
    let patch = read_patch(&body)?;
    let name = patch
        .name
        .ok_or_else(|| ApiError::bad_request("`name` is required (a label for the key)"))?;
    let settings = KeySettings {
        expires_at: patch.expires_at.flatten(),
        models: patch.models.unwrap_or_default(),
        rpm: patch.rpm.flatten(),
        tpm: patch.tpm.flatten(),
        monthly_tokens: patch.monthly_tokens.flatten(),
    };
    let key = generate_client_key();
    let record = state
        .inner
        .store
        .insert_key_with(
            &NewApiKey {
                name,
                prefix: key.chars().take(SHOWN_PREFIX_LEN).collect(),
                key_hash: hash_secret(&key),
            },
            patch.enabled.unwrap_or(true),
            &settings,
        )
        .await?;
    keys_changed(&state).await?;
    tracing::info!(key_id = %record.id, prefix = %record.prefix, "client API key created");
    let view = KeyView::new(record, &state);
    Ok((StatusCode::CREATED, Json(Created { view, key })))
}

pub(super) async fn list(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let keys: Vec<KeyView> = state
        .inner
        .store
        .list_keys()
        .await?
        .into_iter()
        .map(|r| KeyView::new(r, &state))
        .collect();
    // Keys from `KIRO_API_KEYS` are not stored (only their digests are held in memory): listed
    // by the id the request log and the statistics know them by, nothing else.
    let configured: Vec<Value> = (0..state.inner.client_auth.configured_count())
        .map(|i| serde_json::json!({ "id": format!("config:{i}"), "source": "KIRO_API_KEYS" }))
        .collect();
    Ok(Json(
        serde_json::json!({ "keys": keys, "configuredKeys": configured }),
    ))
}

/// `PATCH /api/keys/{id}`: any subset of the fields; `null` clears a limit or the expiry.
pub(super) async fn patch(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<KeyView>, ApiError> {
    let body = JsonBody::parse(&body)?;
    let patch = read_patch(&body)?;
    if body.has("name") && patch.name.is_none() {
        return Err(ApiError::bad_request("`name` cannot be empty"));
    }
    let record = state
        .inner
        .store
        .update_key(&id, &patch)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no API key with id {id}")))?;
    keys_changed(&state).await?;
    tracing::info!(key_id = %id, prefix = %record.prefix, "client API key changed");
    Ok(Json(KeyView::new(record, &state)))
}

pub(super) async fn delete(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.inner.store.delete_key(&id).await? {
        return Err(ApiError::not_found(format!("no API key with id {id}")));
    }
    keys_changed(&state).await?;
    tracing::info!(key_id = %id, "client API key deleted");
    Ok(StatusCode::NO_CONTENT)
}
