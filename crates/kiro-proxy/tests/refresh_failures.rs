//! TokenManager refresh failures: permanent (typed, not retried), transient (the current token
//! kept while it has time left), and a failed save (nothing handed out, the save retried without
//! refreshing again).

pub mod upstream_support;

use kiro_proxy::accounts::{Account, RefreshFailure, TokenConfig, TokenError};
use kiro_sim::{AccountKind, CreateAccount, Rotation};
use serde_json::json;
use upstream_support::*;

fn with_expiry(mut a: Account, expires_at: Option<i64>) -> Account {
    a.credentials.expires_at = expires_at;
    a
}

fn failure(e: &TokenError) -> RefreshFailure {
    e.refresh_failure()
        .cloned()
        .unwrap_or_else(|| panic!("{e:?}"))
}

#[tokio::test]
async fn a_revoked_idc_token_is_a_permanent_invalid_grant_and_not_retried() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Idc);
    let id = s.account.id.clone();
    sim.state().lock().revoke_refresh_tokens(&id);
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(0))],
        TokenConfig::default(),
    );
    let e = m.tokens.access(&id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::InvalidGrant);
    assert!(e.is_permanent());
    // The same dead refresh token is not sent again.
    let again = m.tokens.access(&id).await.unwrap_err();
    assert_eq!(failure(&again), RefreshFailure::InvalidGrant);
    assert_eq!(requests_to(&sim, "/token").len(), 1);
    assert_eq!(m.sink.saves(), 0);

    // A re-login (new credentials) clears it.
    let fresh = sim
        .state()
        .lock()
        .issue_refresh_token(&id, sim.state().clock().now_ms());
    let mut relogged = m.registry.get(&id).unwrap();
    relogged.credentials.refresh_token = Some(kiro_wire::types::Secret::new(fresh));
    m.tokens.replace_account(relogged).await;
    m.tokens.access(&id).await.unwrap();
    assert_eq!(requests_to(&sim, "/token").len(), 2);
}

#[tokio::test]
async fn social_dead_and_unauthorized_tokens_are_permanent() {
    let sim = sim().await;
    let dead = create_kind(&sim, AccountKind::Social);
    sim.state().lock().revoke_refresh_tokens(&dead.account.id);
    let superseded = create_kind(&sim, AccountKind::Social);
    queue(
        &sim,
        json!({"type": "http", "status": 401, "body": "", "path": "/refreshToken",
               "account": superseded.account.id}),
    );
    let m = manage(
        &sim,
        vec![
            with_expiry(account(&dead), Some(0)),
            with_expiry(account(&superseded), Some(0)),
        ],
        TokenConfig::default(),
    );
    let e = m.tokens.access(&dead.account.id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::InvalidRefreshToken);
    assert!(e.is_permanent());
    let e = m.tokens.access(&superseded.account.id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::Unauthorized);
    assert!(e.is_permanent());
}

#[tokio::test]
async fn oidc_client_and_expiry_errors_are_permanent() {
    let sim = sim().await;
    for (kind, want) in [
        ("invalid_client", RefreshFailure::InvalidClient),
        ("expired_client", RefreshFailure::InvalidClient),
        ("expired_token", RefreshFailure::ExpiredToken),
    ] {
        let s = create_kind(&sim, AccountKind::Idc);
        queue(
            &sim,
            json!({"type": "error", "kind": kind, "path": "/token"}),
        );
        let m = manage(
            &sim,
            vec![with_expiry(account(&s), Some(0))],
            TokenConfig::default(),
        );
        let e = m.tokens.access(&s.account.id).await.unwrap_err();
        assert_eq!(failure(&e), want, "{kind}");
        assert!(e.is_permanent(), "{kind}");
    }
}

#[tokio::test]
async fn transient_failure_keeps_a_still_valid_token() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Idc);
    let id = s.account.id.clone();
    // Four minutes left: inside the refresh window, outside the two-minute grace.
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(now_secs() + 240))],
        TokenConfig::default(),
    );
    queue(
        &sim,
        json!({"type": "error", "kind": "server_error", "path": "/token"}),
    );
    let auth = m.tokens.access(&id).await.unwrap();
    assert_eq!(auth.secret().expose(), s.access_token.as_deref().unwrap());
    assert_eq!(m.sink.saves(), 0);
    // The next call tries again and succeeds.
    let next = m.tokens.access(&id).await.unwrap();
    assert_ne!(next.secret(), auth.secret());
    assert_eq!(requests_to(&sim, "/token").len(), 2);
}

#[tokio::test]
async fn a_forced_refresh_never_falls_back_to_the_rejected_token() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Idc);
    // Plenty of time left on paper, but the upstream rejected it (403 → forced refresh).
    let m = manage(&sim, vec![account(&s)], TokenConfig::default());
    queue(
        &sim,
        json!({"type": "error", "kind": "server_error", "path": "/token"}),
    );
    let e = m.tokens.force_refresh(&s.account.id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::Transient);
    // A plain access still uses it: nothing says it is bad for callers who did not see a 403.
    let auth = m.tokens.access(&s.account.id).await.unwrap();
    assert_eq!(auth.secret().expose(), s.access_token.as_deref().unwrap());
}

#[tokio::test]
async fn transient_failure_without_time_left_is_a_transient_error() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Social);
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(now_secs() + 60))],
        TokenConfig::default(),
    );
    queue(
        &sim,
        json!({"type": "http", "status": 503, "body": "", "path": "/refreshToken"}),
    );
    let e = m.tokens.access(&s.account.id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::Transient);
    assert!(!e.is_permanent());
    // Not memoised like a permanent failure: the next call refreshes.
    m.tokens.access(&s.account.id).await.unwrap();
    assert_eq!(requests_to(&sim, "/refreshToken").len(), 2);
}

#[tokio::test]
async fn a_network_failure_is_transient() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Social);
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(0))],
        TokenConfig::default(),
    );
    // The upstream goes away: connections are refused.
    drop(sim);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let e = m.tokens.access(&s.account.id).await.unwrap_err();
    assert_eq!(failure(&e), RefreshFailure::Transient, "{e:?}");
    assert!(!e.is_permanent());
}

#[tokio::test]
async fn a_failed_save_hands_out_nothing_and_is_retried_without_a_new_refresh() {
    let sim = sim().await;
    let s = create(
        &sim,
        CreateAccount {
            kind: Some(AccountKind::Idc),
            rotation: Some(Rotation::NewAndRevokeOld),
            ..Default::default()
        },
    );
    let id = s.account.id.clone();
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(0))],
        TokenConfig::default(),
    );
    *m.sink.fail.lock().unwrap() = true;
    let e = m.tokens.access(&id).await.unwrap_err();
    assert!(matches!(e, TokenError::Persist { .. }), "{e:?}");
    assert!(!e.is_permanent());
    // Nothing published: the registry still has the old pair.
    let stored = m.registry.get(&id).unwrap().credentials;
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        s.refresh_token.as_deref().unwrap()
    );

    // Storage back: the kept refresh is saved and handed out; the upstream is not asked again
    // (its old refresh token was revoked by the rotation).
    *m.sink.fail.lock().unwrap() = false;
    let auth = m.tokens.access(&id).await.unwrap();
    assert_eq!(requests_to(&sim, "/token").len(), 1);
    let steps = m.sink.steps();
    let Step::Save { access, refresh } = &steps[0] else {
        panic!("{steps:?}")
    };
    assert_eq!(access, auth.secret().expose());
    assert_ne!(refresh, s.refresh_token.as_deref().unwrap());
    client(&sim)
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_credentials_are_typed() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Idc);
    let mut no_refresh = with_expiry(account(&s), Some(0));
    no_refresh.credentials.refresh_token = None;
    let m = manage(&sim, vec![no_refresh], TokenConfig::default());
    let e = m.tokens.access(&s.account.id).await.unwrap_err();
    assert!(
        matches!(
            e,
            TokenError::MissingCredential {
                missing: "refresh token",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_permanent());
    let e = m.tokens.access("nobody").await.unwrap_err();
    assert!(matches!(e, TokenError::UnknownAccount(_)));
}
