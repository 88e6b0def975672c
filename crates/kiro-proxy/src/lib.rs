//! The kiro-proxy service: configuration, HTTP surface, upstream client and account pool.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod client_auth;
pub mod config;
pub mod console;
pub mod crypto;
pub mod http;
pub mod images;
pub mod limits;
pub mod metrics;
pub mod settings;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;

use axum::serve::ListenerExt;

pub use app::{App, AppState};
pub use config::{Config, ServeArgs};

/// Serves the client and admin APIs on `listener` until `shutdown` resolves, then lets open
/// requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small SSE writes must leave at once: Nagle's algorithm would hold them for ~40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        http::router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
