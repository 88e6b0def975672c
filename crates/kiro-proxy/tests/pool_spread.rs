//! How the pool spreads load: evenly over equal accounts, in proportion to remaining quota,
//! never past an account's concurrency cap, and with client sessions kept on one account.

#![cfg(test)]

pub mod pipeline_support;
pub mod pool_support;

use std::time::Duration;

use kiro_sim::{AccountKind, CreateAccount};
use pipeline_support::*;
use pool_support::*;
use serde_json::json;

/// Tolerance of the even spread: each of 3 equal accounts gets 100 ± 20 of 300 requests. (The
/// smooth weighted round robin keeps it within ±1; quota deductions of 0.013 credits per reply
/// barely move the weights.)
const EVEN_TOLERANCE: usize = 20;

#[tokio::test]
async fn three_equal_accounts_share_300_requests_evenly() {
    let h = Harness::start().await;
    let accts = vec![
        h.add_account().await,
        h.add_account().await,
        h.add_account().await,
    ];
    for _ in 0..300 {
        ok(&h).await;
    }
    assert_eq!(h.chats().len(), 300, "one attempt per request");
    for a in &accts {
        let n = served_ok(&h, a);
        assert!(
            n.abs_diff(100) <= EVEN_TOLERANCE,
            "{} served {n} of 300",
            a.sim_id
        );
        let v = view(&h, a);
        assert_eq!(
            v.stats.requests as usize, n,
            "statistics charged to the server"
        );
        assert_eq!(v.stats.successes as usize, n);
    }
}

#[tokio::test]
async fn an_account_with_a_tenth_of_the_quota_gets_a_tenth_of_the_share() {
    let h = Harness::start().await;
    // Pro plans (1,000 credits): `low` has 100 left, the others 1,000.
    let low = h
        .add(CreateAccount {
            kind: Some(AccountKind::Social),
            credits_used: Some(900.0),
            ..Default::default()
        })
        .await;
    let full = [h.add_account().await, h.add_account().await];
    assert_eq!(view(&h, &low).quota.remaining, Some(100.0));
    for _ in 0..210 {
        ok(&h).await;
    }
    // Expected shares: 100/2100 ≈ 4.8 % (10 of 210) and 1000/2100 each (100 of 210).
    // Tolerance: `low` 5–15, the others 100 ± 10.
    let n_low = served_ok(&h, &low);
    assert!(
        (5..=15).contains(&n_low),
        "low-quota account served {n_low}"
    );
    for a in &full {
        let n = served_ok(&h, a);
        assert!(n.abs_diff(100) <= 10, "{} served {n}", a.sim_id);
    }
}

#[tokio::test]
async fn concurrency_cap_never_overlaps_requests_on_one_account() {
    let h = Harness::start_with(|c| c.pool.max_concurrency = 1).await;
    let accts = vec![h.add_account().await, h.add_account().await];
    // Every chat takes ≥ 300 ms (a slow first event).
    h.queue(json!({"type": "script", "script": {"pace": {"first_event_ms": 300}}, "count": 0}));
    let sampler = {
        let app = h.app.clone();
        let ids: Vec<String> = accts.iter().map(|a| a.id.clone()).collect();
        tokio::spawn(async move {
            let mut peak = 0;
            for _ in 0..150 {
                for id in &ids {
                    peak = peak.max(app.pool.view(id).unwrap().concurrency.in_flight);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak
        })
    };
    let requests = (0..4).map(|_| ok(&h));
    let replies = futures::future::join_all(requests).await;
    assert_eq!(
        replies.len(),
        4,
        "all four served (two waited for a free slot)"
    );
    assert!(sampler.await.unwrap() <= 1, "in flight per account ≤ 1");
    // At the simulator: two chats per account, the second starting after the first ended.
    let chats = h.chats();
    assert_eq!(chats.len(), 4);
    for a in &accts {
        let mut starts: Vec<i64> = chats
            .iter()
            .filter(|r| r.account.as_deref() == Some(&a.sim_id))
            .map(|r| r.at_ms)
            .collect();
        starts.sort_unstable();
        assert_eq!(starts.len(), 2, "{}: {starts:?}", a.sim_id);
        assert!(
            starts[1] - starts[0] >= 290,
            "overlap on {}: {starts:?}",
            a.sim_id
        );
    }
}

#[tokio::test]
async fn a_session_sticks_to_its_account_and_moves_when_it_cools_down() {
    let h = Harness::start().await;
    let accts = vec![
        h.add_account().await,
        h.add_account().await,
        h.add_account().await,
    ];
    let session = "279dd0d5-2c0f-45f2-a319-95f1e8dce482";
    for _ in 0..6 {
        ok_in_session(&h, session).await;
    }
    let log = served_by(&h);
    let home = log[0].0.clone();
    assert!(log.iter().all(|(a, _)| *a == home), "sticky: {log:?}");
    // Other traffic still spreads over the other accounts meanwhile.
    let before = h.chats().len();
    for _ in 0..6 {
        ok(&h).await;
    }
    let others: Vec<_> = served_since(&h, before);
    assert!(others.iter().any(|(a, _)| *a != home), "{others:?}");

    // The home account is throttled: the session moves, and stays on its new account.
    h.queue(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 30, "account": home}),
    );
    let before = h.chats().len();
    for _ in 0..4 {
        ok_in_session(&h, session).await;
    }
    let moved = served_since(&h, before);
    assert_eq!(moved[0], (home.clone(), 429));
    let new_home = moved[1].0.clone();
    assert_ne!(new_home, home);
    assert!(
        moved[1..].iter().all(|(a, s)| *a == new_home && *s == 200),
        "{moved:?}"
    );
    assert_eq!(view(&h, by_sim(&accts, &home)).state, "cooldown");
}

#[tokio::test]
async fn stickiness_can_be_turned_off() {
    let h = Harness::start_with(|c| c.pool.sticky_sessions = false).await;
    h.add_account().await;
    h.add_account().await;
    for _ in 0..4 {
        ok_in_session(&h, "279dd0d5-2c0f-45f2-a319-95f1e8dce482").await;
    }
    let log = served_by(&h);
    assert_ne!(log[0].0, log[1].0, "round robin, not sticky: {log:?}");
}

#[tokio::test]
async fn free_plan_accounts_are_not_offered_opus() {
    let h = Harness::start().await;
    let free = h
        .add(CreateAccount {
            kind: Some(AccountKind::Social),
            tier: Some(kiro_sim::models::Tier::Free),
            ..Default::default()
        })
        .await;
    let pro = h.add_account().await;
    assert_eq!(
        view(&h, &free).quota.figures.unwrap().plan_title.as_deref(),
        Some("KIRO FREE")
    );
    for _ in 0..4 {
        let resp = h
            .anthropic(&anthropic_body("claude-opus-4-5", "hi", false))
            .await;
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(served_ok(&h, &pro), 4, "Opus only on the paid plan");
    assert_eq!(served_ok(&h, &free), 0);
    // Sonnet goes to both, the free account (50 credits against 1,000) getting ~5 %.
    for _ in 0..40 {
        ok(&h).await;
    }
    assert!((1..=4).contains(&served_ok(&h, &free)));

    // With only the free account usable, Opus is refused with an actionable 400.
    h.app.pool.needs_login(&pro.id, "test");
    let resp = h
        .anthropic(&anthropic_body("claude-opus-4-5", "hi", false))
        .await;
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("plan"),
        "{body}"
    );
}
