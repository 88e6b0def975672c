//! One upstream exchange: read and record the request, answer it (JSON, catalogued error, raw
//! HTTP), and note the outcome in the request log. Shared by every upstream endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;

use crate::behaviour::Behaviour;
use crate::errors::{ErrorKind, UpstreamErrorResponse};
use crate::log::RecordedRequest;
use crate::state::SimState;

/// Largest request body read (well above any V10 ceiling a test sets).
pub const MAX_READ_BYTES: usize = 64 * 1024 * 1024;

/// A request read off the wire and recorded.
#[derive(Debug)]
pub struct Exchange {
    pub state: Arc<SimState>,
    pub parts: Parts,
    pub body: Bytes,
    pub log_id: Option<u64>,
    pub now_ms: i64,
    pub request_id: String,
}

impl Exchange {
    /// Reads the body and records the request.
    pub async fn begin(state: Arc<SimState>, req: Request) -> Result<Exchange, Response> {
        let (parts, body) = req.into_parts();
        let body = match axum::body::to_bytes(body, MAX_READ_BYTES).await {
            Ok(b) => b,
            Err(_) => return Err(error_response(&ErrorKind::ImproperlyFormed.response(), "")),
        };
        let now_ms = state.clock().now_ms();
        let log_id = if state.settings().record_requests {
            let entry = RecordedRequest {
                id: 0,
                at_ms: now_ms,
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().map(str::to_owned),
                headers: parts
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: body.clone(),
                account: None,
                status: None,
                outcome: None,
                stream: None,
            };
            Some(state.log().push(entry))
        } else {
            None
        };
        Ok(Exchange {
            state,
            parts,
            body,
            log_id,
            now_ms,
            request_id: uuid::Uuid::new_v4().to_string(),
        })
    }

    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query string as a map (last value wins).
    pub fn query(&self) -> HashMap<String, String> {
        Query::<HashMap<String, String>>::try_from_uri(&self.parts.uri)
            .map(|q| q.0)
            .unwrap_or_default()
    }

    /// Notes who the request was and what it got.
    pub fn note(
        &self,
        account: Option<&str>,
        status: u16,
        outcome: impl Into<String>,
        stream: Option<Vec<Bytes>>,
    ) {
        let Some(id) = self.log_id else { return };
        let mut log = self.state.log();
        if let Some(e) = log.get_mut(id) {
            e.account = account.map(str::to_owned);
            e.status = Some(status);
            e.outcome = Some(outcome.into());
            e.stream = stream;
        }
    }

    /// Answers with a catalogued error and logs it.
    pub fn fail(
        &self,
        account: Option<&str>,
        err: &UpstreamErrorResponse,
        label: &str,
    ) -> Response {
        self.note(account, err.status, label, None);
        error_response(err, &self.request_id)
    }

    /// Answers with JSON and logs it.
    pub fn ok_json<T: Serialize>(&self, account: Option<&str>, value: &T) -> Response {
        self.note(account, 200, "ok", None);
        json_response(200, value, &self.request_id)
    }

    /// Answers a queued error or raw-HTTP behaviour (after its delay). `None` for scripts.
    pub async fn answer_behaviour(
        &self,
        account: Option<&str>,
        user_id: Option<&str>,
        behaviour: &Behaviour,
        id: u64,
        delay_ms: u64,
    ) -> Option<Response> {
        let resp = match behaviour {
            Behaviour::Error {
                kind,
                status,
                retry_after,
            } => {
                let err = match (kind, user_id, status) {
                    (ErrorKind::TemporarilySuspended, Some(uid), None) => {
                        crate::errors::temporarily_suspended(uid, *retry_after)
                    }
                    _ => kind.response_with(*status, *retry_after),
                };
                self.note(
                    account,
                    err.status,
                    format!("behaviour:{id}:error:{kind}"),
                    None,
                );
                error_response(&err, &self.request_id)
            }
            Behaviour::Http {
                status,
                headers,
                body,
            } => {
                self.note(account, *status, format!("behaviour:{id}:http"), None);
                let mut b = Response::builder().status(*status);
                for (k, v) in headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.body(Body::from(body.clone()))
                    .unwrap_or_else(|_| plain(500, "bad scripted http response"))
            }
            Behaviour::Script { .. } => return None,
        };
        if delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        }
        Some(resp)
    }
}

fn header_pair(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(value).ok()?,
    ))
}

/// A catalogued error as an HTTP response, with `x-amzn-requestid`.
pub fn error_response(err: &UpstreamErrorResponse, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(err.body.clone()));
    *resp.status_mut() = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    for (k, v) in &err.headers {
        if let Some((k, v)) = header_pair(k, v) {
            h.append(k, v);
        }
    }
    if !request_id.is_empty() {
        if let Some((k, v)) = header_pair("x-amzn-requestid", request_id) {
            h.insert(k, v);
        }
    }
    resp
}

/// A JSON response with `x-amzn-requestid`.
pub fn json_response<T: Serialize>(status: u16, value: &T, request_id: &str) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(_) => return plain(500, "serialisation failed"),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some((k, v)) = header_pair("x-amzn-requestid", request_id) {
        h.insert(k, v);
    }
    resp
}

/// A plain-text response (simulator-internal problems and control-API errors).
pub fn plain(status: u16, text: &str) -> Response {
    let mut resp = Response::new(Body::from(text.to_owned()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}
