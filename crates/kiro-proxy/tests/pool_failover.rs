//! Each upstream failure kind against a pool of two or three simulator accounts: which account
//! served, how many upstream attempts the request made, the pool's state of each account
//! afterwards (`Pool::view`), and what the client saw.

#![cfg(test)]

pub mod pipeline_support;
pub mod pool_support;

use std::time::Duration;

use kiro_sim::{AccountKind, CreateAccount};
use pipeline_support::*;
use pool_support::*;
use serde_json::{Value, json};

/// Two accounts; the first chat attempt of one request meets `behaviour` (whichever account
/// the pool picked first: `x`), the rest is normal.
struct Scenario {
    h: Harness,
    /// The account whose attempt failed, and the other one.
    x: Acct,
    y: Acct,
    /// Chats of the request: (simulator account, status).
    log: Vec<(String, u16)>,
    status: u16,
    body: Value,
}

async fn scenario(behaviour: Value) -> Scenario {
    let h = Harness::start().await;
    let accts = vec![h.add_account().await, h.add_account().await];
    h.queue(behaviour);
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    let log = served_by(&h);
    let x = by_sim(&accts, &log[0].0).clone();
    let y = accts.iter().find(|a| a.id != x.id).unwrap().clone();
    Scenario {
        h,
        x,
        y,
        log,
        status,
        body,
    }
}

#[tokio::test]
async fn rate_limited_account_cools_down_and_the_other_serves() {
    let s = scenario(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 30}),
    )
    .await;
    assert_eq!(s.status, 200, "the client never saw the 429: {}", s.body);
    assert_eq!(
        s.log,
        vec![(s.x.sim_id.clone(), 429), (s.y.sim_id.clone(), 200)],
        "two attempts, switched accounts"
    );
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "cooldown");
    let cd = x.cooldown.unwrap();
    assert!((25..=30).contains(&cd.remaining_secs), "{cd:?}");
    assert_eq!(cd.reason, "rate_exceeded");
    assert_eq!(x.stats.failures.get("rate_exceeded"), Some(&1));
    assert_eq!(x.circuit.consecutive_failures, 1, "throttling counts");
    assert_eq!(x.concurrency.in_flight, 0, "the lease was released");
    let y = view(&s.h, &s.y);
    assert_eq!(
        (y.state, y.stats.requests, y.stats.successes),
        ("active", 1, 1)
    );
}

#[tokio::test]
async fn monthly_limit_exhausts_the_account_until_its_reset_date() {
    let s = scenario(json!({"type": "error", "kind": "monthly_request_count"})).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.log,
        vec![(s.x.sim_id.clone(), 402), (s.y.sim_id.clone(), 200)]
    );
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "exhausted");
    let ex = x.exhausted.unwrap();
    // Out until the reset date the account's quota reported (the simulator's next reset).
    let reset = s.x.secrets.account.next_date_reset;
    assert!((ex.until - reset).abs() <= 2, "{} vs {reset}", ex.until);
    assert_eq!(x.stats.failures.get("quota_exhausted"), Some(&1));
    assert_eq!(x.circuit.consecutive_failures, 0, "quota is not a fault");
    assert_eq!(
        x.quota.remaining,
        Some(0.0),
        "the cached quota follows the 402"
    );
    // Later requests never try it.
    let before = s.h.chats().len();
    ok(&s.h).await;
    ok(&s.h).await;
    assert!(
        served_since(&s.h, before)
            .iter()
            .all(|(a, _)| a == &s.y.sim_id)
    );
}

#[tokio::test]
async fn suspended_account_needs_login_without_a_refresh() {
    let s = scenario(json!({"type": "error", "kind": "temporarily_suspended"})).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.log,
        vec![(s.x.sim_id.clone(), 403), (s.y.sim_id.clone(), 200)]
    );
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "needs_login");
    assert_eq!(x.needs_login.as_deref(), Some("suspended"));
    assert!(
        !s.h.upstream_log().iter().any(|r| r.path == "/refreshToken"),
        "a refresh cannot unlock a suspension"
    );
    // The store records it, for the operator (and across restarts).
    assert!(
        wait_for(Duration::from_secs(3), || {
            s.h.app.pool.pending_statuses().is_empty()
        })
        .await
    );
    let rec = s.h.app.store.get_account(&s.x.id).await.unwrap().unwrap();
    assert_eq!(rec.status, "needs_login");
}

#[tokio::test]
async fn rejected_bearer_is_refreshed_and_retried_on_the_same_account() {
    let s = scenario(json!({"type": "error", "kind": "bearer_token_invalid"})).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.log,
        vec![(s.x.sim_id.clone(), 403), (s.x.sim_id.clone(), 200)],
        "same account after the refresh"
    );
    let refreshes =
        s.h.upstream_log()
            .iter()
            .filter(|r| r.path == "/refreshToken")
            .count();
    assert_eq!(refreshes, 1);
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "active");
    assert_eq!((x.stats.requests, x.stats.successes), (1, 1));
    assert!(
        x.stats.failures.is_empty(),
        "a first rejection is no failure"
    );
}

#[tokio::test]
async fn bearer_rejected_twice_on_an_api_key_account_needs_login() {
    let h = Harness::start().await;
    let secrets = h
        .sim
        .state()
        .create_account(&CreateAccount {
            kind: Some(AccountKind::ApiKey),
            ..Default::default()
        })
        .unwrap();
    let resp = h
        .http
        .post(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"authMethod": "apiKey", "apiKey": secrets.api_key}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let key_id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = Acct {
        id: key_id,
        sim_id: secrets.account.id.clone(),
        secrets,
    };
    assert!(wait_for(Duration::from_secs(5), || h.app.pool.len() == 1).await);
    let other = h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "bearer_token_invalid", "account": key.sim_id,
        "count": 0}),
    );
    // Requests until the key account was tried (the pool alternates).
    for _ in 0..2 {
        ok(&h).await;
    }
    let log = served_by(&h);
    let key_chats: Vec<&(String, u16)> = log.iter().filter(|(a, _)| a == &key.sim_id).collect();
    assert_eq!(key_chats.len(), 2, "one try and one retry: {log:?}");
    assert!(key_chats.iter().all(|(_, s)| *s == 403));
    let v = view(&h, &key);
    assert_eq!(v.state, "needs_login");
    assert!(
        !h.upstream_log().iter().any(|r| r.path == "/refreshToken"),
        "an API key is never refreshed"
    );
    assert_eq!(view(&h, &other).state, "active");
}

#[tokio::test]
async fn capacity_is_retried_without_any_penalty() {
    let s = scenario(json!({"type": "error", "kind": "insufficient_model_capacity"})).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.log.len(), 2, "{:?}", s.log);
    assert_eq!(s.log[0], (s.x.sim_id.clone(), 429));
    assert_eq!(s.log[1].1, 200);
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "active");
    assert_eq!(x.stats.failures.get("insufficient_capacity"), Some(&1));
    assert_eq!(
        x.circuit.consecutive_failures, 0,
        "fleet capacity is not the account's fault"
    );
}

#[tokio::test]
async fn server_error_is_retried_and_counts_toward_the_circuit() {
    let s = scenario(json!({"type": "error", "kind": "internal_server"})).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.log.len(), 2);
    assert_eq!(s.log[0], (s.x.sim_id.clone(), 500));
    assert_eq!(s.log[1].1, 200);
    let x = view(&s.h, &s.x);
    assert_eq!(x.state, "active", "one 5xx is no reason to stop using it");
    assert_eq!(x.stats.failures.get("internal"), Some(&1));
    assert_eq!(x.circuit.consecutive_failures, 1);
    assert_eq!(x.circuit.state, "closed");
}

#[tokio::test]
async fn network_cut_before_output_is_retried() {
    let s = scenario(
        json!({"type": "script", "script": {"parts": [{"type": "cut",
        "at": "headers"}]}}),
    )
    .await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.log.len(), 2);
    assert_eq!(s.log[1].1, 200);
    let x = view(&s.h, &s.x);
    assert_eq!(x.stats.failures.values().sum::<u64>(), 1, "{:?}", x.stats);
    assert_eq!(x.circuit.consecutive_failures, 1);
    assert_eq!(x.state, "active");
    assert_eq!(s.body["content"][0]["type"], "text");
}

#[tokio::test]
async fn empty_stream_is_a_transient_fault() {
    let s = scenario(json!({"type": "http", "status": 200,
        "headers": {"content-type": "application/vnd.amazon.eventstream"}, "body": ""}))
    .await;
    assert_eq!(s.status, 200);
    assert_eq!(s.log.len(), 2, "retried: {:?}", s.log);
    assert!(
        !s.body["content"].as_array().unwrap().is_empty(),
        "{}",
        s.body
    );
    let x = view(&s.h, &s.x);
    assert_eq!(x.stats.failures.get("empty_stream"), Some(&1));
}

#[tokio::test]
async fn three_accounts_two_throttled_the_third_serves_then_429_when_all_are() {
    let h = Harness::start().await;
    let accts = [
        h.add_account().await,
        h.add_account().await,
        h.add_account().await,
    ];
    h.queue(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 20, "count": 2}),
    );
    ok(&h).await;
    let log = served_by(&h);
    assert_eq!(log.len(), 3, "two 429s, then the third account: {log:?}");
    assert_eq!(log[2].1, 200);
    let states: Vec<&str> = accts.iter().map(|a| view(&h, a).state).collect();
    assert_eq!(states.iter().filter(|s| **s == "cooldown").count(), 2);

    // The last one throttled too: the client gets 429 with the earliest cooldown end.
    h.queue(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 5}),
    );
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "retry-after {retry}");
    assert_eq!(h.chats().len(), 4, "one attempt: nobody else was left");
}

#[tokio::test]
async fn persistent_transient_faults_stop_at_the_attempt_budget() {
    let h = Harness::start_with(|c| c.pool.failover_attempts = 2).await;
    h.add_account().await;
    h.add_account().await;
    h.queue(json!({"type": "error", "kind": "service_unavailable", "count": 0}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 529);
    assert_eq!(h.chats().len(), 2, "pool.failover_attempts = 2");
}

/// The admin API shows the pool's live state of every account: an account cooling down after a
/// 429 says so in `GET /api/accounts`.
#[tokio::test]
async fn account_list_shows_the_pools_live_state() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "service_request_rate_exceeded", "retry_after": 120, "count": 1}));
    let resp = h
        .anthropic(&anthropic_body("claude-sonnet-4.5", "hi", false))
        .await;
    assert_eq!(resp.status(), 429, "one account, throttled");
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
    let account = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == a.id.as_str())
        .unwrap();
    let pool = &account["pool"];
    assert!(pool.is_object(), "{account}");
    assert_eq!(pool["state"], "cooldown", "{pool}");
    // No secret of the account shows up next to its live state.
    let text = list.to_string();
    assert!(!text.contains(a.secrets.refresh_token.as_deref().unwrap()));
}

/// An operator's reset right after a throttle brings the account back at once: the answer
/// already shows it usable and the next request is served by it, even though the pool had not
/// yet stored the cooldown it was in.
#[tokio::test]
async fn a_reset_right_after_a_throttle_takes_effect_at_once() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "service_request_rate_exceeded", "retry_after": 300, "count": 1}));
    let resp = h
        .anthropic(&anthropic_body("claude-sonnet-4.5", "hi", false))
        .await;
    assert_eq!(resp.status(), 429, "one account, throttled");
    let view: Value = h
        .http
        .post(format!("{}/api/accounts/{}/reset", h.url, a.id))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["pool"]["state"], "active", "{view}");
    let resp = h
        .anthropic(&anthropic_body("claude-sonnet-4.5", "again", false))
        .await;
    assert_eq!(resp.status(), 200, "served right after the reset");
}
