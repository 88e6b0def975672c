//! The control API under `/_sim/` (JSON): accounts, behaviours, clock, request log and stream
//! dumps, device-login approval, settings, reset. Documented route by route in the README.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{AccountKind, CreateAccount, PatchAccount};
use crate::behaviour::{Behaviour, CHAT_PATH, QueueRequest};
use crate::device::DeviceState;
use crate::dump;
use crate::models::Tier;
use crate::script::Part;
use crate::state::SimState;

type St = State<Arc<SimState>>;

fn bad(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

fn not_found(what: &str) -> Response {
    bad(StatusCode::NOT_FOUND, format!("{what} not found"))
}

/// Parses a JSON body leniently (an empty body is `{}`).
fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, String> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| e.to_string())
}

/// The `/_sim` router.
pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/reset", post(reset))
        .route("/settings", get(get_settings).patch(patch_settings))
        .route("/accounts", get(list_accounts).post(create_account))
        .route(
            "/accounts/{id}",
            get(get_account).patch(patch_account).delete(delete_account),
        )
        .route("/accounts/{id}/tokens", post(issue_tokens))
        .route("/accounts/{id}/expire-tokens", post(expire_tokens))
        .route("/accounts/{id}/revoke-refresh-tokens", post(revoke_refresh))
        .route(
            "/behaviours",
            get(list_behaviours)
                .post(queue_behaviour)
                .delete(clear_behaviours),
        )
        .route("/behaviours/{id}", axum::routing::delete(delete_behaviour))
        .route("/clock", get(get_clock))
        .route("/clock/advance", post(advance_clock))
        .route("/requests", get(list_requests).delete(clear_requests))
        .route("/requests/{id}", get(get_request))
        .route("/requests/{id}/stream.bin", get(stream_bin))
        .route("/requests/{id}/stream.jsonl", get(stream_jsonl))
        .route("/decode", post(decode))
        .route("/device", get(list_devices))
        .route("/device/{user_code}", axum::routing::patch(patch_device))
        .route("/device/{user_code}/approve", post(approve_device))
        .route("/device/{user_code}/deny", post(deny_device))
        .route("/registrations", get(list_registrations))
}

async fn reset(State(s): St) -> Response {
    s.reset();
    Json(json!({"ok": true})).into_response()
}

async fn get_settings(State(s): St) -> Response {
    Json(s.settings()).into_response()
}

async fn patch_settings(State(s): St, body: Bytes) -> Response {
    let patch: Value = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    match s.settings().patched(&patch) {
        Ok(new) => {
            s.set_settings(new);
            Json(new).into_response()
        }
        Err(e) => bad(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn list_accounts(State(s): St) -> Response {
    let accounts: Vec<_> = s.lock().accounts.values().cloned().collect();
    Json(accounts).into_response()
}

async fn create_account(State(s): St, body: Bytes) -> Response {
    let req: CreateAccount = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    match s.create_account(&req) {
        Ok(secrets) => (StatusCode::CREATED, Json(secrets)).into_response(),
        Err(e) => bad(StatusCode::CONFLICT, e),
    }
}

async fn get_account(State(s): St, Path(id): Path<String>) -> Response {
    match s.account(&id) {
        Some(a) => Json(a).into_response(),
        None => not_found("account"),
    }
}

async fn patch_account(State(s): St, Path(id): Path<String>, body: Bytes) -> Response {
    let patch: PatchAccount = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    match s.patch_account(&id, &patch) {
        Some(a) => Json(a).into_response(),
        None => not_found("account"),
    }
}

async fn delete_account(State(s): St, Path(id): Path<String>) -> Response {
    let mut inner = s.lock();
    if inner.accounts.remove(&id).is_none() {
        return not_found("account");
    }
    inner.access_tokens.retain(|_, g| g.account != id);
    inner.refresh_tokens.retain(|_, g| g.account != id);
    inner.api_keys.retain(|_, a| *a != id);
    Json(json!({"deleted": id})).into_response()
}

async fn issue_tokens(State(s): St, Path(id): Path<String>) -> Response {
    let now = s.clock().now_ms();
    let mut inner = s.lock();
    match inner.accounts.get(&id).map(|a| a.kind) {
        None => not_found("account"),
        Some(AccountKind::ApiKey) => {
            bad(StatusCode::BAD_REQUEST, "API-key accounts have no tokens")
        }
        Some(_) => {
            let (access, expires_at) = inner.issue_access_token(&id, now);
            let refresh = inner.issue_refresh_token(&id, now);
            Json(
                json!({"access_token": access, "expires_at": expires_at, "refresh_token": refresh}),
            )
            .into_response()
        }
    }
}

async fn expire_tokens(State(s): St, Path(id): Path<String>) -> Response {
    let now = s.clock().now_ms();
    let n = s.lock().expire_access_tokens(&id, now);
    Json(json!({"expired": n})).into_response()
}

async fn revoke_refresh(State(s): St, Path(id): Path<String>) -> Response {
    let n = s.lock().revoke_refresh_tokens(&id);
    Json(json!({"revoked": n})).into_response()
}

async fn list_behaviours(State(s): St) -> Response {
    let list = s.lock().behaviours.list().to_vec();
    Json(list).into_response()
}

/// Inlines replay files as base64 so the request path never reads the disk.
fn inline_replays(behaviour: &mut Behaviour) -> Result<(), String> {
    if let Behaviour::Script { script } = behaviour {
        for part in &mut script.parts {
            if let Part::Replay { path, base64 } = part {
                if base64.is_none() {
                    if let Some(p) = path.take() {
                        let bytes = std::fs::read(&p).map_err(|e| format!("replay {p}: {e}"))?;
                        *base64 = Some(STANDARD.encode(bytes));
                    }
                }
            }
        }
    }
    Ok(())
}

async fn queue_behaviour(State(s): St, body: Bytes) -> Response {
    let mut req: QueueRequest = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    if matches!(req.behaviour, Behaviour::Script { .. })
        && req
            .path
            .as_deref()
            .is_some_and(|p| p != CHAT_PATH && p != "*")
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "scripts apply to /generateAssistantResponse only",
        );
    }
    if let Err(e) = inline_replays(&mut req.behaviour) {
        return bad(StatusCode::BAD_REQUEST, e);
    }
    let id = s.queue(req);
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn clear_behaviours(State(s): St) -> Response {
    s.lock().behaviours.clear();
    Json(json!({"ok": true})).into_response()
}

async fn delete_behaviour(State(s): St, Path(id): Path<u64>) -> Response {
    if s.lock().behaviours.remove(id) {
        Json(json!({"deleted": id})).into_response()
    } else {
        not_found("behaviour")
    }
}

fn clock_json(s: &SimState) -> Value {
    json!({
        "now_ms": s.clock().now_ms(),
        "now": s.clock().now_secs(),
        "offset_ms": s.clock().offset_ms(),
    })
}

async fn get_clock(State(s): St) -> Response {
    Json(clock_json(&s)).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    ms: i64,
}

async fn advance_clock(State(s): St, body: Bytes) -> Response {
    let a: Advance = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    s.clock()
        .advance_ms(a.seconds.saturating_mul(1000).saturating_add(a.ms));
    Json(clock_json(&s)).into_response()
}

async fn list_requests(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    let since: u64 = q.get("since").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let log = s.log();
    let views: Vec<Value> = log
        .iter()
        .filter(|r| r.id > since)
        .filter(|r| q.get("path").is_none_or(|p| *p == r.path))
        .filter(|r| {
            q.get("account")
                .is_none_or(|a| r.account.as_deref() == Some(a.as_str()))
        })
        .take(limit)
        .filter_map(|r| serde_json::to_value(r.view()).ok())
        .collect();
    Json(views).into_response()
}

async fn clear_requests(State(s): St) -> Response {
    s.log().clear();
    Json(json!({"ok": true})).into_response()
}

async fn get_request(State(s): St, Path(id): Path<u64>) -> Response {
    let log = s.log();
    match log.get(id) {
        Some(r) => Json(r.view()).into_response(),
        None => not_found("request"),
    }
}

async fn stream_bin(State(s): St, Path(id): Path<u64>) -> Response {
    let bytes = s.log().get(id).map(|r| r.stream_bytes());
    match bytes {
        Some(Some(b)) => (
            [(header::CONTENT_TYPE, "application/vnd.amazon.eventstream")],
            b,
        )
            .into_response(),
        Some(None) => not_found("stream of request"),
        None => not_found("request"),
    }
}

async fn stream_jsonl(State(s): St, Path(id): Path<u64>) -> Response {
    let bytes = s.log().get(id).map(|r| r.stream_bytes());
    match bytes {
        Some(Some(b)) => (
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            dump::jsonl(&b),
        )
            .into_response(),
        Some(None) => not_found("stream of request"),
        None => not_found("request"),
    }
}

async fn decode(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        dump::jsonl(&body),
    )
        .into_response()
}

async fn list_devices(State(s): St) -> Response {
    let list: Vec<_> = s.lock().devices.values().cloned().collect();
    Json(list).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Approve {
    /// Update this account instead of creating one.
    account: Option<String>,
    /// Tier of a created account.
    tier: Option<Tier>,
}

fn with_session(
    s: &SimState,
    user_code: &str,
    f: impl FnOnce(&mut crate::device::DeviceSession),
) -> Response {
    let mut inner = s.lock();
    let Some(code) = inner.user_codes.get(user_code).cloned() else {
        return not_found("device session");
    };
    match inner.devices.get_mut(&code) {
        Some(session) => {
            f(session);
            Json(session.clone()).into_response()
        }
        None => not_found("device session"),
    }
}

async fn approve_device(State(s): St, Path(code): Path<String>, body: Bytes) -> Response {
    let a: Approve = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    with_session(&s, &code, |session| {
        if session.state == DeviceState::Pending {
            session.state = DeviceState::Approved;
        }
        if a.account.is_some() {
            session.account = a.account;
        }
        if a.tier.is_some() {
            session.tier = a.tier;
        }
    })
}

async fn deny_device(State(s): St, Path(code): Path<String>) -> Response {
    with_session(&s, &code, |session| {
        if session.state != DeviceState::Consumed {
            session.state = DeviceState::Denied;
        }
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PatchDevice {
    pending_polls: Option<u32>,
    auto_approve: Option<bool>,
    interval: Option<u64>,
}

async fn patch_device(State(s): St, Path(code): Path<String>, body: Bytes) -> Response {
    let p: PatchDevice = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e),
    };
    with_session(&s, &code, |session| {
        if let Some(n) = p.pending_polls {
            session.pending_left = n;
        }
        if let Some(a) = p.auto_approve {
            session.auto_approve = a;
        }
        if let Some(i) = p.interval {
            session.interval_secs = i;
        }
    })
}

async fn list_registrations(State(s): St) -> Response {
    let list: Vec<_> = s.lock().clients.values().cloned().collect();
    Json(list).into_response()
}
