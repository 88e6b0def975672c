//! `POST /api/accounts/{id}/refresh`: the token refreshed and the quota fetched now, through the
//! running pool; 404 for an unknown id; an upstream refusal answers 502 with its reason and
//! leaves the account as the pool would (a dead refresh token: `needs_login`).
#![cfg(test)]

pub mod pipeline_support;

use std::time::Duration;

use pipeline_support::*;
use serde_json::{Value, json};

async fn refresh(h: &Harness, id: &str) -> (u16, Value) {
    let resp = h
        .http
        .post(format!("{}/api/accounts/{id}/refresh", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn count(h: &Harness, path: &str) -> usize {
    h.upstream_log().iter().filter(|r| r.path == path).count()
}

#[tokio::test]
async fn refreshes_the_token_and_the_quota_now() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let before = h.app.tokens.registry().get(&a.id).unwrap();
    let (refreshes, quotas) = (count(&h, "/refreshToken"), count(&h, USAGE_PATH));

    let (status, view) = refresh(&h, &a.id).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["id"], a.id.as_str());
    // The token looked valid for an hour: refreshed anyway, once, and the quota fetched after.
    assert_eq!(count(&h, "/refreshToken"), refreshes + 1);
    assert_eq!(count(&h, USAGE_PATH), quotas + 1);
    let after = h.app.tokens.registry().get(&a.id).unwrap();
    assert_ne!(
        after.credentials.access_token, before.credentials.access_token,
        "a new access token is in use"
    );
    // The view shows the saved expiry and the pool's fresh quota.
    assert_eq!(
        view["accessTokenExpiresAt"].as_i64(),
        after.credentials.expires_at
    );
    assert_eq!(view["pool"]["state"], "active");
    assert!(view["pool"]["quota"]["fetchedAt"].is_i64(), "{view}");
    assert!(view["pool"]["quota"]["lastError"].is_null(), "{view}");
    assert!(view["pool"]["quota"]["limit"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn an_unknown_account_is_404() {
    let h = Harness::start().await;
    let (status, body) = refresh(&h, "no-such-account").await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-account")
    );
    assert_eq!(count(&h, "/refreshToken"), 0);
}

#[tokio::test]
async fn an_upstream_refusal_is_502_with_its_reason_and_marks_the_account() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "social_invalid_refresh_token",
                   "path": "/refreshToken", "account": a.sim_id}),
    );

    let (status, body) = refresh(&h, &a.id).await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("invalid_refresh_token"), "{message}");
    assert!(
        message.contains("Invalid refresh token provided"),
        "{message}"
    );
    // As the keep-alive pass would: a dead refresh token needs an operator.
    assert!(h.app.pool.is_needs_login(&a.id));
    let list: Value = h
        .http
        .get(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let view = &list["accounts"][0];
    assert_eq!(view["pool"]["state"], "needs_login");
    assert!(
        view["pool"]["needsLogin"]
            .as_str()
            .unwrap()
            .contains("invalid_refresh_token")
    );
    // The stored status follows (written in the background).
    let store = h.app.store.clone();
    let id = a.id.clone();
    let mut persisted = false;
    for _ in 0..200 {
        let row = store.get_account(&id).await.unwrap().unwrap();
        if row.status == "needs_login" {
            persisted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(persisted, "the needs_login status was never stored");
}

#[tokio::test]
async fn a_failed_quota_fetch_is_502_and_kept_as_the_quota_error() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "internal_server",
                   "path": USAGE_PATH, "account": a.sim_id}));
    let (status, body) = refresh(&h, &a.id).await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("quota"), "{message}");
    let view = h.app.pool.view(&a.id).unwrap();
    assert!(view.quota.last_error.is_some());
    // The token refresh itself went through; the account stays usable.
    assert_eq!(view.state, "active");
}

#[tokio::test]
async fn refresh_all_refreshes_every_enabled_account_and_reports_failures() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    let off = h.add_account().await;
    let resp = h
        .http
        .post(format!("{}/api/accounts/{}/disable", h.url, off.id))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The second account's refresh token is dead.
    h.queue(
        json!({"type": "error", "kind": "social_invalid_refresh_token",
                   "path": "/refreshToken", "account": b.sim_id}),
    );
    let before = count(&h, "/refreshToken");

    let resp = h
        .http
        .post(format!("{}/api/accounts/refresh-all", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let refreshed: Vec<&str> = body["refreshed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(refreshed, [a.id.as_str()], "{body}");
    let failed = body["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{body}");
    assert_eq!(failed[0]["account"], b.id.as_str());
    assert_eq!(failed[0]["status"], 502);
    // The disabled account was left alone: two refreshes, not three.
    assert_eq!(count(&h, "/refreshToken"), before + 2);
}

#[tokio::test]
async fn a_tripped_account_is_skipped_until_its_circuit_closes() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    let resp = h
        .http
        .post(format!("{}/api/accounts/{}/trip", h.url, a.id))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let view: Value = resp.json().await.unwrap();
    assert_eq!(view["pool"]["state"], "circuit_open", "{view}");
    for i in 0..4 {
        let resp = h
            .anthropic(&anthropic_body(
                "claude-sonnet-4.5",
                &format!("q{i}"),
                false,
            ))
            .await;
        assert_eq!(resp.status(), 200);
    }
    let served: Vec<Option<String>> = h.chats().iter().map(|r| r.account.clone()).collect();
    assert_eq!(served.len(), 4);
    assert!(
        served
            .iter()
            .all(|s| s.as_deref() == Some(b.sim_id.as_str())),
        "every request went to the other account: {served:?}"
    );
    let unknown = h
        .http
        .post(format!("{}/api/accounts/nope/trip", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
