//! `GET`/`PUT /api/settings` (runtime settings, partial updates) and
//! `GET`/`PUT /api/settings/log-level` (the log filter of the running process).
//!
//! `GET /api/settings` answers
//! `{"defaultModel", "thinkingFormat", "notice": {"enabled", "markdown"}, "retention":
//! {"requestLogSize", "retentionDays", "dailyRetentionDays"}, "bodyCapture": {"enabled",
//! "maxBytes"}, "pool": {…thresholds}, "logLevel", "modelMapping"}`; the last two are shown
//! for reference and changed elsewhere (a `PUT` naming one is a 400 saying where). `PUT` takes
//! any subset of `defaultModel` (a model name, `null` clears), `thinkingFormat`
//! (`reasoning_content`, `thinking`, `think`), `notice` (`{"enabled"?, "markdown"?}`),
//! `retention`, `bodyCapture` and `pool` (each any subset of its fields; `null` for a field
//! puts it back to the configured value), and answers like `GET`. Every change applies at
//! once: retention to the statistics (the log size from the next batch, the day limits at the
//! next pruning), body capture from the next request, pool thresholds (`settings::pool`) from
//! the pool's next decision. A bad value is a 400 naming the field (`pool.circuitFailures`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::AdminState;
use super::error::ApiError;
use super::mapping::effective_model_mapping;
use crate::settings::{RuntimeSettings, UpdateError};

fn runtime(state: &AdminState) -> Result<&RuntimeSettings, ApiError> {
    state.runtime_settings().ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "runtime settings are not available in this process".to_owned(),
    })
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "request body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))),
    }
}

async fn view(state: &AdminState, runtime: &RuntimeSettings) -> Result<Value, ApiError> {
    let s = runtime.current();
    let mapping =
        effective_model_mapping(&state.inner.store, &state.inner.configured_mapping).await?;
    Ok(json!({
        "defaultModel": s.default_model,
        "thinkingFormat": s.thinking_format,
        "notice": s.notice,
        "logLevel": runtime.log_control().map(|c| c.current()),
        "modelMapping": mapping,
        "pool": runtime.pool_view(),
        "retention": runtime.retention_view(),
        "bodyCapture": runtime.body_capture_view(),
    }))
}

pub(super) async fn get(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let runtime = runtime(&state)?;
    Ok(Json(view(&state, runtime).await?))
}

pub(super) async fn put(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let runtime = runtime(&state)?;
    let patch = object(&body)?;
    let mapping =
        effective_model_mapping(&state.inner.store, &state.inner.configured_mapping).await?;
    let check_model = |name: &str| {
        dialects::models::resolve(name, &mapping)
            .map(|_| ())
            .map_err(|e| e.message)
    };
    match runtime.update(&patch, check_model).await {
        Ok(s) => {
            let fields: Vec<&str> = patch.keys().map(String::as_str).collect();
            tracing::info!(
                fields = %fields.join(","),
                notice = s.notice.active().is_some(),
                thinking_format = %s.thinking_format,
                "runtime settings changed"
            );
        }
        Err(UpdateError::Invalid(e)) => return Err(ApiError::bad_request(e.to_string())),
        Err(UpdateError::Store(e)) => return Err(e.into()),
    }
    Ok(Json(view(&state, runtime).await?))
}

pub(super) async fn get_log_level(
    State(state): State<AdminState>,
) -> Result<Json<Value>, ApiError> {
    let runtime = runtime(&state)?;
    Ok(Json(json!({
        "level": runtime.log_control().map(|c| c.current()),
    })))
}

pub(super) async fn put_log_level(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let runtime = runtime(&state)?;
    let body = object(&body)?;
    let level = match body.get("level") {
        Some(Value::String(s)) => s,
        Some(other) if !other.is_null() => {
            return Err(ApiError::bad_request(
                "`level` must be a string such as \"debug\" or \"info,kiro_proxy=debug\"",
            ));
        }
        _ => {
            return Err(ApiError::bad_request(
                "`level` is required: a filter such as \"debug\" or \"info,kiro_proxy=debug\"",
            ));
        }
    };
    let Some(control) = runtime.log_control() else {
        return Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "this process has no reloadable logger".to_owned(),
        });
    };
    let before = control.current();
    let now = control
        .set(level)
        .map_err(|m| ApiError::bad_request(format!("`level` {m}")))?;
    tracing::info!(from = %before, to = %now, "log level changed");
    Ok(Json(json!({ "level": now })))
}
