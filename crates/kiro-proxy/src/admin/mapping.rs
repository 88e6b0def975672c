//! `GET`/`PUT /api/model-mapping`: the operator's model aliases `{alias: upstreamId}`.
//!
//! A stored table (from `PUT`) replaces the one from configuration entirely, so an alias can be
//! removed through the API; until something is stored, the configured table is in effect.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use super::{AdminState, ChangeKind};
use crate::store::{SETTING_MODEL_MAPPING, Store, StoreError};

const MAX_ENTRIES: usize = 1000;
const MAX_NAME_LEN: usize = 200;

/// The operator mapping in effect: the stored one if any, else `configured`.
pub async fn effective_model_mapping(
    store: &Store,
    configured: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(store
        .get_setting::<BTreeMap<String, String>>(SETTING_MODEL_MAPPING)
        .await?
        .unwrap_or_else(|| configured.clone()))
}

pub(super) async fn get(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let mapping =
        effective_model_mapping(&state.inner.store, &state.inner.configured_mapping).await?;
    Ok(Json(json!({ "mapping": mapping })))
}

pub(super) async fn put(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = JsonBody::parse(&body)?;
    let mapping = parse_mapping(&body)?;
    state
        .inner
        .store
        .put_setting(SETTING_MODEL_MAPPING, &mapping)
        .await?;
    state.inner.changes.notify(ChangeKind::ModelMapping);
    tracing::info!(entries = mapping.len(), "model mapping replaced");
    Ok(Json(json!({ "mapping": mapping })))
}

fn parse_mapping(body: &JsonBody) -> Result<BTreeMap<String, String>, ApiError> {
    let object = match body.value("mapping") {
        None => {
            return Err(ApiError::bad_request(
                "`mapping` is required: an object {\"alias\": \"upstream-model-id\"}",
            ));
        }
        Some(Value::Object(object)) => object,
        Some(other) => return Err(wrong_type("mapping", "an object", other)),
    };
    if object.len() > MAX_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "`mapping` has more than {MAX_ENTRIES} entries"
        )));
    }
    let mut mapping = BTreeMap::new();
    for (alias, target) in object {
        let field = format!("mapping.{alias}");
        let alias = alias.trim();
        if alias.is_empty() {
            return Err(ApiError::bad_request(
                "`mapping` keys must be non-empty model names",
            ));
        }
        let target = match target {
            Value::String(s) if !s.trim().is_empty() => s.trim(),
            Value::String(_) => {
                return Err(ApiError::bad_request(format!(
                    "`{field}` must be a non-empty upstream model id"
                )));
            }
            other => return Err(wrong_type(&field, "a string", other)),
        };
        if alias.chars().count() > MAX_NAME_LEN || target.chars().count() > MAX_NAME_LEN {
            return Err(ApiError::bad_request(format!(
                "`{field}`: names are limited to {MAX_NAME_LEN} characters"
            )));
        }
        mapping.insert(alias.to_owned(), target.to_owned());
    }
    Ok(mapping)
}

/// `GET /api/models`: the upstream models in effect (context window, output limit, credit
/// multiplier, image and thinking support), the alias mapping, and the default model.
pub(super) async fn models(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let mapping =
        effective_model_mapping(&state.inner.store, &state.inner.configured_mapping).await?;
    let default_model = state
        .runtime_settings()
        .and_then(|s| s.current().default_model.clone());
    Ok(Json(json!({
        "models": state.models_view(),
        "mapping": mapping,
        "defaultModel": default_model,
    })))
}
