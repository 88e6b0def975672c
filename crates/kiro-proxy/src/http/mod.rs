//! The client-facing HTTP surface: the OpenAI and Anthropic APIs, health, and the admin API
//! mounted under `/api`.

pub mod chat;
pub mod dialect;
pub mod misc;
pub mod request_id;

use axum::Router;
use axum::extract::DefaultBodyLimit;
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
        .route("/v1/models", get(misc::models))
        .route("/anthropic/v1/models", get(misc::models))
        .route("/api/event_logging/batch", post(misc::event_logging))
        .route("/healthz", get(misc::healthz))
        .route("/readyz", get(misc::readyz))
        .route("/", get(misc::root).head(misc::root))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app.clone());
    client.nest("/api", admin::router(app.admin.clone()))
}
