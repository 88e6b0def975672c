//! Around every request: a span carrying its id (so every log line the request causes names
//! it, including lines written while a streamed body is being sent), the id echoed as
//! `x-request-id` on every answer, and the open-streams gauge for streamed replies.
//!
//! The id is decided here, once: the client's `x-request-id` when sane, else a new one, which
//! is written back into the request headers so the handlers' [`RequestId`] extractor reads the
//! same id. Only the method and the path are logged: never headers, never the query string.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequestParts as _, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tracing::Instrument as _;

use super::request_id::RequestId;
use crate::app::AppState;
use crate::metrics::StreamGauge;

/// When the request reached the service (the outermost middleware), in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub Instant);

/// The middleware (install with `axum::middleware::from_fn_with_state`).
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    // First thing: the request's latency (and the proxy overhead metric) counts from here, so
    // that the middleware and reading the body are in it, as a client sees them.
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(Arrived(started));
    let rid = match RequestId::from_request_parts(&mut parts, &()).await {
        Ok(rid) => rid,
        Err(never) => match never {},
    };
    if let Ok(v) = HeaderValue::from_str(rid.as_str()) {
        parts.headers.insert("x-request-id", v);
    }
    // The handlers' extractor reads it from here rather than parsing the header again.
    parts.extensions.insert(rid.clone());
    // At error level so that the span (and the id in every line) exists whatever the filter.
    let span = tracing::error_span!(
        "request",
        request_id = %rid,
        method = %parts.method,
        path = %parts.uri.path(),
    );
    let mut resp = next
        .run(Request::from_parts(parts, body))
        .instrument(span.clone())
        .await;
    if !resp.headers().contains_key("x-request-id") {
        rid.stamp(resp.headers_mut());
    }
    span.in_scope(|| {
        tracing::debug!(
            status = resp.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
    });
    let streamed = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if streamed {
        let (parts, body) = resp.into_parts();
        let body = Body::new(Streamed {
            inner: body,
            span,
            started,
            _open: app.metrics.stream_started(),
        });
        resp = Response::from_parts(parts, body);
    }
    resp
}

/// A streamed reply's body: polled inside the request's span, counted as open until dropped
/// (sent completely, failed, or abandoned by the client).
struct Streamed {
    inner: Body,
    span: tracing::Span,
    started: Instant,
    _open: StreamGauge,
}

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        self.span.in_scope(|| {
            tracing::debug!(
                ms = self.started.elapsed().as_secs_f64() * 1000.0,
                "stream closed"
            );
        });
    }
}
