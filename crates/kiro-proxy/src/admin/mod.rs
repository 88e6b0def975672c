//! The admin API, mounted under `/api`: accounts, client keys and the model mapping.
//!
//! Every route but the OpenAPI document and `/api/session` requires `Authorization: Bearer <admin
//! token>` (see [`token`]) or the web console's session cookie (see [`session`]); `crates/kiro-proxy/openapi.json` describes them all. Errors are
//! `{"error":{"message":…}}`. Timestamps in responses are Unix seconds. Changes are announced on
//! [`AdminChanges`] so the pool and the model router can reload.
//!
//! | Route | Answer |
//! |---|---|
//! | `POST /api/accounts` | 201 account view |
//! | `GET /api/accounts` | `{"accounts": [view…]}` |
//! | `PATCH /api/accounts/{id}` `{"label","enabled","weight","proxy","apiRegion","authRegion","profileArn"}` (any subset; `null` clears label, proxy, profileArn) | account view, 404 |
//! | `POST /api/accounts/{id}/enable`, `/disable`, `/reset` | account view, 404 |
//! | `POST /api/accounts/{id}/refresh` (token and quota now) | account view, 404; 502 with the upstream's reason (the account updated as the pool would) |
//! | `POST /api/accounts/refresh-all` | `{"refreshed": [view…], "failed": [{"account","status","error"}…]}` (every enabled account, a few at a time) |
//! | `POST /api/accounts/{id}/trip` | account view with its circuit open for the open period; 404 |
//! | `DELETE /api/accounts/{id}` | 204, 404 |
//! | `POST /api/accounts/import` (an IDE token, `{"token","clientRegistration"}`, a `kiro-accounts.json`, or an export) | `{"imported": [view…], "updated": [view…], "skipped": [{"account","reason"}…]}` |
//! | `GET /api/accounts/export` | the complete backup, secrets included (attachment, `no-store`) |
//! | `POST /api/auth/device` `{"region"?, "startUrl"?}` | `{"sessionId","userCode","verificationUri","verificationUriComplete","expiresAt","interval"}`; the server then polls |
//! | `GET /api/auth/device/{sessionId}` | `{"status": "pending"\|"success"\|"expired"\|"denied"\|"error", "account"?, "error"?}`, 404 once forgotten |
//! | `POST /api/keys` `{"name", "enabled"?, "expiresAt"?, "models"?, "rpm"?, "tpm"?, "monthlyTokens"?}` | 201 key view plus `"key"` (the only time the key is shown) |
//! | `GET /api/keys` | `{"keys": [{"id","name","prefix","enabled","createdAt","lastUsedAt","expiresAt","expired","models","rpm","tpm","monthlyTokens","usage":{"requestsLastMinute","tokensLastMinute","month","tokensThisMonth","inFlight"}}…], "configuredKeys": [{"id": "config:N", "source"}…]}` (keys of `KIRO_API_KEYS`, by index only) |
//! | `PATCH /api/keys/{id}` (any subset of `name`, `enabled`, `expiresAt`, `models`, `rpm`, `tpm`, `monthlyTokens`; `null` clears a limit) | key view, 404 |
//! | `DELETE /api/keys/{id}` | 204, 404 |
//! | `GET`/`PUT /api/traffic` `{"ipRateLimitPerMinute","blockedIps","trustedProxies","maxConcurrency","perKeyConcurrency"}` (PUT: any subset; `null` clears a limit) | the controls in effect; 400 naming the field |
//! | `GET`/`PUT /api/model-mapping` | `{"mapping": {alias: upstreamId}}` |
//! | `GET /api/models` | `{"models": [{"id","contextWindow","maxOutputTokens","creditMultiplier","images","thinking"}…], "mapping", "defaultModel"}` |
//! | `GET /api/session` (no token) | `{"authenticated", "expiresAt"?}` for the console's cookie |
//! | `POST /api/session` `{"token"}` (no token) | sets the console's session cookie; 401 wrong token, 429 after repeated failures |
//! | `DELETE /api/session` | 204; the session is revoked and the cookie cleared |
//! | `GET /api/requests?key=&account=&model=&status=&since=&until=&limit=&before=` (`status`: `429`, `4xx`, `error`, `ok`; `limit` ≤ 1000, default 100; `before`: a `next` cursor) | `{"requests": [entry…], "next"?}`, newest first |
//! | `GET /api/requests/{requestId}` | one request log entry (with `"bodies": {"request","response","truncated"}` when body capture was on for it; secrets redacted, capped), 404 |
//! | `GET /api/stats?by=key\|account\|model\|status&period=hour\|day&since=&until=` | `{"period","since","until","buckets": [{"start","key"?,"account"?,"model"?,"status"?,"requests","errors","inputTokens","outputTokens","cacheReadTokens","cacheWriteTokens","credits","avgLatencyMs","avgTtftMs"}…], "totals"}` |
//! | `GET /api/settings` | `{"defaultModel","thinkingFormat","notice":{"enabled","markdown"},"retention":{…},"bodyCapture":{"enabled","maxBytes"},"pool":{…thresholds},"logLevel","modelMapping"}` (the last two read-only here) |
//! | `PUT /api/settings` (any subset of `defaultModel`, `thinkingFormat`, `notice`, `retention`, `bodyCapture`, `pool`; within an object any subset, `null` for the configured value) | as `GET`; 400 naming the field (`pool.circuitFailures`) |
//! | `GET /api/openapi.json` (no token: it holds no secret) | the OpenAPI 3.1 document of these routes |
//! | `GET`/`PUT /api/settings/log-level` `{"level"}` (e.g. `"debug"`, `"info,kiro_proxy=debug"`; not persisted) | `{"level"}` |
//! | `POST /api/tools/web-search` `{"query", "maxResults"?}` (1–1000 chars; 1–50, default 10); `GET /api/tools/mcp`; `POST /api/tools/mcp/call` `{"name", "arguments"?}` (the upstream's MCP, through the pool with failover) | `{"results": [{"title","url","snippet","publishedDate","domain","publicDomain"?,"id"?}…], "totalResults", "account"}`; `{"tools": [{"name","description","inputSchema"}…], "account"}`; `{"content": […], "isError", "account"}`; 400 naming the field, 502 with the upstream's message, 503 when no account can serve |

mod accounts;
mod body;
mod device;
mod error;
mod export;
mod import;
mod keys;
mod manage;
mod mapping;
mod new_account;
mod openapi;
mod refresh;
mod requests;
pub mod session;
mod settings;
mod stats;
mod time;
pub mod token;
mod tools;
mod traffic;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use tokio::sync::watch;

pub use accounts::AccountView;
pub use error::ApiError;
pub use keys::{CLIENT_KEY_PREFIX, generate_client_key};
pub use mapping::effective_model_mapping;
pub use refresh::AccountRefresher;
pub use token::{AdminToken, AdminTokenOrigin, init_admin_token, reset_admin_token};
pub use tools::{
    CallAnswer, SearchAnswer, SearchHit, ToolInfo, ToolList, ToolsError, UpstreamTools,
};

use crate::client_auth::{ClientAuth, bearer_token};
use crate::config::Config;
use crate::store::Store;
use crate::upstream::UpstreamClient;

/// What changed through the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Accounts,
    ApiKeys,
    ModelMapping,
}

/// Change notifications: one `watch` channel per [`ChangeKind`] whose value is a revision
/// counter. A subscriber awaits `changed()` and reloads; bursts coalesce, nothing lags.
#[derive(Debug, Clone)]
pub struct AdminChanges {
    accounts: watch::Sender<u64>,
    api_keys: watch::Sender<u64>,
    model_mapping: watch::Sender<u64>,
}

impl Default for AdminChanges {
    fn default() -> Self {
        Self {
            accounts: watch::Sender::new(0),
            api_keys: watch::Sender::new(0),
            model_mapping: watch::Sender::new(0),
        }
    }
}

impl AdminChanges {
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, kind: ChangeKind) -> &watch::Sender<u64> {
        match kind {
            ChangeKind::Accounts => &self.accounts,
            ChangeKind::ApiKeys => &self.api_keys,
            ChangeKind::ModelMapping => &self.model_mapping,
        }
    }

    /// A receiver that sees every later change of `kind`.
    pub fn subscribe(&self, kind: ChangeKind) -> watch::Receiver<u64> {
        self.sender(kind).subscribe()
    }

    /// Announces a change of `kind`.
    pub fn notify(&self, kind: ChangeKind) {
        self.sender(kind).send_modify(|revision| *revision += 1);
    }
}

/// Shared state of the admin routes; cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    token: AdminToken,
    client_auth: ClientAuth,
    changes: AdminChanges,
    /// Device logins and OIDC/profile/usage calls of new accounts.
    upstream: UpstreamClient,
    /// Device logins in progress or recently ended.
    device_sessions: device::DeviceSessions,
    /// Region of accounts created without one (`KIRO_REGION`).
    default_region: String,
    /// The model mapping from configuration, used until one is stored.
    configured_mapping: BTreeMap<String, String>,
    /// The pool's live view of an account (health, circuit, quota, load), set once the pool
    /// exists.
    pool_view: std::sync::OnceLock<PoolViewHook>,
    /// `/api/settings`, set once the app's runtime settings are loaded.
    runtime_settings: std::sync::OnceLock<crate::settings::RuntimeSettings>,
    /// Key usage and `/api/traffic`, set once the limits exist.
    limits: std::sync::OnceLock<crate::limits::Limits>,
    /// The model catalogue for `/api/models`, set once the app exists.
    models_view: std::sync::OnceLock<ModelsViewHook>,
    /// `POST /api/accounts/{id}/refresh`, set once the pool exists.
    refresher: std::sync::OnceLock<AccountRefresher>,
    /// `/api/tools/…` (the upstream's MCP), set once the pool exists.
    tools: std::sync::OnceLock<UpstreamTools>,
    /// Web console sessions.
    sessions: session::Sessions,
}

struct ModelsViewHook(ModelsViewFn);

impl std::fmt::Debug for ModelsViewHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelsViewHook")
    }
}

/// Gives the model catalogue in effect as JSON `[{"id", "contextWindow", …}…]`.
pub type ModelsViewFn = Box<dyn Fn() -> serde_json::Value + Send + Sync>;

struct PoolViewHook(PoolViewFn);

impl std::fmt::Debug for PoolViewHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolViewHook")
    }
}

/// Gives the pool's live state of an account as JSON, for the account views.
pub type PoolViewFn = Box<dyn Fn(&str) -> Option<serde_json::Value> + Send + Sync>;

impl AdminState {
    /// State over `store`, accepting `token`. `client_auth` is reloaded when keys change;
    /// `upstream` serves device logins.
    pub fn new(
        store: Store,
        token: AdminToken,
        client_auth: ClientAuth,
        changes: AdminChanges,
        upstream: UpstreamClient,
        config: &Config,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                token,
                client_auth,
                changes,
                upstream,
                device_sessions: device::DeviceSessions::default(),
                default_region: config.region.clone(),
                configured_mapping: config.models.mapping.clone(),
                pool_view: std::sync::OnceLock::new(),
                runtime_settings: std::sync::OnceLock::new(),
                limits: std::sync::OnceLock::new(),
                models_view: std::sync::OnceLock::new(),
                refresher: std::sync::OnceLock::new(),
                tools: std::sync::OnceLock::new(),
                sessions: session::Sessions::default(),
            }),
        }
    }

    /// Lets the account views show the pool's live state of each account. Set once; later
    /// calls are ignored.
    pub fn set_pool_view(&self, view: PoolViewFn) {
        let _ = self.inner.pool_view.set(PoolViewHook(view));
    }

    /// The pool's live state of an account, when the pool is wired in.
    pub(crate) fn pool_view(&self, id: &str) -> Option<serde_json::Value> {
        self.inner.pool_view.get().and_then(|hook| (hook.0)(id))
    }

    /// Serves `/api/settings` from `settings`. Set once; later calls are ignored.
    pub fn set_runtime_settings(&self, settings: crate::settings::RuntimeSettings) {
        let _ = self.inner.runtime_settings.set(settings);
    }

    pub(crate) fn runtime_settings(&self) -> Option<&crate::settings::RuntimeSettings> {
        self.inner.runtime_settings.get()
    }

    /// Shows key usage and serves `/api/traffic` from `limits`. Set once; later calls are
    /// ignored.
    pub fn set_limits(&self, limits: crate::limits::Limits) {
        let _ = self.inner.limits.set(limits);
    }

    pub(crate) fn limits(&self) -> Option<&crate::limits::Limits> {
        self.inner.limits.get()
    }

    /// Serves `POST /api/accounts/{id}/refresh` through `refresher`. Set once; later calls are
    /// ignored.
    pub fn set_refresher(&self, refresher: AccountRefresher) {
        let _ = self.inner.refresher.set(refresher);
    }

    /// Serves `/api/tools/…` through `tools`. Set once; later calls are ignored.
    pub fn set_tools(&self, tools: UpstreamTools) {
        let _ = self.inner.tools.set(tools);
    }

    /// Serves the catalogue part of `/api/models` from `view`. Set once; later calls are
    /// ignored.
    pub fn set_models_view(&self, view: ModelsViewFn) {
        let _ = self.inner.models_view.set(ModelsViewHook(view));
    }

    pub(crate) fn models_view(&self) -> serde_json::Value {
        self.inner
            .models_view
            .get()
            .map(|hook| (hook.0)())
            .unwrap_or_else(|| serde_json::json!([]))
    }

    /// The change notifications (subscribe here).
    pub fn changes(&self) -> &AdminChanges {
        &self.inner.changes
    }
}

/// The admin routes, to be nested under `/api`. Only the routes listed in the module docs are
/// matched, so other `/api/…` paths (e.g. `/api/event_logging/batch`) stay free for the caller.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route("/accounts/import", post(import::import))
        .route("/accounts/export", get(export::export))
        .route(
            "/accounts/{id}",
            patch(manage::patch).delete(accounts::delete),
        )
        .route("/accounts/{id}/enable", post(manage::enable))
        .route("/accounts/{id}/disable", post(manage::disable))
        .route("/accounts/{id}/reset", post(manage::reset))
        .route("/accounts/{id}/trip", post(manage::trip))
        .route("/accounts/refresh-all", post(refresh::refresh_all))
        .route("/accounts/{id}/refresh", post(refresh::refresh))
        .route("/auth/device", post(device::start))
        .route("/auth/device/{session_id}", get(device::status))
        .route("/keys", get(keys::list).post(keys::create))
        .route("/keys/{id}", delete(keys::delete).patch(keys::patch))
        .route("/traffic", get(traffic::get).put(traffic::put))
        .route("/model-mapping", get(mapping::get).put(mapping::put))
        .route("/models", get(mapping::models))
        .route("/requests", get(requests::list))
        .route("/requests/{request_id}", get(requests::get))
        .route("/stats", get(stats::get))
        .route("/settings", get(settings::get).put(settings::put))
        .route(
            "/settings/log-level",
            get(settings::get_log_level).put(settings::put_log_level),
        )
        .route("/tools/web-search", post(tools::web_search))
        .route("/tools/mcp", get(tools::list))
        .route("/tools/mcp/call", post(tools::call))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_admin))
        .route("/openapi.json", get(openapi::document))
        .route(
            "/session",
            get(session::status)
                .post(session::login)
                .delete(session::logout),
        )
        .with_state(state)
}

async fn require_admin(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match presented {
        Some(token) if state.inner.token.verify(token) => return next.run(request).await,
        Some(_) => return ApiError::unauthorized("invalid admin token").into_response(),
        None => {}
    }
    match session::check_request(&state, request.method(), request.headers()) {
        session::CookieAuth::Valid => next.run(request).await,
        session::CookieAuth::MissingHeader => ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            message: format!(
                "a change made with the console session must carry `{}: 1`",
                session::CONSOLE_HEADER
            ),
        }
        .into_response(),
        session::CookieAuth::Invalid => {
            ApiError::unauthorized("the console session has ended; log in again").into_response()
        }
        session::CookieAuth::Absent => ApiError::unauthorized(
            "admin token required: send `Authorization: Bearer <admin token>` (KIRO_ADMIN_TOKEN, \
             or the token printed at first start)",
        )
        .into_response(),
    }
}
