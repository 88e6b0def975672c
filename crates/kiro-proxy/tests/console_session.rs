//! The web console's serving and its session: the page and its security headers, login with the
//! admin token, the cookie authenticating admin calls, the CSRF header, logout, lockout after
//! repeated wrong tokens, and the base URL still answering API clients with JSON.

#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::{ADMIN_TOKEN, Harness};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login(h: &Harness, token: &str) -> reqwest::Response {
    h.http
        .post(format!("{}/api/session", h.url))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

/// `method path` with the cookie `cookie` (and the console header when `console` is set).
async fn with_cookie(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    console: bool,
    body: Option<Value>,
) -> StatusCode {
    let mut req = h
        .http
        .request(method, format!("{}{path}", h.url))
        .header("cookie", cookie);
    if console {
        req = req.header("x-kiro-console", "1");
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap().status()
}

fn session_cookie(resp: &reqwest::Response) -> String {
    let set = resp
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/api"] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn browsers_get_the_page_with_a_strict_policy_and_clients_get_json() {
    let h = Harness::start().await;
    let page = h
        .http
        .get(format!("{}/", h.url))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("/ui/app.js"));

    let script = h
        .http
        .get(format!("{}/ui/app.js", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = script.headers()["etag"].clone();
    let again = h
        .http
        .get(format!("{}/ui/app.js", h.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let missing = h
        .http
        .get(format!("{}/ui/../Cargo.toml", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let json: Value = h
        .http
        .get(format!("{}/", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["status"], "ok");
}

#[tokio::test]
async fn the_session_cookie_authenticates_until_logout() {
    let h = Harness::start().await;
    let status: Value = h
        .http
        .get(format!("{}/api/session", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["authenticated"], false);

    let wrong = login(&h, "not-the-token").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());

    let ok = login(&h, ADMIN_TOKEN).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = session_cookie(&ok);

    use reqwest::Method;
    let accounts = with_cookie(&h, Method::GET, "/api/accounts", &cookie, false, None).await;
    assert_eq!(accounts, StatusCode::OK);

    // A change through the cookie alone is refused: a cross-site form cannot add the header.
    let mapping = Some(json!({ "mapping": {} }));
    let csrf = with_cookie(
        &h,
        Method::PUT,
        "/api/model-mapping",
        &cookie,
        false,
        mapping.clone(),
    );
    assert_eq!(csrf.await, StatusCode::FORBIDDEN);
    let change = with_cookie(
        &h,
        Method::PUT,
        "/api/model-mapping",
        &cookie,
        true,
        mapping,
    );
    assert_eq!(change.await, StatusCode::OK);

    let out = with_cookie(&h, Method::DELETE, "/api/session", &cookie, false, None).await;
    assert_eq!(out, StatusCode::NO_CONTENT);
    let after = with_cookie(&h, Method::GET, "/api/accounts", &cookie, false, None).await;
    assert_eq!(after, StatusCode::UNAUTHORIZED, "logout revokes");
    // A made-up cookie is no better.
    let forged = "kp_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let forged = with_cookie(&h, Method::GET, "/api/accounts", forged, false, None).await;
    assert_eq!(forged, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_wrong_tokens_are_locked_out_with_retry_after() {
    let h = Harness::start().await;
    for _ in 0..10 {
        assert_eq!(login(&h, "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = login(&h, ADMIN_TOKEN).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The Bearer token keeps working for scripts meanwhile.
    let bearer = h
        .http
        .get(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_lockout_is_per_forwarded_client() {
    let h = Harness::start_with(|c| {
        c.traffic.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let login_from = |ip: &'static str, token: &'static str| {
        h.http
            .post(format!("{}/api/session", h.url))
            .header("x-forwarded-for", ip)
            .json(&json!({ "token": token }))
            .send()
    };
    for _ in 0..10 {
        let r = login_from("203.0.113.7", "guess").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = login_from("203.0.113.7", ADMIN_TOKEN).await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out by the first one's guesses.
    let other = login_from("198.51.100.9", ADMIN_TOKEN).await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}
