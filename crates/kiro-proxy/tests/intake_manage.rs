//! The operator's account controls: `PATCH /api/accounts/{id}`, `/enable`, `/disable`,
//! `/reset`; validation, 404s, change notifications and the masked proxy in every view.
#![cfg(test)]

#[expect(
    dead_code,
    reason = "each intake test uses a subset of the shared helpers"
)]
mod intake_support;

use axum::http::StatusCode;
use intake_support::*;
use kiro_proxy::admin::ChangeKind;
use kiro_sim::AccountKind;
use serde_json::{Value, json};

/// A social account imported from its IDE token; returns its id.
async fn social_account(h: &Harness) -> String {
    let social = sim_account(&h.sim, AccountKind::Social);
    let (status, report) = h
        .call(
            "POST",
            "/api/accounts/import",
            Some(ide_token(&social, None)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report["imported"][0]["id"].as_str().unwrap().to_owned()
}

async fn patch(h: &Harness, id: &str, body: Value) -> (StatusCode, Value) {
    h.call("PATCH", &format!("/api/accounts/{id}"), Some(body))
        .await
}

#[tokio::test]
async fn patch_changes_fields_and_masks_the_proxy() {
    let h = harness().await;
    let id = social_account(&h).await;
    let mut changes = h.changes.subscribe(ChangeKind::Accounts);
    changes.mark_unchanged();

    let (status, view) = patch(
        &h,
        &id,
        json!({"label": "team A", "weight": 5, "enabled": false,
               "proxy": "socks5h://alice:s3cret-pw@10.0.0.9:1080",
               "authRegion": "eu-west-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["label"], "team A");
    assert_eq!(view["weight"], 5);
    assert_eq!(view["enabled"], false);
    assert_eq!(view["authRegion"], "eu-west-1");
    assert_eq!(view["proxy"], "socks5h://alice:****@10.0.0.9:1080");
    assert!(changes.has_changed().unwrap());
    // The list masks it too; the store keeps it whole (sealed at rest).
    let listed = h.accounts().await;
    assert_eq!(listed[0]["proxy"], "socks5h://alice:****@10.0.0.9:1080");
    assert!(!listed[0].to_string().contains("s3cret"));
    let stored = h.store.get_account(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.account.proxy.as_deref(),
        Some("socks5h://alice:s3cret-pw@10.0.0.9:1080")
    );
    assert_eq!(stored.weight, 5);

    // The profile ARN names the API region.
    let (status, view) = patch(
        &h,
        &id,
        json!({"profileArn": "arn:aws:codewhisperer:eu-central-1:123456789012:profile/EU1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["apiRegion"], "eu-central-1");

    // `null` clears; weight 0 is allowed (out of selection).
    let (status, view) = patch(
        &h,
        &id,
        json!({"label": null, "proxy": null, "profileArn": null, "weight": 0, "apiRegion": "us-east-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(view["label"].is_null() && view["proxy"].is_null() && view["profileArn"].is_null());
    assert_eq!(view["weight"], 0);
    assert_eq!(view["apiRegion"], "us-east-1");
    assert_eq!(view["enabled"], false, "untouched fields stay");
}

#[tokio::test]
async fn patch_validation() {
    let h = harness().await;
    let id = social_account(&h).await;
    let secret_proxy = "ftp://bob:hunter2@proxy:21";
    for (body, field) in [
        (json!({"weight": -1}), "weight"),
        (json!({"weight": 1.5}), "weight"),
        (json!({"weight": "3"}), "weight"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"proxy": secret_proxy}), "proxy"),
        (json!({"proxy": "http://host:1/some/path"}), "proxy"),
        (json!({"apiRegion": "eu-west-1"}), "apiRegion"),
        (json!({"authRegion": "EU WEST"}), "authRegion"),
        (json!({"profileArn": "arn:nope"}), "profileArn"),
        (
            json!({"apiRegion": "us-east-1",
                   "profileArn": "arn:aws:codewhisperer:eu-central-1:123456789012:profile/X"}),
            "apiRegion",
        ),
        (json!({"label": "x".repeat(201)}), "label"),
        (json!({"wieght": 2}), "wieght"),
        (json!({"machineId": "00"}), "machineId"),
    ] {
        let (status, resp) = patch(&h, &id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {resp}");
        let msg = resp["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("`{field}`")), "{body} → {msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
    let (status, _) = patch(&h, &id, json!([1])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // No profile ARN on API-key accounts (spec §2.1).
    let (status, key) = h
        .call(
            "POST",
            "/api/accounts",
            Some(json!({"authMethod": "apiKey", "apiKey": "ksk_manage0123456789"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, resp) = patch(
        &h,
        key["id"].as_str().unwrap(),
        json!({"profileArn": "arn:aws:codewhisperer:us-east-1:123456789012:profile/X"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
}

#[tokio::test]
async fn enable_disable_reset() {
    let h = harness().await;
    let id = social_account(&h).await;
    let mut changes = h.changes.subscribe(ChangeKind::Accounts);

    for (action, enabled) in [("disable", false), ("enable", true)] {
        changes.mark_unchanged();
        let (status, view) = h
            .call("POST", &format!("/api/accounts/{id}/{action}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["enabled"], enabled);
        assert!(changes.has_changed().unwrap());
        let stored = h.store.get_account(&id).await.unwrap().unwrap();
        assert_eq!(stored.account.enabled, enabled);
    }

    h.store
        .set_account_status(&id, "needs_login", Some("invalid_grant"))
        .await
        .unwrap();
    assert_eq!(h.accounts().await[0]["status"], "needs_login");
    changes.mark_unchanged();
    let (status, view) = h
        .call("POST", &format!("/api/accounts/{id}/reset"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "active");
    assert!(view["statusReason"].is_null());
    assert!(changes.has_changed().unwrap());
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let h = harness().await;
    for (method, path, body) in [
        ("PATCH", "/api/accounts/nope", Some(json!({"label": "x"}))),
        ("POST", "/api/accounts/nope/enable", None),
        ("POST", "/api/accounts/nope/disable", None),
        ("POST", "/api/accounts/nope/reset", None),
        ("DELETE", "/api/accounts/nope", None),
    ] {
        let (status, resp) = h.call(method, path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} → {resp}");
        assert!(resp["error"]["message"].as_str().unwrap().contains("nope"));
    }
}

#[tokio::test]
async fn create_accepts_weight_and_proxy() {
    let h = harness().await;
    let (status, view) = h
        .call(
            "POST",
            "/api/accounts",
            Some(
                json!({"authMethod": "apiKey", "apiKey": "ksk_created0123456789",
                        "weight": 7, "proxy": "http://user:pw@127.0.0.1:3128"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(view["weight"], 7);
    assert_eq!(view["proxy"], "http://user:****@127.0.0.1:3128");
    let (status, resp) = h
        .call(
            "POST",
            "/api/accounts",
            Some(
                json!({"authMethod": "apiKey", "apiKey": "ksk_created0123456789",
                        "proxy": "gopher://x"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
}
