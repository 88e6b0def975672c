//! `GET /api/openapi.json`: the admin API described as OpenAPI 3.1.
//!
//! The document is hand-written (`crates/kiro-proxy/openapi.json`) and embedded at build time;
//! `tests/openapi_doc.rs` fails when it and the router disagree. It is served without the
//! admin token: it describes the API but holds no secrets, and tools fetch it before they
//! have a token.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as shipped.
const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub(super) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
