//! Keeping accounts alive: the quota cache (metering deducted at once, refreshed after use,
//! errors kept with the stale figure), exhaustion and the return after the reset, and the
//! keep-alive pass (refresh ahead of expiry, `needs_login` on a dead refresh token, and the
//! operator's reset).

#![cfg(test)]

pub mod pipeline_support;
pub mod pool_support;

use std::time::Duration;

use kiro_sim::{AccountKind, CreateAccount};
use pipeline_support::*;
use pool_support::*;
use serde_json::json;

fn usage_calls(h: &Harness) -> usize {
    h.upstream_log()
        .iter()
        .filter(|r| r.path == USAGE_PATH)
        .count()
}

#[tokio::test]
async fn metering_is_deducted_from_the_cached_quota_at_once() {
    let h = Harness::start_with(|c| c.pool.quota_after_use = Duration::from_secs(60)).await;
    let a = h.add_account().await;
    let v = view(&h, &a);
    let q = v.quota.figures.clone().unwrap();
    assert_eq!(
        (q.limit, v.quota.remaining, q.plan_title.as_deref()),
        (1000.0, Some(1000.0), Some("KIRO PRO"))
    );
    assert_eq!(q.email.as_deref(), Some(a.secrets.account.email.as_str()));
    assert_eq!(usage_calls(&h), 1, "fetched once, when the account arrived");

    // A folded reply metering 2.5 credits.
    h.script(json!({"credits": 2.5}));
    ok(&h).await;
    let v = view(&h, &a);
    assert_eq!(v.quota.remaining, Some(997.5));
    assert_eq!(v.quota.deducted_since_fetch, 2.5);
    assert_eq!(v.stats.credits, 2.5);

    // A streamed one metering 1.25: deducted when the reply ends.
    h.script(json!({"credits": 1.25}));
    let events = read_sse(h.anthropic(&anthropic_body(SONNET, "hi", true)).await).await;
    assert!(!check_anthropic_sse(&events));
    assert!(
        wait_for(Duration::from_secs(2), || view(&h, &a).quota.remaining
            == Some(996.25))
        .await,
        "{:?}",
        view(&h, &a).quota
    );
    assert_eq!(usage_calls(&h), 1, "no upstream call needed for that");
    assert_eq!(view(&h, &a).concurrency.in_flight, 0);
}

#[tokio::test]
async fn quota_is_refreshed_shortly_after_use_and_agrees_with_the_service() {
    let h = Harness::start_with(|c| c.pool.quota_after_use = Duration::from_millis(200)).await;
    let a = h.add_account().await;
    for _ in 0..3 {
        h.script(json!({"credits": 1.0}));
        ok(&h).await;
    }
    // Three replies within the delay share one refresh.
    assert!(wait_for(Duration::from_secs(3), || usage_calls(&h) == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(usage_calls(&h), 2);
    let v = view(&h, &a);
    assert_eq!(v.quota.remaining, Some(997.0), "the service's own figure");
    assert_eq!(v.quota.deducted_since_fetch, 0.0);
}

#[tokio::test]
async fn a_failed_quota_fetch_keeps_the_stale_figure_and_shows_the_error() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "internal_server", "path": USAGE_PATH,
        "count": 0}),
    );
    h.app.maintenance().refresh_quota(&a.id).await;
    let v = view(&h, &a);
    assert_eq!(v.quota.remaining, Some(1000.0), "stale but kept");
    assert!(
        v.quota
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("internal")
    );
    assert!(v.quota.last_error_at.is_some() && v.quota.age_secs.is_some());
    assert_eq!(v.state, "active", "a usage failure is no chat failure");
}

#[tokio::test]
async fn an_exhausted_account_is_verified_and_back_at_its_reset_date() {
    let h = Harness::start().await;
    let now = h.sim.state().clock().now_secs();
    // Out of credits, resetting in 2 s.
    let a = h
        .add(CreateAccount {
            kind: Some(AccountKind::Social),
            credits_used: Some(1000.0),
            next_date_reset: Some(now + 2),
            ..Default::default()
        })
        .await;
    let b = h.add_account().await;
    let v = view(&h, &a);
    assert_eq!(v.state, "exhausted");
    assert_eq!(v.exhausted.unwrap().reason, "quota_exhausted");
    for _ in 0..3 {
        ok(&h).await;
    }
    assert_eq!(served_ok(&h, &b), 3, "nothing for the exhausted account");
    // At the reset date the pool asks again (quota_interval is 10 min: this is the
    // reset-date check), sees a new period and takes the account back.
    assert!(wait_for(Duration::from_secs(5), || view(&h, &a).state == "active").await);
    assert_eq!(view(&h, &a).quota.remaining, Some(1000.0));
    for _ in 0..4 {
        ok(&h).await;
    }
    assert_eq!(served_ok(&h, &a), 2);
}

#[tokio::test]
async fn an_exhausted_account_returns_when_the_service_clock_passes_its_reset() {
    let h = Harness::start_with(|c| c.pool.quota_interval = Duration::from_millis(300)).await;
    let a = h
        .add(CreateAccount {
            kind: Some(AccountKind::Social),
            credits_used: Some(1000.0),
            ..Default::default()
        })
        .await;
    let b = h.add_account().await;
    assert_eq!(view(&h, &a).state, "exhausted");
    ok(&h).await;
    assert_eq!(served_ok(&h, &b), 1);
    // The service moves into its next month (its clock, not ours): the next poll shows a new
    // period with credits, and the account comes back well before our own idea of the date.
    h.sim.state().advance_clock(40 * 86_400);
    assert!(wait_for(Duration::from_secs(5), || view(&h, &a).state == "active").await);
    let mut served_a = 0;
    for _ in 0..4 {
        ok(&h).await;
        served_a = served_ok(&h, &a);
    }
    assert!(served_a >= 1, "{:?}", served_by(&h));
}

#[tokio::test]
async fn keepalive_pass_refreshes_expiring_tokens_and_flags_dead_ones() {
    let h = Harness::start().await;
    // Tokens living 650 s: past the 600 s refresh window, but inside window + pass interval.
    let short = || CreateAccount {
        kind: Some(AccountKind::Social),
        expires_in: Some(650),
        ..Default::default()
    };
    let expiring = h.add(short()).await;
    let revoked = h.add(short()).await;
    let fresh = h.add_account().await;
    h.sim.state().lock().revoke_refresh_tokens(&revoked.sim_id);
    let token_of = |a: &Acct| {
        h.app
            .pool
            .registry()
            .with(&a.id, |x| x.credentials.access_token.clone())
            .flatten()
            .unwrap()
    };
    let before = token_of(&expiring);

    let report = h.app.maintenance().keepalive_pass().await;
    assert_eq!(report.refreshed, vec![expiring.id.clone()]);
    assert_eq!(report.needs_login, vec![revoked.id.clone()]);
    assert!(report.transient.is_empty());
    assert_ne!(token_of(&expiring), before, "a new access token");
    let refreshes: Vec<_> = h
        .upstream_log()
        .into_iter()
        .filter(|r| r.path == "/refreshToken")
        .collect();
    assert_eq!(refreshes.len(), 2, "expiring + revoked; fresh untouched");
    assert_eq!(view(&h, &revoked).state, "needs_login");
    assert_eq!(view(&h, &fresh).state, "active");

    // Requests avoid the dead account.
    for _ in 0..4 {
        ok(&h).await;
    }
    assert_eq!(served_ok(&h, &revoked), 0);

    // The operator resets it (after a new login, say): the pool takes it back.
    assert!(
        wait_for(Duration::from_secs(3), || {
            h.app.pool.pending_statuses().is_empty()
        })
        .await
    );
    let stored = h.app.store.get_account(&revoked.id).await.unwrap().unwrap();
    assert_eq!(stored.status, "needs_login", "recorded for the operator");
    let resp = h
        .http
        .post(format!("{}/api/accounts/{}/reset", h.url, revoked.id))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        wait_for(Duration::from_secs(3), || view(&h, &revoked).state
            != "needs_login")
        .await,
        "reset clears the pool's state"
    );
}

#[tokio::test]
async fn operator_reset_clears_cooldown_and_circuit() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 600, "account": a.sim_id, "count": 0}),
    );
    for _ in 0..2 {
        ok(&h).await;
    }
    assert_eq!(view(&h, &a).state, "cooldown");
    // The status lands in the store before the operator looks.
    assert!(
        wait_for(Duration::from_secs(3), || {
            h.app.pool.pending_statuses().is_empty()
        })
        .await
    );
    let resp = h
        .http
        .post(format!("{}/api/accounts/{}/reset", h.url, a.id))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(wait_for(Duration::from_secs(3), || view(&h, &a).state == "active").await);
    assert_eq!(view(&h, &a).circuit.consecutive_failures, 0);
}

/// An account added without its profile ARN (IdC Enterprise from the IDE's token cache) gets
/// it from ListAvailableProfiles before its first quota fetch, which needs it (spec §3.6,
/// §3.8), and keeps it.
#[tokio::test]
async fn missing_profile_arn_is_resolved_and_kept() {
    let h = Harness::start().await;
    let arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ENTERPRISE1";
    let secrets = h
        .sim
        .state()
        .create_account(&CreateAccount {
            kind: Some(AccountKind::Idc),
            start_url: Some("https://d-1234567890.awsapps.com/start".into()),
            profile_arn: Some(Some(arn.into())),
            ..Default::default()
        })
        .unwrap();
    let resp = h
        .http
        .post(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "authMethod": "idc",
            "refreshToken": secrets.refresh_token,
            "accessToken": secrets.access_token,
            "expiresAt": secrets.expires_at,
            "clientId": secrets.client_id,
            "clientSecret": secrets.client_secret,
            "region": "us-east-1",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        wait_for(Duration::from_secs(5), || h
            .app
            .pool
            .view(&id)
            .is_some_and(|v| v.quota.fetched_at.is_some()))
        .await,
        "quota never fetched: {:?}",
        h.app.pool.view(&id)
    );
    let stored = h.app.store.get_account(&id).await.unwrap().unwrap();
    assert_eq!(stored.account.profile_arn.as_deref(), Some(arn));
    let usage = h
        .upstream_log()
        .into_iter()
        .filter(|r| r.path == USAGE_PATH && r.status == Some(200))
        .count();
    assert!(
        usage >= 1,
        "a successful getUsageLimits with the resolved ARN"
    );
}
