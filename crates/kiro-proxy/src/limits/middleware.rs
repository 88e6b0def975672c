//! The axum middleware of the client routes: admits or refuses (see the module docs of
//! `crate::limits`), and holds the request's concurrency slot until its response body ends.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::{Admitted, ClientIp, Permit, Refusal, Refused, models};
use crate::app::AppState;
use crate::http::dialect::Dialect;
use crate::http::request_id::RequestId;
use crate::telemetry::Trace;

/// The client dialect of a route: OpenAI for chat completions, Anthropic for the rest.
fn dialect_of(path: &str) -> Dialect {
    if path.ends_with("/chat/completions") {
        Dialect::OpenAi
    } else {
        Dialect::Anthropic
    }
}

/// Admits the request (extensions set, see `crate::limits`) or answers the refusal at once.
pub async fn middleware(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    // Without socket information (in-process tests), the peer is unknown: never loopback.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let dialect = dialect_of(request.uri().path());
    match app.limits.admit(peer, request.headers()) {
        Ok(Admitted {
            identity,
            policy,
            client_ip,
            permit,
        }) => {
            let extensions = request.extensions_mut();
            extensions.insert(identity);
            extensions.insert(ClientIp(client_ip));
            if let Some(policy) = &policy {
                extensions.insert(Arc::clone(policy));
            }
            let response = models::with_key(policy, next.run(request)).await;
            let (parts, body) = response.into_parts();
            Response::from_parts(
                parts,
                Body::new(Held {
                    body,
                    permit: Some(permit),
                }),
            )
        }
        Err(refused) => refuse(&app, dialect, request, refused).await,
    }
}

async fn refuse(app: &AppState, dialect: Dialect, request: Request, refused: Refused) -> Response {
    let (mut parts, _body) = request.into_parts();
    let Ok(rid) = RequestId::from_request_parts(&mut parts, &()).await;
    let Refused {
        refusal,
        client_ip,
        identity,
    } = refused;
    let err = refusal.client_error();
    let mut trace = Trace::start(
        &app.telemetry,
        rid.as_str(),
        dialect.label(),
        Some(client_ip),
    );
    if let Some(identity) = &identity {
        trace.set_key(identity);
    }
    trace.fault(refusal.label());
    trace.refused(&err);
    let mut resp = dialect.error_response(&err, rid.as_str());
    if let Refusal::Busy { .. } = refusal {
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    rid.stamp(resp.headers_mut());
    trace.status(resp.status().as_u16());
    trace.complete();
    tracing::info!(
        request_id = %rid,
        dialect = dialect.label(),
        client_ip = %client_ip,
        status = resp.status().as_u16(),
        reason = refusal.label(),
        "request refused by the traffic controls"
    );
    resp
}

/// A response body that holds the request's concurrency slot until it ends or is dropped.
struct Held {
    body: Body,
    permit: Option<Permit>,
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            // Done: free the slot now rather than when the connection drops the body.
            self.permit = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_by_route() {
        assert_eq!(dialect_of("/v1/chat/completions"), Dialect::OpenAi);
        assert_eq!(dialect_of("/v1/messages"), Dialect::Anthropic);
        assert_eq!(
            dialect_of("/anthropic/v1/messages/count_tokens"),
            Dialect::Anthropic
        );
    }
}
