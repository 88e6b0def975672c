//! Console sessions: the web console logs in once with the admin token and then uses a cookie.
//!
//! `POST /api/session` `{"token"}` checks the admin token and answers with a `kp_session` cookie:
//! 256 random bits, `HttpOnly` (no script can read it), `SameSite=Strict` (no other site can make
//! the browser send it), `Path=/api`, `Secure` when the page came over HTTPS. The server keeps
//! only the SHA-256 of each session id with its expiry, in memory: logging out revokes it at once,
//! and a restart logs everyone out. Sessions last [`SESSION_TTL`] from login.
//!
//! A request authenticated by the cookie that changes something (any method but `GET`/`HEAD`)
//! must also carry `x-kiro-console: 1`. A cross-site page cannot add that header without a CORS
//! preflight, which this server never grants, so the header is a second wall behind SameSite.
//!
//! Wrong tokens are counted per client address (the socket peer, or the client a trusted proxy
//! names in `X-Forwarded-For`, as for the traffic limits): after [`MAX_FAILURES`] in a minute,
//! logins from that address are refused with 429 and `retry-after` until the minute is over.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AdminState;
use super::error::ApiError;
use crate::crypto::{hash_secret_bytes, random_base62};

/// The cookie's name.
pub const COOKIE: &str = "kp_session";
/// The header a cookie-authenticated change must carry.
pub const CONSOLE_HEADER: &str = "x-kiro-console";
/// How long a session lasts from login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Wrong tokens allowed per client address and minute.
pub const MAX_FAILURES: u32 = 10;
/// Sessions kept at most; the oldest goes first.
const MAX_SESSIONS: usize = 1024;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The live sessions and the recent failed logins.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<[u8; 32], Instant>>,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Sessions {
    /// A new session; returns its id (the cookie value) and its expiry.
    fn open(&self) -> (String, Instant) {
        let id = random_base62(43);
        let expires = Instant::now() + SESSION_TTL;
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        live.retain(|_, exp| *exp > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, exp)| **exp).map(|(k, _)| *k)
        {
            live.remove(&oldest);
        }
        live.insert(hash_secret_bytes(&id), expires);
        (id, expires)
    }

    /// The expiry of the session `id`, if it is live.
    fn check(&self, id: &str) -> Option<Instant> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.get(&hash_secret_bytes(id))
            .copied()
            .filter(|exp| *exp > Instant::now())
    }

    fn close(&self, id: &str) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.remove(&hash_secret_bytes(id));
    }

    /// Seconds until `ip` may try again, when it is over the failure limit.
    fn blocked_for(&self, ip: IpAddr) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (start, count) = failures.get(&ip)?;
        let elapsed = start.elapsed();
        (elapsed < FAILURE_WINDOW && *count >= MAX_FAILURES)
            .then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    fn failed(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 4096 {
            failures.retain(|_, (start, _)| start.elapsed() < FAILURE_WINDOW);
        }
        let entry = failures.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

/// The session id in the request's cookies, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// What the cookie of a request says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieAuth {
    /// No session cookie.
    Absent,
    /// A cookie that names no live session.
    Invalid,
    /// A live session, but a change without the console header.
    MissingHeader,
    /// A live session.
    Valid,
}

/// Checks the session cookie of a request to a protected route.
pub fn check_request(state: &AdminState, method: &Method, headers: &HeaderMap) -> CookieAuth {
    let Some(id) = cookie_value(headers) else {
        return CookieAuth::Absent;
    };
    if state.inner.sessions.check(id).is_none() {
        return CookieAuth::Invalid;
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    if !safe && headers.get(CONSOLE_HEADER).is_none() {
        return CookieAuth::MissingHeader;
    }
    CookieAuth::Valid
}

fn unix_after(d: Duration) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or(0);
    now + d.as_secs()
}

fn over_https(headers: &HeaderMap) -> bool {
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"));
    proto || origin
}

fn set_cookie(value: &str, max_age: u64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/api; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// `GET /api/session`: `{"authenticated", "expiresAt"?}` (no token needed).
pub(super) async fn status(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    let expires = cookie_value(&headers).and_then(|id| state.inner.sessions.check(id));
    let mut response = match expires {
        Some(exp) => Json(json!({
            "authenticated": true,
            "expiresAt": unix_after(exp.saturating_duration_since(Instant::now())),
        }))
        .into_response(),
        None => Json(json!({ "authenticated": false })).into_response(),
    };
    no_store(&mut response);
    response
}

/// `POST /api/session` `{"token"}`: opens a session and sets its cookie.
pub(super) async fn login(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sessions = &state.inner.sessions;
    // Behind a trusted reverse proxy, the client it names (as the traffic limits see it), so
    // one client's guesses do not lock out everyone behind that proxy.
    let client = state
        .limits()
        .map_or(peer.ip(), |l| l.client_ip(peer.ip(), &headers));
    if let Some(wait) = sessions.blocked_for(client) {
        let mut response = ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("too many wrong admin tokens from this address; retry in {wait} s"),
        }
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_owned));
    let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
        return ApiError::bad_request("send {\"token\": \"<admin token>\"}").into_response();
    };
    if !state.inner.token.verify(token.trim()) {
        sessions.failed(client);
        tracing::warn!(%client, "console login with a wrong admin token");
        return ApiError::unauthorized("wrong admin token").into_response();
    }
    let (id, _) = sessions.open();
    let mut response = (
        StatusCode::OK,
        Json(json!({ "authenticated": true, "expiresAt": unix_after(SESSION_TTL) })),
    )
        .into_response();
    if let Some(cookie) = set_cookie(&id, SESSION_TTL.as_secs(), over_https(&headers)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    no_store(&mut response);
    response
}

/// `DELETE /api/session`: ends the session (revoked at once) and clears the cookie.
pub(super) async fn logout(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_value(&headers) {
        state.inner.sessions.close(id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = set_cookie("", 0, over_https(&headers)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; kp_session=abc ; b=2"),
        );
        assert_eq!(cookie_value(&h), Some("abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("kp_session="));
        assert_eq!(cookie_value(&h), None);
    }

    #[test]
    fn sessions_open_check_and_close() {
        let s = Sessions::default();
        let (id, _) = s.open();
        assert!(s.check(&id).is_some());
        assert!(s.check("something-else").is_none());
        s.close(&id);
        assert!(s.check(&id).is_none());
    }

    #[test]
    fn wrong_tokens_are_limited_per_address() {
        let s = Sessions::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..MAX_FAILURES {
            assert!(s.blocked_for(a).is_none());
            s.failed(a);
        }
        let wait = s.blocked_for(a);
        assert!(matches!(wait, Some(1..=60)), "{wait:?}");
        assert!(s.blocked_for(b).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let v = set_cookie("x", 60, true).map(|v| v.to_str().map(str::to_owned));
        let Some(Ok(v)) = v else { panic!("no cookie") };
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/api",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
    }
}
