//! The id every request carries: taken from `x-request-id` when the client sent a sane one,
//! else generated; echoed as `request-id` and `x-request-id`.

use std::convert::Infallible;
use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};

#[derive(Debug, Clone)]
pub struct RequestId(String);

impl RequestId {
    pub fn generate() -> Self {
        RequestId(format!("req_{}", uuid::Uuid::new_v4().simple()))
    }

    fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 128
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            })
            .map_or_else(Self::generate, |v| RequestId(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the reply message (the dialect adds its `msg_` / `chatcmpl-` prefix).
    pub fn message_id(&self) -> String {
        self.0.strip_prefix("req_").unwrap_or(&self.0).to_owned()
    }

    /// Sets `request-id` and `x-request-id` on a response.
    pub fn stamp(&self, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&self.0) {
            headers.insert("request-id", v.clone());
            headers.insert("x-request-id", v);
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        // The id the trace middleware decided (and wrote into the headers) is in the
        // extensions: taking it from there skips the header lookup and check a second time.
        if let Some(rid) = parts.extensions.get::<RequestId>() {
            return Ok(rid.clone());
        }
        Ok(Self::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_sane_ids_and_replaces_others() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(RequestId::from_headers(&h).as_str(), "abc-123");
        h.insert(
            "x-request-id",
            HeaderValue::from_static("bad id with spaces"),
        );
        assert!(RequestId::from_headers(&h).as_str().starts_with("req_"));
        assert!(
            RequestId::from_headers(&HeaderMap::new())
                .as_str()
                .starts_with("req_")
        );
    }
}
