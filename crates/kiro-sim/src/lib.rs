//! kiro-sim: a faithful, scriptable, fast simulator of the Kiro upstream (spec
//! `kiro-upstream.md` §10) for tests, demos and benchmarks.
//!
//! One listener serves the four base URLs (`q`, `codewhisperer`, `social_auth`, `oidc`) and the
//! control API under `/_sim/`. Start one with [`start`]; script it through
//! [`SimHandle::state`] or HTTP. See the crate README for routes, triggers and script fields.
//!
//! Module map: [`server`] (listener), [`chat`] (the stream endpoint), [`quota`], [`mcp`],
//! [`social`] and [`oidc`] (the other endpoints), [`bearer`] (q-endpoint auth), [`control`]
//! (`/_sim`), [`script`] / [`render`] / [`tool_stream`] / [`writer`] / [`body`] (scripted
//! streams), [`faults`], [`triggers`] (in-band markers), [`dump`] (stream → JSON lines),
//! [`state`], [`accounts`], [`device`], [`behaviour`], [`log`], [`clock`], [`settings`],
//! [`secrets`], [`answer`], [`conn`], [`exchange`].
//! `models`, `errors`, `signature` and `validate` are the pure catalogue, error bodies,
//! thinking signatures and V1–V13 rules.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};

pub mod errors;
pub mod models;
pub mod signature;
pub mod validate;

pub mod accounts;
pub mod answer;
pub mod bearer;
pub mod behaviour;
pub mod body;
pub mod chat;
pub mod clock;
pub mod conn;
pub mod control;
pub mod device;
pub mod dump;
pub mod exchange;
pub mod faults;
pub mod log;
pub mod mcp;
pub mod oidc;
pub mod quota;
pub mod render;
pub mod script;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod social;
pub mod state;
pub mod tool_stream;
pub mod triggers;
pub mod writer;

pub use accounts::{AccountKind, AccountSecrets, CreateAccount, Rotation};
pub use behaviour::{Behaviour, QueueRequest};
pub use script::{Part, Script, Tail, ToolCall};
pub use server::{SimConfig, SimHandle, serve, start};
pub use settings::{Pace, Settings};
pub use state::SimState;

/// Unknown paths: recorded (a wrong path is a proxy bug worth seeing in the log), then 404.
async fn fallback(State(state): State<Arc<SimState>>, req: Request) -> Response {
    match exchange::Exchange::begin(state, req).await {
        Ok(ex) => {
            let body =
                serde_json::json!({"message": format!("kiro-sim: no route for {}", ex.path())});
            ex.note(None, 404, "no_route", None);
            exchange::json_response(404, &body, &ex.request_id)
        }
        Err(r) => r,
    }
}

/// The simulator's routes over `state` (usable with `axum::serve`; without the accept loop of
/// [`start`], a scripted TCP reset degrades to an abort).
pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/generateAssistantResponse", post(chat::handle))
        .route("/getUsageLimits", get(quota::usage_limits))
        .route(
            "/ListAvailableModels",
            get(quota::list_models).post(quota::list_models),
        )
        .route("/ListAvailableProfiles", post(quota::list_profiles))
        .route("/mcp", post(mcp::handle))
        .route("/refreshToken", post(social::refresh))
        .route("/client/register", post(oidc::register))
        .route("/device_authorization", post(oidc::device_authorization))
        .route("/token", post(oidc::token))
        .nest("/_sim", control::router())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(exchange::MAX_READ_BYTES))
        .with_state(state)
}
