//! The client-facing HTTP surface: the OpenAI and Anthropic APIs, health, and the admin API
//! mounted under `/api`.

pub mod chat;
pub mod dialect;
pub mod misc;
pub mod request_id;
pub mod trace;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

use crate::admin;
use crate::app::AppState;

/// Every route of the service.
pub fn router(app: AppState) -> Router {
    let limit = app.config.limits.max_request_body_bytes;
    let client = Router::new()
        .route("/v1/messages", post(chat::anthropic_messages))
        .route("/anthropic/v1/messages", post(chat::anthropic_messages))
        .route("/v1/messages/count_tokens", post(misc::count_tokens))
        .route(
            "/anthropic/v1/messages/count_tokens",
            post(misc::count_tokens),
        )
        .route("/v1/chat/completions", post(chat::openai_chat))
        // Only the routes above: traffic controls and key limits (`crate::limits`).
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            crate::limits::middleware,
        ))
        .route("/v1/models", get(misc::models))
        .route("/anthropic/v1/models", get(misc::models))
        .route("/api/event_logging/batch", post(misc::event_logging))
        .route("/healthz", get(misc::healthz))
        .route("/readyz", get(misc::readyz))
        .route("/", get(misc::root).head(misc::root))
        .route("/ui/{*path}", get(crate::console::file))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            crate::settings::notice::on_unauthorized,
        ))
        .with_state(app.clone());
    let metrics = Router::new()
        .route("/metrics", get(crate::metrics::scrape))
        .with_state(app.clone());
    client
        .merge(metrics)
        .nest("/api", admin::router(app.admin.clone()))
        // Outermost: the request id and its span cover every route, the admin API included.
        .layer(middleware::from_fn_with_state(app, trace::layer))
}
