//! TokenManager against the simulator: refresh ahead of expiry, single flight, rotation, the
//! save-before-use order, profile ARN updates and the forced refresh after a rejected token.

pub mod upstream_support;

use std::sync::Arc;
use std::time::Duration;

use kiro_proxy::accounts::{Account, TokenConfig};
use kiro_sim::{AccountKind, CreateAccount, Rotation};
use kiro_wire::types::Secret;
use upstream_support::*;

fn with_expiry(mut a: Account, expires_at: Option<i64>) -> Account {
    a.credentials.expires_at = expires_at;
    a
}

fn refresh_path(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Social => "/refreshToken",
        _ => "/token",
    }
}

#[expect(clippy::unwrap_used, reason = "shared test body: a failure panics")]
async fn refreshes_ahead_of_expiry(kind: AccountKind) {
    let sim = sim().await;
    let s = create_kind(&sim, kind);
    let old = s.access_token.clone().unwrap();
    // Four minutes left: inside the five-minute window.
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(now_secs() + 240))],
        TokenConfig::default(),
    );
    let auth = m.tokens.access(&s.account.id).await.unwrap();
    assert_ne!(auth.secret().expose(), old);
    assert_eq!(requests_to(&sim, refresh_path(kind)).len(), 1);
    let stored = m.registry.get(&s.account.id).unwrap().credentials;
    assert_eq!(stored.access_token.as_ref(), Some(auth.secret()));
    let left = stored.expires_at.unwrap() - now_secs();
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(m.sink.saves(), 1);

    // Now fresh: no second refresh, and the upstream takes the new token.
    let again = m.tokens.access(&s.account.id).await.unwrap();
    assert_eq!(again.secret(), auth.secret());
    assert_eq!(requests_to(&sim, refresh_path(kind)).len(), 1);
    let client = client(&sim);
    client
        .get_usage_limits(&again, again.profile_arn())
        .await
        .unwrap();
}

#[tokio::test]
async fn social_refreshes_ahead_of_expiry() {
    refreshes_ahead_of_expiry(AccountKind::Social).await;
}

#[tokio::test]
async fn idc_refreshes_ahead_of_expiry() {
    refreshes_ahead_of_expiry(AccountKind::Idc).await;
}

#[tokio::test]
async fn a_fresh_token_is_used_as_is_and_a_missing_expiry_refreshes() {
    let sim = sim().await;
    let fresh = create_kind(&sim, AccountKind::Social);
    let unknown = create_kind(&sim, AccountKind::Social);
    let m = manage(
        &sim,
        vec![account(&fresh), with_expiry(account(&unknown), None)],
        TokenConfig::default(),
    );
    let a = m.tokens.access(&fresh.account.id).await.unwrap();
    assert_eq!(a.secret().expose(), fresh.access_token.as_deref().unwrap());
    assert!(requests_to(&sim, "/refreshToken").is_empty());
    let b = m.tokens.access(&unknown.account.id).await.unwrap();
    assert_ne!(
        b.secret().expose(),
        unknown.access_token.as_deref().unwrap()
    );
    assert_eq!(requests_to(&sim, "/refreshToken").len(), 1);
}

#[tokio::test]
async fn short_lived_tokens_from_the_sim_are_refreshed_early() {
    let sim = sim().await;
    // The service issues two-minute tokens: always inside the window, so each access refreshes.
    let s = create(
        &sim,
        CreateAccount {
            kind: Some(AccountKind::Idc),
            expires_in: Some(120),
            ..Default::default()
        },
    );
    let m = manage(&sim, vec![account(&s)], TokenConfig::default());
    let a = m.tokens.access(&s.account.id).await.unwrap();
    let b = m.tokens.access(&s.account.id).await.unwrap();
    assert_ne!(a.secret(), b.secret());
    assert_eq!(requests_to(&sim, "/token").len(), 2);
    // A shorter window leaves them alone.
    let config = TokenConfig {
        refresh_window: Duration::from_secs(60),
        ..TokenConfig::default()
    };
    let m = manage(&sim, vec![m.registry.get(&s.account.id).unwrap()], config);
    let c = m.tokens.access(&s.account.id).await.unwrap();
    assert_eq!(c.secret(), b.secret());
    assert_eq!(requests_to(&sim, "/token").len(), 2);
}

#[expect(clippy::unwrap_used, reason = "shared test body: a failure panics")]
async fn single_flight(kind: AccountKind) {
    let sim = sim().await;
    let s = create(
        &sim,
        CreateAccount {
            kind: Some(kind),
            rotation: Some(Rotation::NewAndRevokeOld),
            ..Default::default()
        },
    );
    let id = s.account.id.clone();
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(now_secs() - 10))],
        TokenConfig::default(),
    );
    // A slow store widens the window in which callers pile up behind the refresh.
    *m.sink.delay.lock().unwrap() = Some(Duration::from_millis(100));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let tokens = Arc::clone(&m.tokens);
        let sink = Arc::clone(&m.sink);
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let auth = tokens.access(&id).await.unwrap();
            sink.record_use(auth.secret());
            auth.secret().expose().to_owned()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    assert_eq!(
        requests_to(&sim, refresh_path(kind)).len(),
        1,
        "exactly one refresh"
    );
    assert!(
        got.iter().all(|t| *t == got[0]),
        "all callers share the new token"
    );
    assert_ne!(got[0], s.access_token.clone().unwrap());

    // The rotated refresh token was saved before anyone used the new access token.
    let steps = m.sink.steps();
    let Step::Save { access, refresh } = &steps[0] else {
        panic!("first step is not a save: {steps:?}");
    };
    assert_eq!(*access, got[0]);
    assert_ne!(*refresh, s.refresh_token.clone().unwrap(), "rotated");
    assert_eq!(
        steps.iter().filter(|s| matches!(s, Step::Use(_))).count(),
        20
    );
    assert!(!*m.sink.published_before_save.lock().unwrap());
    let stored = m.registry.get(&id).unwrap().credentials;
    assert_eq!(stored.refresh_token.unwrap().expose(), refresh.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn social_concurrent_callers_share_one_refresh() {
    single_flight(AccountKind::Social).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idc_concurrent_callers_share_one_refresh() {
    single_flight(AccountKind::Idc).await;
}

#[expect(clippy::unwrap_used, reason = "shared test body: a failure panics")]
async fn rotation(kind: AccountKind, mode: Rotation) {
    let sim = sim().await;
    let s = create(
        &sim,
        CreateAccount {
            kind: Some(kind),
            rotation: Some(mode),
            ..Default::default()
        },
    );
    let id = s.account.id.clone();
    let old_refresh = s.refresh_token.clone().unwrap();
    let m = manage(
        &sim,
        vec![with_expiry(account(&s), Some(0))],
        TokenConfig::default(),
    );
    m.tokens.access(&id).await.unwrap();
    let stored = m
        .registry
        .get(&id)
        .unwrap()
        .credentials
        .refresh_token
        .unwrap();
    let Step::Save { refresh: saved, .. } = &m.sink.steps()[0] else {
        panic!()
    };
    assert_eq!(saved, stored.expose());
    match mode {
        Rotation::Same | Rotation::Absent => assert_eq!(stored.expose(), old_refresh, "{mode:?}"),
        Rotation::New | Rotation::NewAndRevokeOld => {
            assert_ne!(stored.expose(), old_refresh, "{mode:?}")
        }
    }
    // The next refresh works with whatever was kept (the old token is dead after
    // new-and-revoke-old, so using it would fail).
    let second = m.tokens.force_refresh(&id).await.unwrap();
    assert_eq!(requests_to(&sim, refresh_path(kind)).len(), 2);
    client(&sim)
        .get_usage_limits(&second, second.profile_arn())
        .await
        .unwrap();
    if mode == Rotation::NewAndRevokeOld {
        let client = client(&sim);
        let headers = headers(MACHINE_ID);
        let err = match kind {
            AccountKind::Social => client
                .refresh_social("us-east-1", &headers, &Secret::new(old_refresh))
                .await
                .unwrap_err(),
            _ => client
                .refresh_idc(
                    "us-east-1",
                    &headers,
                    s.client_id.as_deref().unwrap(),
                    &Secret::new(s.client_secret.clone().unwrap()),
                    &Secret::new(old_refresh),
                )
                .await
                .unwrap_err(),
        };
        assert_eq!(err.status(), Some(400), "the old refresh token is revoked");
    }
}

#[tokio::test]
async fn rotation_modes_social() {
    for mode in [
        Rotation::Same,
        Rotation::New,
        Rotation::NewAndRevokeOld,
        Rotation::Absent,
    ] {
        rotation(AccountKind::Social, mode).await;
    }
}

#[tokio::test]
async fn rotation_modes_idc() {
    for mode in [
        Rotation::Same,
        Rotation::New,
        Rotation::NewAndRevokeOld,
        Rotation::Absent,
    ] {
        rotation(AccountKind::Idc, mode).await;
    }
}

#[tokio::test]
async fn social_refresh_updates_the_profile_arn() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Social);
    let mut a = with_expiry(account(&s), Some(0));
    a.profile_arn = None;
    let m = manage(&sim, vec![a], TokenConfig::default());
    let auth = m.tokens.access(&s.account.id).await.unwrap();
    let arn = s.account.profile_arn.clone().unwrap();
    assert_eq!(auth.profile_arn(), Some(arn.as_str()));
    assert_eq!(
        m.registry.get(&s.account.id).unwrap().profile_arn,
        Some(arn.clone())
    );
    let steps = m.sink.steps();
    assert!(matches!(steps[0], Step::Save { .. }));
    assert_eq!(steps[1], Step::SaveArn(arn));
    // Unchanged afterwards: not saved again.
    m.tokens.force_refresh(&s.account.id).await.unwrap();
    assert_eq!(
        m.sink
            .steps()
            .iter()
            .filter(|s| matches!(s, Step::SaveArn(_)))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejected_token_is_refreshed_once_for_all_its_holders() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::Social);
    let id = s.account.id.clone();
    let m = manage(&sim, vec![account(&s)], TokenConfig::default());
    let client = client(&sim);
    let auth = m.tokens.access(&id).await.unwrap();
    // The service stops accepting the token before its stated expiry.
    let now = sim.state().clock().now_ms();
    sim.state().lock().expire_access_tokens(&id, now);
    let err = client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));

    let mut tasks = Vec::new();
    for _ in 0..5 {
        let tokens = Arc::clone(&m.tokens);
        let rejected = auth.clone();
        tasks.push(tokio::spawn(async move {
            tokens.refresh_rejected(&rejected).await.unwrap()
        }));
    }
    let mut fresh = Vec::new();
    for t in tasks {
        fresh.push(t.await.unwrap());
    }
    assert_eq!(requests_to(&sim, "/refreshToken").len(), 1);
    assert!(fresh.iter().all(|a| a.secret() == fresh[0].secret()));
    assert_ne!(fresh[0].secret(), auth.secret());
    client
        .get_usage_limits(&fresh[0], fresh[0].profile_arn())
        .await
        .unwrap();
    // A rejection of the token already replaced refreshes nothing.
    m.tokens.refresh_rejected(&auth).await.unwrap();
    assert_eq!(requests_to(&sim, "/refreshToken").len(), 1);
}

#[tokio::test]
async fn api_keys_are_never_refreshed() {
    let sim = sim().await;
    let s = create_kind(&sim, AccountKind::ApiKey);
    let m = manage(&sim, vec![account(&s)], TokenConfig::default());
    let a = m.tokens.access(&s.account.id).await.unwrap();
    assert_eq!(a.secret().expose(), s.api_key.as_deref().unwrap());
    assert!(a.is_api_key());
    assert_eq!(a.profile_arn(), None);
    let b = m.tokens.force_refresh(&s.account.id).await.unwrap();
    assert_eq!(b.secret(), a.secret());
    assert!(requests_to(&sim, "/refreshToken").is_empty());
    assert!(requests_to(&sim, "/token").is_empty());
    assert_eq!(m.sink.saves(), 0);
}
