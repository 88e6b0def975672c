//! Failover per spec §8.1 with several accounts: what each upstream failure does to the account
//! that caused it, which account serves instead, and what the client sees when none can. Every
//! attempt is one selection: N attempts ↔ N chat requests at the simulator.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod pipeline_support;

use std::time::{Duration, Instant};

use kiro_proxy::accounts::Unavailable;
use pipeline_support::*;
use serde_json::{Value, json};

const SONNET: &str = "claude-sonnet-4-5";

async fn ok_anthropic(h: &Harness) -> Value {
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Chat requests per simulator account, with their statuses.
fn served_by(h: &Harness) -> Vec<(String, u16)> {
    h.chats()
        .iter()
        .map(|r| (r.account.clone().unwrap_or_default(), r.status.unwrap_or(0)))
        .collect()
}

/// Queues `kind` for every request of account `a`, then sends requests until `a` was tried
/// (round robin reaches it within two); every request is served.
async fn fail_account(h: &Harness, a: &Acct, error: Value) {
    let mut behaviour = error;
    behaviour["account"] = json!(a.sim_id);
    behaviour["count"] = json!(0);
    h.queue(behaviour);
    for _ in 0..2 {
        ok_anthropic(h).await;
        if h.chats()
            .iter()
            .any(|r| r.account.as_deref() == Some(&a.sim_id))
        {
            return;
        }
    }
    panic!("account {} was never tried: {:?}", a.id, served_by(h));
}

#[tokio::test]
async fn rate_limited_account_cools_down_and_the_other_serves() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    fail_account(
        &h,
        &a,
        json!({"type": "error", "kind": "service_request_rate_exceeded", "retry_after": 30}),
    )
    .await;
    let log = served_by(&h);
    let hit = log.iter().position(|(acc, _)| acc == &a.sim_id).unwrap();
    assert_eq!(log[hit].1, 429);
    assert_eq!(
        log[hit + 1],
        (b.sim_id.clone(), 200),
        "B served right after A's 429"
    );
    match h.app.pool.state(&a.id) {
        Some(Unavailable::Cooldown { until, .. }) => {
            let left = until.saturating_duration_since(Instant::now());
            assert!(
                left > Duration::from_secs(20) && left <= Duration::from_secs(30),
                "{left:?}"
            );
        }
        other => panic!("A should cool down, is {other:?}"),
    }
    assert_eq!(h.app.pool.state(&b.id), None);

    // While A cools down, every request goes to B: one attempt each.
    let before = h.chats().len();
    for _ in 0..3 {
        ok_anthropic(&h).await;
    }
    let after = served_by(&h);
    assert_eq!(
        after.len(),
        before + 3,
        "one upstream request per client request"
    );
    assert!(
        after[before..]
            .iter()
            .all(|(acc, s)| acc == &b.sim_id && *s == 200),
        "{after:?}"
    );
}

#[tokio::test]
async fn monthly_quota_takes_the_account_out_until_reset() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    fail_account(
        &h,
        &a,
        json!({"type": "error", "kind": "monthly_request_count"}),
    )
    .await;
    match h.app.pool.state(&a.id) {
        Some(Unavailable::Exhausted { until, .. }) => {
            assert!(until.saturating_duration_since(Instant::now()) >= Duration::from_secs(60));
        }
        other => panic!("A should be exhausted, is {other:?}"),
    }
    let before = h.chats().len();
    ok_anthropic(&h).await;
    ok_anthropic(&h).await;
    assert!(
        served_by(&h)[before..]
            .iter()
            .all(|(acc, _)| acc == &b.sim_id)
    );
}

#[tokio::test]
async fn real_quota_exhaustion_at_the_simulator_switches_accounts() {
    let h = Harness::start().await;
    let a = h
        .add(kiro_sim::CreateAccount {
            kind: Some(kiro_sim::AccountKind::Social),
            credit_limit: Some(1.0),
            credits_used: Some(1.0),
            ..Default::default()
        })
        .await;
    let b = h.add_account().await;
    for _ in 0..3 {
        ok_anthropic(&h).await;
    }
    // The pool learnt from getUsageLimits that A has no credits left: A is never tried.
    let log = served_by(&h);
    assert_eq!(
        log.iter().filter(|(acc, _)| acc == &a.sim_id).count(),
        0,
        "{log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|(acc, s)| acc == &b.sim_id && *s == 200)
            .count(),
        3
    );
    assert!(matches!(
        h.app.pool.state(&a.id),
        Some(Unavailable::Exhausted { .. })
    ));
}

#[tokio::test]
async fn suspended_account_needs_login_and_readiness_holds_with_another() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    h.sim
        .state()
        .patch_account(
            &a.sim_id,
            &kiro_sim::accounts::PatchAccount {
                suspended: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    for _ in 0..2 {
        ok_anthropic(&h).await;
    }
    let log = served_by(&h);
    assert!(log.contains(&(a.sim_id.clone(), 403)), "{log:?}");
    assert!(matches!(
        h.app.pool.state(&a.id),
        Some(Unavailable::NeedsLogin { .. })
    ));
    assert_eq!(h.app.pool.state(&b.id), None);
    // No refresh was attempted for a suspension (refresh cannot unlock it).
    assert!(!h.upstream_log().iter().any(|r| r.path == "/refreshToken"));

    let ready = h.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["usableAccounts"], 1);
}

#[tokio::test]
async fn rejected_bearer_is_refreshed_once_and_retried_on_the_same_account() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    // The access token the proxy holds stops working (spec §8.2: 403 bearer-invalid).
    let now = h.sim.state().clock().now_ms();
    h.sim.state().lock().expire_access_tokens(&a.sim_id, now);
    let reply = ok_anthropic(&h).await;
    assert_eq!(reply["type"], "message");

    let log = h.upstream_log_without_quota();
    let paths: Vec<(&str, Option<u16>)> = log.iter().map(|r| (r.path.as_str(), r.status)).collect();
    assert_eq!(
        paths,
        vec![
            (CHAT_PATH, Some(403)),
            ("/refreshToken", Some(200)),
            (CHAT_PATH, Some(200))
        ],
        "{log:?}"
    );
    let (first, second) = (&log[0], &log[2]);
    assert_ne!(
        bearer(first),
        bearer(second),
        "the retry uses the new token"
    );
    assert_eq!(
        h.app.pool.state(&a.id),
        None,
        "a refresh that worked is no failure"
    );
}

#[tokio::test]
async fn bearer_rejected_again_after_refresh_disables_the_account() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "bearer_token_invalid", "account": a.sim_id, "count": 0}),
    );
    for _ in 0..2 {
        ok_anthropic(&h).await;
    }
    let log = h.upstream_log();
    let a_chats = log
        .iter()
        .filter(|r| r.path == CHAT_PATH && r.account.as_deref() == Some(&a.sim_id))
        .count();
    assert_eq!(a_chats, 2, "one try, one retry after the refresh");
    assert_eq!(log.iter().filter(|r| r.path == "/refreshToken").count(), 1);
    assert!(matches!(
        h.app.pool.state(&a.id),
        Some(Unavailable::NeedsLogin { .. })
    ));
    assert_eq!(h.app.pool.state(&b.id), None);
}

#[tokio::test]
async fn insufficient_capacity_is_retried_without_penalty() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "insufficient_model_capacity", "count": 1}));
    let started = Instant::now();
    ok_anthropic(&h).await;
    let took = started.elapsed();
    let log = served_by(&h);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].1, 429);
    assert_eq!(log[1].1, 200);
    assert!(
        took >= Duration::from_millis(100),
        "retried after a backoff ({took:?})"
    );
    assert_eq!(h.app.pool.state(&a.id), None);
    assert_eq!(h.app.pool.state(&b.id), None);
}

#[tokio::test]
async fn capacity_errors_that_persist_end_in_overloaded_after_the_budget() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "insufficient_model_capacity", "count": 0}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 529);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert_eq!(
        h.chats().len(),
        4,
        "four attempts in all (pool.failover_attempts)"
    );
    assert_eq!(
        h.app.pool.state(&a.id),
        None,
        "capacity is not the account's fault"
    );
}

#[tokio::test]
async fn all_accounts_rate_limited_gives_429_with_retry_after() {
    let h = Harness::start().await;
    h.add_account().await;
    h.add_account().await;
    h.queue(json!({"type": "error", "kind": "service_request_rate_exceeded", "retry_after": 7, "count": 0}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=7).contains(&retry), "retry-after {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(h.chats().len(), 2, "each account tried once");

    // OpenAI: both accounts are cooling down, so no upstream request at all.
    let resp = h.openai(&openai_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(h.chats().len(), 2);
}

#[tokio::test]
async fn every_account_needing_login_gives_529_and_503() {
    let h = Harness::start().await;
    h.add_account().await;
    h.add_account().await;
    h.queue(json!({"type": "error", "kind": "temporarily_suspended", "count": 0}));
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 529);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert_eq!(h.chats().len(), 2);

    let resp = h.openai(&openai_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(h.chats().len(), 2, "no account left to try");
    let ready = h.get("/readyz").await;
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn no_accounts_tells_the_operator_how_to_add_one() {
    let h = Harness::start().await;
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 529);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /api/accounts"),
        "{body}"
    );

    let resp = h.openai(&openai_body(SONNET, "hi", true)).await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /api/accounts"),
        "{body}"
    );
    assert!(h.chats().is_empty());

    let ready = h.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("POST /api/accounts")
    );
}

#[tokio::test]
async fn one_selection_per_attempt_spreads_over_accounts() {
    let h = Harness::start().await;
    let accts = [
        h.add_account().await,
        h.add_account().await,
        h.add_account().await,
    ];
    for _ in 0..6 {
        ok_anthropic(&h).await;
    }
    let log = served_by(&h);
    assert_eq!(log.len(), 6);
    for a in &accts {
        let n = log.iter().filter(|(acc, _)| acc == &a.sim_id).count();
        assert_eq!(n, 2, "round robin: {log:?}");
    }
}

#[tokio::test]
async fn suspicious_activity_cools_down_for_long() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.add_account().await;
    fail_account(
        &h,
        &a,
        json!({"type": "error", "kind": "suspicious_activity"}),
    )
    .await;
    match h.app.pool.state(&a.id) {
        Some(Unavailable::Cooldown { until, .. }) => assert!(
            until.saturating_duration_since(Instant::now()) >= Duration::from_secs(590),
            "a long cooldown"
        ),
        other => panic!("A should cool down, is {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_retried_without_penalty() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "internal_server", "count": 1}));
    h.queue(json!({"type": "error", "kind": "service_unavailable", "count": 1}));
    let reply = ok_anthropic(&h).await;
    assert_eq!(reply["stop_reason"], "end_turn");
    let log = served_by(&h);
    assert_eq!(
        log.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        vec![500, 503, 200]
    );
    assert_eq!(h.app.pool.state(&a.id), None);
}

#[tokio::test]
async fn model_unavailable_to_one_account_is_tried_on_another_without_penalty() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    fail_account(&h, &a, json!({"type": "error", "kind": "invalid_model_id"})).await;
    assert_eq!(h.app.pool.state(&a.id), None);
    assert_eq!(h.app.pool.state(&b.id), None);
    let log = served_by(&h);
    let hit = log.iter().position(|(acc, _)| acc == &a.sim_id).unwrap();
    assert_eq!(log[hit].1, 400);
    assert_eq!(log[hit + 1], (b.sim_id.clone(), 200));
}

#[tokio::test]
async fn expired_access_token_is_refreshed_before_use() {
    let h = Harness::start().await;
    let s = h
        .sim
        .state()
        .create_account(&kiro_sim::CreateAccount {
            kind: Some(kiro_sim::AccountKind::Social),
            ..Default::default()
        })
        .unwrap();
    let now = h.sim.state().clock().now_ms();
    h.sim
        .state()
        .lock()
        .expire_access_tokens(&s.account.id, now);
    let body = json!({
        "authMethod": "social",
        "refreshToken": s.refresh_token,
        "accessToken": s.access_token,
        "expiresAt": now / 1000 - 10,
        "profileArn": s.account.profile_arn,
    });
    let resp = h
        .http
        .post(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(eventually(Duration::from_secs(5), || h.app.pool.len() == 1).await);
    ok_anthropic(&h).await;
    let log = h.upstream_log_without_quota();
    let paths: Vec<(&str, Option<u16>)> = log.iter().map(|r| (r.path.as_str(), r.status)).collect();
    assert_eq!(
        paths,
        vec![("/refreshToken", Some(200)), (CHAT_PATH, Some(200))],
        "{log:?}"
    );
    assert_ne!(
        bearer(&log[1]),
        format!("Bearer {}", s.access_token.unwrap())
    );
    assert_eq!(h.app.pool.state(&id), None);
}

#[tokio::test]
async fn dead_refresh_token_takes_the_account_out_and_another_serves() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    let now = h.sim.state().clock().now_ms();
    {
        let mut sim = h.sim.state().lock();
        sim.expire_access_tokens(&a.sim_id, now);
        sim.revoke_refresh_tokens(&a.sim_id);
    }
    for _ in 0..2 {
        ok_anthropic(&h).await;
    }
    assert!(matches!(
        h.app.pool.state(&a.id),
        Some(Unavailable::NeedsLogin { .. })
    ));
    assert_eq!(h.app.pool.state(&b.id), None);
    let log = h.upstream_log();
    assert_eq!(
        log.iter().filter(|r| r.path == "/refreshToken").count(),
        1,
        "{log:?}"
    );
    // Later requests leave A alone.
    let before = h.chats().len();
    ok_anthropic(&h).await;
    ok_anthropic(&h).await;
    assert!(
        served_by(&h)[before..]
            .iter()
            .all(|(acc, _)| acc == &b.sim_id)
    );
}
