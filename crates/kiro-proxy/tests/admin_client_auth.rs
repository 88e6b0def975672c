//! Client keys: Bearer and x-api-key, configured and stored keys, the loopback-only rule.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::net::IpAddr;
use std::time::Duration;

use http::HeaderMap;
use kiro_proxy::client_auth::{AuthFailure, ClientAuth, ClientIdentity};
use kiro_proxy::crypto::{Crypto, hash_secret};
use kiro_proxy::store::{NewApiKey, Store};
use kiro_wire::types::Secret;

const LOOPBACK: &str = "127.0.0.1";
const REMOTE: &str = "203.0.113.7";

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    h
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &Crypto::from_key(&[5u8; 32]))
        .await
        .unwrap();
    (store, dir)
}

#[tokio::test]
async fn configured_keys_by_bearer_or_x_api_key() {
    let (store, _dir) = store().await;
    let keys = [Secret::from("env-key-one"), Secret::from("env-key-two")];
    let auth = ClientAuth::new(&keys, store).await.unwrap();
    assert!(auth.has_keys());

    let ok = |h: HeaderMap, index| {
        assert_eq!(
            auth.authenticate(&h, ip(REMOTE)),
            Ok(ClientIdentity::ConfiguredKey { index })
        );
    };
    ok(headers(&[("authorization", "Bearer env-key-one")]), 0);
    ok(headers(&[("authorization", "bearer env-key-two")]), 1);
    ok(headers(&[("x-api-key", "env-key-two")]), 1);
    // Either header may hold the valid key (clients sometimes send a placeholder in the other).
    ok(
        headers(&[
            ("authorization", "Bearer placeholder"),
            ("x-api-key", "env-key-one"),
        ]),
        0,
    );

    let fail = |h: HeaderMap, peer: &str, expected| {
        assert_eq!(auth.authenticate(&h, ip(peer)), Err(expected));
    };
    fail(headers(&[]), REMOTE, AuthFailure::MissingKey);
    // Once a key exists, loopback needs one too.
    fail(headers(&[]), LOOPBACK, AuthFailure::MissingKey);
    fail(
        headers(&[("authorization", "Basic env-key-one")]),
        REMOTE,
        AuthFailure::MissingKey,
    );
    fail(
        headers(&[("x-api-key", "env-key-on")]),
        REMOTE,
        AuthFailure::InvalidKey,
    );
    fail(
        headers(&[("authorization", "Bearer ENV-KEY-ONE")]),
        LOOPBACK,
        AuthFailure::InvalidKey,
    );
    assert!(
        AuthFailure::InvalidKey
            .message()
            .contains("Invalid API key")
    );
}

#[tokio::test]
async fn stored_keys_after_reload_and_last_use_recorded() {
    let (store, _dir) = store().await;
    let auth = ClientAuth::new(&[], store.clone()).await.unwrap();
    assert!(!auth.has_keys());
    let record = store
        .insert_key(&NewApiKey {
            name: "ci".to_owned(),
            prefix: "kp_AbCdE".to_owned(),
            key_hash: hash_secret("kp_AbCdEstoredkey"),
        })
        .await
        .unwrap();
    // Not seen until the cache is reloaded (the admin API does this on create/delete).
    assert!(!auth.has_keys());
    auth.reload().await.unwrap();
    assert!(auth.has_keys());
    let h = headers(&[("x-api-key", "kp_AbCdEstoredkey")]);
    assert_eq!(
        auth.authenticate(&h, ip(REMOTE)),
        Ok(ClientIdentity::StoredKey {
            id: record.id.clone(),
            name: "ci".to_owned()
        })
    );
    let h2 = headers(&[("authorization", "Bearer kp_AbCdEstoredkey")]);
    assert!(auth.authenticate(&h2, ip(REMOTE)).is_ok());

    // last_used_at is written in the background.
    let mut used = None;
    for _ in 0..100 {
        used = store.list_keys().await.unwrap()[0].last_used_at;
        if used.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(used.is_some(), "last_used_at never recorded");

    // Configured and stored keys together.
    let both = ClientAuth::new(&[Secret::from("env-key")], store.clone())
        .await
        .unwrap();
    assert!(both.authenticate(&h, ip(REMOTE)).is_ok());
    assert!(
        both.authenticate(&headers(&[("x-api-key", "env-key")]), ip(REMOTE))
            .is_ok()
    );

    assert!(store.delete_key(&record.id).await.unwrap());
    auth.reload().await.unwrap();
    assert_eq!(
        auth.authenticate(&h, ip(REMOTE)),
        Err(AuthFailure::NoKeysConfigured)
    );
}

#[tokio::test]
async fn without_any_key_only_loopback_is_served() {
    let (store, _dir) = store().await;
    let auth = ClientAuth::new(&[], store).await.unwrap();
    for peer in [LOOPBACK, "::1", "::ffff:127.0.0.1", "127.0.0.2"] {
        assert_eq!(
            auth.authenticate(&headers(&[]), ip(peer)),
            Ok(ClientIdentity::Loopback),
            "{peer}"
        );
    }
    // A key sent anyway does not matter.
    assert_eq!(
        auth.authenticate(&headers(&[("x-api-key", "whatever")]), ip(LOOPBACK)),
        Ok(ClientIdentity::Loopback)
    );
    for peer in [REMOTE, "10.0.0.5", "192.168.1.2", "fe80::1"] {
        assert_eq!(
            auth.authenticate(&headers(&[("x-api-key", "whatever")]), ip(peer)),
            Err(AuthFailure::NoKeysConfigured),
            "{peer}"
        );
    }
    assert_eq!(
        auth.authenticate(&headers(&[]), None),
        Err(AuthFailure::NoKeysConfigured)
    );
    // Through a local reverse proxy the real client is elsewhere.
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        assert_eq!(
            auth.authenticate(&headers(&[(header, "for=198.51.100.1")]), ip(LOOPBACK)),
            Err(AuthFailure::NoKeysConfigured),
            "{header}"
        );
    }
    let msg = AuthFailure::NoKeysConfigured.message();
    assert!(msg.contains("KIRO_API_KEYS"), "{msg}");
    assert!(msg.contains("POST /api/keys"), "{msg}");
}
