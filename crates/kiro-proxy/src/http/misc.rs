//! The small client routes: models, count_tokens, health, readiness, root, telemetry sink.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic;
use dialects::canonical::ClientError;
use dialects::openai;
use serde_json::json;

use super::chat::{Front, admit, admit_as};
use super::dialect::Dialect;
use super::request_id::RequestId;
use crate::app::AppState;

/// `GET /healthz`: the process runs.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: storage answers and at least one account can serve.
pub async fn readyz(State(app): State<AppState>) -> Response {
    if let Err(e) = app.store.info().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": format!("storage: {e}")})),
        )
            .into_response();
    }
    let usable = app.pool.usable_count();
    if usable == 0 {
        let reason = if app.pool.is_empty() {
            "no account configured; add one with POST /api/accounts"
        } else {
            "no account is usable right now (all disabled, cooling down or needing login)"
        };
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": reason, "accounts": app.pool.len()})),
        )
            .into_response();
    }
    Json(json!({"status": "ready", "accounts": app.pool.len(), "usableAccounts": usable}))
        .into_response()
}

/// `GET /` and `HEAD /` (Claude Code pre-connects with `HEAD /`).
pub async fn root(headers: HeaderMap) -> Response {
    if crate::console::wants_html(&headers) {
        return crate::console::index(&headers);
    }
    Json(json!({"name": "kiro-proxy", "status": "ok"})).into_response()
}

/// `POST /api/event_logging/batch`: client telemetry, accepted and dropped.
pub async fn event_logging() -> Json<serde_json::Value> {
    Json(json!({}))
}

/// `GET /v1/models`: OpenAI's list shape, or Anthropic's when the request carries
/// `anthropic-version`.
pub async fn models(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    rid: RequestId,
    headers: HeaderMap,
) -> Response {
    let dialect = if headers.contains_key("anthropic-version") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    if let Err(err) = admit(&app, dialect, peer, &headers, Ok(Bytes::new())) {
        return refuse(dialect, &rid, &err);
    }
    let catalogue = app.catalogue();
    let mut ids: Vec<String> = catalogue
        .models()
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    ids.extend(app.mapping().keys().cloned());
    ids.dedup();
    let created = 1_767_225_600; // 2026-01-01: a fixed date, so listings are stable.
    let body = match dialect {
        Dialect::Anthropic => anthropic::models_response(
            &ids.iter()
                .map(|id| anthropic::ModelListing {
                    id: id.clone(),
                    display_name: id.clone(),
                    created,
                })
                .collect::<Vec<_>>(),
        ),
        Dialect::OpenAi => openai::models_response(
            &ids.iter()
                .map(|id| openai::ModelListing {
                    id: id.clone(),
                    display_name: id.clone(),
                    created,
                })
                .collect::<Vec<_>>(),
        ),
    };
    let mut resp = Json(body).into_response();
    rid.stamp(resp.headers_mut());
    resp
}

/// `POST /v1/messages/count_tokens`: the same estimate the reply's usage falls back to.
pub async fn count_tokens(
    State(app): State<AppState>,
    front: Front,
    rid: RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let dialect = Dialect::Anthropic;
    let mut identity = front.identity;
    let admitted = admit_as(&app, dialect, front.peer, &headers, body, &mut identity);
    let counted = admitted.and_then(|body| {
        let req = anthropic::decode_count_tokens(&body)?;
        app.catalogue().resolve(&req.model, &app.mapping())?;
        Ok(dialects::tokens::estimate_request(&req))
    });
    match counted {
        Ok(n) => {
            let mut resp = Json(anthropic::count_tokens_response(n)).into_response();
            rid.stamp(resp.headers_mut());
            resp
        }
        Err(err) => refuse(dialect, &rid, &err),
    }
}

fn refuse(dialect: Dialect, rid: &RequestId, err: &ClientError) -> Response {
    let mut resp = dialect.error_response(err, rid.as_str());
    rid.stamp(resp.headers_mut());
    resp
}
