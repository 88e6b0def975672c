//! `POST /api/accounts/import` and `GET /api/accounts/export`: each supported file format, a
//! second import updating instead of duplicating, spec §2.1 sanity checks per account, and an
//! export that restores exactly.
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

async fn import(h: &Harness, body: &Value) -> Value {
    let (status, report) = h
        .call("POST", "/api/accounts/import", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

fn counts(report: &Value) -> (usize, usize, usize) {
    let n = |k: &str| report[k].as_array().unwrap().len();
    (n("imported"), n("updated"), n("skipped"))
}

#[tokio::test]
async fn ide_social_token_then_the_same_again_updates() {
    let h = harness().await;
    let changes = h.changes.subscribe(ChangeKind::Accounts);
    let social = sim_account(&h.sim, AccountKind::Social);
    let token = ide_token(&social, None);

    let report = import(&h, &token).await;
    assert_eq!(counts(&report), (1, 0, 0), "{report}");
    assert!(changes.has_changed().unwrap());
    let view = &report["imported"][0];
    assert_eq!(view["authMethod"], "social");
    assert_eq!(view["profileArn"], json!(social.account.profile_arn));
    assert_eq!(view["apiRegion"], "us-east-1");
    assert_eq!(view["enabled"], true);
    assert_eq!(view["weight"], 1);
    let id = view["id"].as_str().unwrap().to_owned();
    let stored = h.store.get_account(&id).await.unwrap().unwrap();
    let c = &stored.account.credentials;
    assert_eq!(
        c.refresh_token.as_ref().unwrap().expose(),
        social.refresh_token.as_deref().unwrap()
    );
    assert_eq!(c.expires_at, Some(1_796_119_200)); // 2026-12-01T10:00:00Z
    assert_eq!(stored.account.machine_id.len(), 64);

    let again = import(&h, &token).await;
    assert_eq!(counts(&again), (0, 1, 0), "{again}");
    assert_eq!(again["updated"][0]["id"], id.as_str());
    assert_eq!(h.accounts().await.len(), 1);
    // The machine id (the account's fingerprint) survives the update.
    let after = h.store.get_account(&id).await.unwrap().unwrap();
    assert_eq!(after.account.machine_id, stored.account.machine_id);
}

#[tokio::test]
async fn ide_idc_token_needs_its_registration() {
    let h = harness().await;
    let idc = sim_idc(&h.sim, ENTERPRISE_START_URL);
    let token = ide_token(&idc, Some(ENTERPRISE_START_URL));

    // Alone, the token cannot be refreshed: skipped, naming the registration file.
    let report = import(&h, &token).await;
    assert_eq!(counts(&report), (0, 0, 1), "{report}");
    let reason = report["skipped"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&client_id_hash(ENTERPRISE_START_URL)),
        "{reason}"
    );
    assert!(reason.contains("clientRegistration"), "{reason}");

    let pair = json!({"token": token, "clientRegistration": ide_registration(&idc)});
    let report = import(&h, &pair).await;
    assert_eq!(counts(&report), (1, 0, 0), "{report}");
    let view = &report["imported"][0];
    assert_eq!(view["authMethod"], "idc");
    assert_eq!(view["startUrl"], ENTERPRISE_START_URL);
    assert_eq!(view["clientSecretExpiresAt"], 1_801_476_000); // 2027-02-01T10:00:00Z
    let stored = h
        .store
        .get_account(view["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let c = &stored.account.credentials;
    assert_eq!(c.client_id, idc.client_id);
    assert_eq!(
        c.client_secret.as_ref().unwrap().expose(),
        idc.client_secret.as_deref().unwrap()
    );

    // Same client and start URL, even with a rotated refresh token: the same account.
    let mut rotated = token.clone();
    rotated["refreshToken"] = json!(format!("aor{}", "R".repeat(150)));
    let pair = json!({"token": rotated, "clientRegistration": ide_registration(&idc)});
    let report = import(&h, &pair).await;
    assert_eq!(counts(&report), (0, 1, 0), "{report}");
}

#[tokio::test]
async fn seed_kiro_accounts_json_with_two_accounts() {
    let h = harness().await;
    let builder = sim_idc(&h.sim, BUILDER_ID_START_URL);
    let enterprise = sim_idc(&h.sim, ENTERPRISE_START_URL);
    let file = seed_file(&builder, &enterprise);

    let report = import(&h, &file).await;
    assert_eq!(counts(&report), (2, 0, 0), "{report}");
    let b = &report["imported"][0];
    let e = &report["imported"][1];
    assert_eq!(b["authMethod"], "idc");
    assert_eq!(b["email"], "builder@example.com");
    assert_eq!(b["userId"], builder.account.user_id.as_str());
    assert_eq!(b["startUrl"], BUILDER_ID_START_URL);
    assert!(b["profileArn"].is_null());
    assert_eq!(e["email"], "enterprise@example.com");
    assert_eq!(e["profileArn"], json!(enterprise.account.profile_arn));
    assert_eq!(e["apiRegion"], "us-east-1");

    // The Go project re-logged a user: new tokens, same user id → updated, not duplicated.
    let mut relogged = file.clone();
    relogged["accounts"][0]["token"]["refreshToken"] = json!(format!("aor{}", "N".repeat(200)));
    let report = import(&h, &relogged).await;
    assert_eq!(counts(&report), (0, 2, 0), "{report}");
    assert_eq!(h.accounts().await.len(), 2);
    let stored = h
        .store
        .get_account(b["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .account
            .credentials
            .refresh_token
            .unwrap()
            .expose()
            .starts_with("aorNNN")
    );
}

#[tokio::test]
async fn truncated_refresh_tokens_are_skipped_with_their_reason() {
    let h = harness().await;
    let builder = sim_idc(&h.sim, BUILDER_ID_START_URL);
    let enterprise = sim_idc(&h.sim, ENTERPRISE_START_URL);
    let mut file = seed_file(&builder, &enterprise);
    let short = "aorSHORT0123456789012345678901234567890";
    let dotted = format!("aor{}...{}", "A".repeat(60), "B".repeat(60));
    file["accounts"][0]["token"]["refreshToken"] = json!(short);
    file["accounts"][1]["token"]["refreshToken"] = json!(dotted);
    let good = sim_account(&h.sim, AccountKind::Social);
    let mut social = ide_token(&good, None);
    social["email"] = json!("social@example.com");
    file["accounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"token": social, "email": "social@example.com"}));

    let report = import(&h, &file).await;
    assert_eq!(counts(&report), (1, 0, 2), "{report}");
    let reasons: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons[0].contains("account #1 (builder@example.com)"),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("too short"), "{reasons:?}");
    assert!(
        reasons[1].contains("account #2 (enterprise@example.com)"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("`...`"), "{reasons:?}");
    let text = report.to_string();
    assert!(
        !text.contains(short) && !text.contains(&dotted[..40]),
        "{text}"
    );
    assert_eq!(report["imported"][0]["authMethod"], "social");
}

#[tokio::test]
async fn export_then_import_restores_exactly() {
    let h = harness().await;
    let builder = sim_idc(&h.sim, BUILDER_ID_START_URL);
    let enterprise = sim_idc(&h.sim, ENTERPRISE_START_URL);
    import(&h, &seed_file(&builder, &enterprise)).await;
    let social = sim_account(&h.sim, AccountKind::Social);
    import(&h, &ide_token(&social, None)).await;
    let (status, key) = h
        .call(
            "POST",
            "/api/accounts",
            Some(
                json!({"authMethod": "apiKey", "apiKey": "ksk_restoreMe0123456789",
                        "label": "key", "weight": 3,
                        "proxy": "socks5://user:pw@127.0.0.1:1080"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let id = h
        .accounts()
        .await
        .iter()
        .find(|a| a["authMethod"] == "social")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = h
        .call(
            "PATCH",
            &format!("/api/accounts/{id}"),
            Some(json!({"label": "work", "enabled": false, "weight": 0,
                        "proxy": "http://u:secret@10.1.2.3:3128"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, headers, bytes) = h.call_raw("GET", "/api/accounts/export", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"kiro-proxy-accounts-")
    );
    let export: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(export["format"], "kiro-proxy-accounts");
    assert_eq!(export["version"], 1);
    assert!(export["warning"].as_str().unwrap().contains("secrets"));
    assert!(export["exportedAt"].as_i64().unwrap() > 1_700_000_000);
    let accounts = export["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    // Every field, secrets and the unmasked proxy included.
    let work = accounts.iter().find(|a| a["id"] == id.as_str()).unwrap();
    assert_eq!(work["proxy"], "http://u:secret@10.1.2.3:3128");
    assert_eq!(work["enabled"], false);
    assert_eq!(work["weight"], 0);
    assert_eq!(work["label"], "work");
    let key = accounts
        .iter()
        .find(|a| a["authMethod"] == "apiKey")
        .unwrap();
    assert_eq!(key["apiKey"], "ksk_restoreMe0123456789");
    assert_eq!(key["weight"], 3);
    for field in [
        "machineId",
        "apiRegion",
        "authRegion",
        "createdAt",
        "refreshToken",
        "accessToken",
        "clientSecret",
        "expiresAt",
        "email",
        "userId",
    ] {
        assert!(work.get(field).is_some(), "{field} missing: {work}");
    }
    assert!(work["refreshToken"].as_str().unwrap().len() >= 100);

    // Into an empty store: the same accounts, field for field.
    let fresh = harness_on(sim().await).await;
    let report = import(&fresh, &export).await;
    assert_eq!(counts(&report), (4, 0, 0), "{report}");
    let (_, _, again) = fresh.call_raw("GET", "/api/accounts/export", None).await;
    let again: Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(again["accounts"], export["accounts"]);

    // Into the store it came from: everything matches, nothing is duplicated.
    let report = import(&h, &export).await;
    assert_eq!(counts(&report), (0, 4, 0), "{report}");
    let (_, _, same) = h.call_raw("GET", "/api/accounts/export", None).await;
    let same: Value = serde_json::from_slice(&same).unwrap();
    assert_eq!(same["accounts"], export["accounts"]);
}

#[tokio::test]
async fn files_that_are_not_account_files() {
    let h = harness().await;
    let (status, _, body) = h
        .call_raw("POST", "/api/accounts/import", Some("{not json".to_owned()))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    for bad in [
        json!({"hello": "world"}),
        json!([1, 2]),
        json!({"format": "kiro-proxy-accounts", "version": 2, "accounts": []}),
    ] {
        let (status, body) = h.call("POST", "/api/accounts/import", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"]["message"].is_string());
    }
    // A backup entry with a broken field is skipped, naming the field, never its value.
    let broken = json!({"format": "kiro-proxy-accounts", "version": 1, "accounts": [
        {"id": "a1", "authMethod": "social", "machineId": "ab", "refreshToken": 12345}
    ]});
    let report = import(&h, &broken).await;
    assert_eq!(counts(&report), (0, 0, 1), "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("`refreshToken`")
    );
}
