//! Credentials: social and OIDC refresh with every rotation mode, revoked and expired tokens,
//! registrations, device login, API-key rules, suspension.

use kiro_sim::accounts::{AccountKind, AccountSecrets, CreateAccount, Rotation};
use kiro_sim::errors::ErrorKind;
use serde_json::{Value, json};

use crate::common::*;

async fn social_refresh(sim: &Sim, token: &str) -> (u16, Value) {
    let r = sim
        .http
        .post(sim.url("/refreshToken"))
        .header("user-agent", format!("KiroIDE-0.11.107-{MACHINE}"))
        .json(&json!({"refreshToken": token}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn oidc(sim: &Sim, path: &str, body: Value) -> (u16, Value) {
    let r = sim
        .http
        .post(sim.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn oidc_refresh(sim: &Sim, acct: &AccountSecrets, token: &str) -> (u16, Value) {
    oidc(
        sim,
        "/token",
        json!({"clientId": acct.client_id, "clientSecret": acct.client_secret,
               "grantType": "refresh_token", "refreshToken": token}),
    )
    .await
}

fn with_rotation(kind: AccountKind, rotation: Rotation) -> CreateAccount {
    CreateAccount {
        kind: Some(kind),
        rotation: Some(rotation),
        ..CreateAccount::default()
    }
}

#[tokio::test]
async fn social_refresh_rotation_modes_and_revocation() {
    let sim = Sim::start().await;
    // same
    let a = sim.account_with(with_rotation(AccountKind::Social, Rotation::Same));
    let rt = a.refresh_token.clone().unwrap();
    let (s, v) = social_refresh(&sim, &rt).await;
    assert_eq!(s, 200);
    assert_eq!(v["refreshToken"], rt.as_str());
    assert_eq!(v["expiresIn"], 3600);
    assert_eq!(
        v["profileArn"],
        "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
    );
    let access = v["accessToken"].as_str().unwrap();
    assert!(access.starts_with("aoa") && access.len() >= 200);
    assert_ne!(Some(access), a.access_token.as_deref());
    // The new access token works.
    let fresh = AccountSecrets {
        access_token: Some(access.to_owned()),
        ..a.clone()
    };
    assert_eq!(sim.chat(&fresh, "hi").await.0, 200);

    // new: old token keeps working.
    let b = sim.account_with(with_rotation(AccountKind::Social, Rotation::New));
    let old = b.refresh_token.clone().unwrap();
    let (_, v) = social_refresh(&sim, &old).await;
    let new = v["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(new.len() >= 100);
    assert_eq!(social_refresh(&sim, &old).await.0, 200);

    // new_and_revoke_old: old token is dead.
    let c = sim.account_with(with_rotation(
        AccountKind::Social,
        Rotation::NewAndRevokeOld,
    ));
    let old = c.refresh_token.clone().unwrap();
    let (_, v) = social_refresh(&sim, &old).await;
    let new = v["refreshToken"].as_str().unwrap().to_owned();
    let (s, body) = social_refresh(&sim, &old).await;
    assert_eq!(s, 400);
    assert_eq!(body, json!({"message": "Invalid refresh token provided"}));
    assert_eq!(social_refresh(&sim, &new).await.0, 200);

    // absent: no refreshToken key.
    let d = sim.account_with(with_rotation(AccountKind::Social, Rotation::Absent));
    let (_, v) = social_refresh(&sim, d.refresh_token.as_deref().unwrap()).await;
    assert!(v.get("refreshToken").is_none());

    // Unknown token, and an IdC token on the social endpoint.
    assert_eq!(social_refresh(&sim, "aorAAAAAGbogus").await.0, 400);
    let idc = sim.account(AccountKind::Idc);
    assert_eq!(
        social_refresh(&sim, idc.refresh_token.as_deref().unwrap())
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn oidc_refresh_rotation_revocation_and_client_expiry() {
    let sim = Sim::start().await;
    let a = sim.account_with(with_rotation(AccountKind::Idc, Rotation::NewAndRevokeOld));
    let old = a.refresh_token.clone().unwrap();
    let (s, v) = oidc_refresh(&sim, &a, &old).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["tokenType"], "Bearer");
    assert_eq!(v["expiresIn"], 3600);
    assert!(
        v.as_object()
            .unwrap()
            .contains_key("aws_sso_app_session_id")
    );
    let new = v["refreshToken"].as_str().unwrap().to_owned();
    let (s, v) = oidc_refresh(&sim, &a, &old).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(v["error_description"], "Invalid grant provided");
    assert_eq!(oidc_refresh(&sim, &a, &new).await.0, 200);

    // Same rotation returns the token unchanged.
    let b = sim.account_with(with_rotation(AccountKind::Idc, Rotation::Same));
    let rt = b.refresh_token.clone().unwrap();
    assert_eq!(
        oidc_refresh(&sim, &b, &rt).await.1["refreshToken"],
        rt.as_str()
    );

    // Another client's credentials -> invalid_grant; bad secret -> 401 invalid_client.
    let wrong = AccountSecrets {
        client_id: a.client_id.clone(),
        client_secret: a.client_secret.clone(),
        ..b.clone()
    };
    assert_eq!(
        oidc_refresh(&sim, &wrong, &rt).await.1["error"],
        "invalid_grant"
    );
    let bad_secret = AccountSecrets {
        client_secret: Some("nope".into()),
        ..b.clone()
    };
    let (s, v) = oidc_refresh(&sim, &bad_secret, &rt).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));

    // Control-API revocation.
    let id = &b.account.id;
    sim.control(
        reqwest::Method::POST,
        &format!("/accounts/{id}/revoke-refresh-tokens"),
        json!({}),
    )
    .await;
    assert_eq!(
        oidc_refresh(&sim, &b, &rt).await.1["error"],
        "invalid_grant"
    );

    // Registration expiry (~90 days) -> invalid_client "Client is expired".
    let c = sim.account(AccountKind::Idc);
    assert!(c.client_secret.as_ref().unwrap().len() > 2000);
    let exp = c.client_secret_expires_at.unwrap();
    let now = sim.handle.state().clock().now_secs();
    assert!((exp - now - 90 * 86_400).abs() < 5);
    sim.handle.state().advance_clock(91 * 86_400);
    let (s, v) = oidc_refresh(&sim, &c, c.refresh_token.as_deref().unwrap()).await;
    assert_eq!(s, 401);
    assert_eq!(v["error_description"], "Client is expired");
}

#[tokio::test]
async fn refresh_token_lifetime_gives_expired_token() {
    let sim = Sim::start().await;
    let a = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Idc),
        refresh_token_lifetime_secs: Some(100),
        ..CreateAccount::default()
    });
    sim.handle.state().advance_clock(101);
    let (s, v) = oidc_refresh(&sim, &a, a.refresh_token.as_deref().unwrap()).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("expired_token")));
}

#[tokio::test]
async fn access_tokens_expire_on_the_clock_and_expires_in_is_configurable() {
    let sim = Sim::start().await;
    let a = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Social),
        expires_in: Some(60),
        ..CreateAccount::default()
    });
    assert_eq!(sim.chat(&a, "hi").await.0, 200);
    sim.control(
        reqwest::Method::POST,
        "/clock/advance",
        json!({"seconds": 61}),
    )
    .await;
    let (s, _, body) = sim.chat(&a, "hi").await;
    assert_eq!(s, 403);
    assert_eq!(body, ErrorKind::BearerTokenInvalid.body());
    let (_, v) = social_refresh(&sim, a.refresh_token.as_deref().unwrap()).await;
    assert_eq!(v["expiresIn"], 60);
    let fresh = AccountSecrets {
        access_token: v["accessToken"].as_str().map(str::to_owned),
        ..a.clone()
    };
    assert_eq!(sim.chat(&fresh, "hi").await.0, 200);
    // expire-tokens control call
    let id = &a.account.id;
    sim.control(
        reqwest::Method::POST,
        &format!("/accounts/{id}/expire-tokens"),
        json!({}),
    )
    .await;
    assert_eq!(sim.chat(&fresh, "hi").await.0, 403);
    // Unknown bearer.
    let unknown = AccountSecrets {
        access_token: Some("aoaAAAAAGunknown".into()),
        ..a.clone()
    };
    assert_eq!(sim.chat(&unknown, "hi").await.0, 403);
}

async fn register(sim: &Sim) -> (String, String) {
    let (s, v) = oidc(
        sim,
        "/client/register",
        json!({"clientName": "Kiro IDE", "clientType": "public",
               "scopes": ["codewhisperer:completions", "codewhisperer:analysis", "codewhisperer:conversations"]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["clientIdIssuedAt"].as_i64().is_some());
    assert!(v["clientSecretExpiresAt"].as_i64().unwrap() > v["clientIdIssuedAt"].as_i64().unwrap());
    (
        v["clientId"].as_str().unwrap().to_owned(),
        v["clientSecret"].as_str().unwrap().to_owned(),
    )
}

async fn start_device(sim: &Sim, cid: &str, secret: &str, start_url: &str) -> Value {
    let (s, v) = oidc(
        sim,
        "/device_authorization",
        json!({"clientId": cid, "clientSecret": secret, "startUrl": start_url}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn poll(sim: &Sim, cid: &str, secret: &str, device_code: &str) -> (u16, Value) {
    oidc(
        sim,
        "/token",
        json!({"clientId": cid, "clientSecret": secret,
               "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": device_code}),
    )
    .await
}

#[tokio::test]
async fn device_login_pending_then_success_creates_an_idc_account() {
    let sim = Sim::start().await;
    let (cid, secret) = register(&sim).await;
    let d = start_device(&sim, &cid, &secret, "https://view.awsapps.com/start").await;
    let code = d["userCode"].as_str().unwrap();
    assert_eq!(code.len(), 9);
    assert_eq!(
        d["verificationUri"],
        "https://view.awsapps.com/start/#/device"
    );
    assert_eq!(
        d["verificationUriComplete"],
        format!("https://view.awsapps.com/start/#/device?user_code={code}")
    );
    assert_eq!(
        (d["expiresIn"].as_u64(), d["interval"].as_u64()),
        (Some(600), Some(1))
    );
    let dc = d["deviceCode"].as_str().unwrap();
    for _ in 0..2 {
        let (s, v) = poll(&sim, &cid, &secret, dc).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("authorization_pending"))
        );
        sim.handle.state().advance_clock(1);
    }
    let (s, v) = poll(&sim, &cid, &secret, dc).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["tokenType"], "Bearer");
    let access = v["accessToken"].as_str().unwrap().to_owned();
    // The code is used up.
    sim.handle.state().advance_clock(1);
    assert_eq!(
        poll(&sim, &cid, &secret, dc).await.1["error"],
        "invalid_grant"
    );
    // The new IdC account works, has no profile (Builder ID) and refreshes with this client.
    let accounts = sim.handle.state().lock().accounts.clone();
    let acct = accounts
        .values()
        .find(|a| a.kind == AccountKind::Idc)
        .unwrap();
    assert!(acct.profile_arn.is_none());
    assert!(acct.user_id.starts_with("d-"));
    let secrets = AccountSecrets {
        account: acct.clone(),
        access_token: Some(access),
        expires_at: None,
        refresh_token: v["refreshToken"].as_str().map(str::to_owned),
        api_key: None,
        client_id: Some(cid.clone()),
        client_secret: Some(secret.clone()),
        client_secret_expires_at: None,
    };
    assert_eq!(sim.chat(&secrets, "hi").await.0, 200);
    assert_eq!(
        oidc_refresh(&sim, &secrets, secrets.refresh_token.as_deref().unwrap())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn device_login_slow_down_expired_denied_and_manual_approval() {
    let sim = Sim::start().await;
    let (cid, secret) = register(&sim).await;

    // slow_down when polled faster than the interval.
    let d = start_device(&sim, &cid, &secret, "https://view.awsapps.com/start").await;
    let dc = d["deviceCode"].as_str().unwrap();
    assert_eq!(
        poll(&sim, &cid, &secret, dc).await.1["error"],
        "authorization_pending"
    );
    assert_eq!(poll(&sim, &cid, &secret, dc).await.1["error"], "slow_down");

    // expired_token after expiresIn.
    sim.handle.state().advance_clock(601);
    assert_eq!(
        poll(&sim, &cid, &secret, dc).await.1["error"],
        "expired_token"
    );

    // access_denied by a control call.
    let d = start_device(&sim, &cid, &secret, "https://view.awsapps.com/start").await;
    let code = d["userCode"].as_str().unwrap();
    sim.control(
        reqwest::Method::POST,
        &format!("/device/{code}/deny"),
        json!({}),
    )
    .await;
    let (s, v) = poll(&sim, &cid, &secret, d["deviceCode"].as_str().unwrap()).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("access_denied")));

    // Explicit approval with auto-approval off, into an Enterprise account with a profile.
    sim.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"device_auto_approve": false, "device_interval": 0}),
    )
    .await;
    let d = start_device(
        &sim,
        &cid,
        &secret,
        "https://d-1234567890.awsapps.com/start",
    )
    .await;
    let dc = d["deviceCode"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        assert_eq!(
            poll(&sim, &cid, &secret, &dc).await.1["error"],
            "authorization_pending"
        );
    }
    let code = d["userCode"].as_str().unwrap();
    let session = sim
        .control(
            reqwest::Method::POST,
            &format!("/device/{code}/approve"),
            json!({"tier": "power"}),
        )
        .await;
    assert_eq!(session["state"], "approved");
    let (s, v) = poll(&sim, &cid, &secret, &dc).await;
    assert_eq!(s, 200, "{v}");
    let accounts = sim.handle.state().lock().accounts.clone();
    let acct = accounts
        .values()
        .find(|a| a.kind == AccountKind::Idc)
        .unwrap();
    assert!(acct.profile_arn.is_some());
    assert_eq!(acct.tier, kiro_sim::models::Tier::Power);
}

#[tokio::test]
async fn registration_and_device_errors() {
    let sim = Sim::start().await;
    let (s, v) = oidc(
        &sim,
        "/client/register",
        json!({"clientName": "x", "clientType": "confidential"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let (s, v) = oidc(
        &sim,
        "/client/register",
        json!({"clientName": "x", "clientType": "public", "scopes": ["sso:account:access"]}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
    let (s, v) = oidc(&sim, "/client/register", json!({"clientType": "public"})).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    let (cid, _) = register(&sim).await;
    let (s, v) = oidc(
        &sim,
        "/device_authorization",
        json!({"clientId": cid, "clientSecret": "wrong", "startUrl": "https://view.awsapps.com/start"}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, v) = oidc(
        &sim,
        "/token",
        json!({"clientId": cid, "clientSecret": "x", "grantType": "password"}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
}

#[tokio::test]
async fn api_key_rules() {
    let sim = Sim::start().await;
    let key = sim.account(AccountKind::ApiKey);
    assert!(key.api_key.as_deref().unwrap().starts_with("ksk_"));
    assert_eq!(sim.chat(&key, "hi").await.0, 200);

    // Without tokentype the key is an OAuth bearer and fails (§2.1).
    let resp = sim
        .http
        .post(sim.url("/generateAssistantResponse"))
        .bearer_auth(key.api_key.as_deref().unwrap())
        .body(chat_body("hi", "claude-sonnet-4.5").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("AccessDeniedException"));
    let resp = sim
        .http
        .get(sim.url("/getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST"))
        .bearer_auth(key.api_key.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        ErrorKind::InvalidProfileArn.body()
    );

    // A profileArn with a key is refused: body root, query, MCP header.
    let mut body = chat_body("hi", "claude-sonnet-4.5");
    body["profileArn"] = json!("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK");
    let (s, _, b) = sim.chat_body(&key, &body).await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&b).contains("ValidationException"));
    let resp = sim
        .http
        .get(sim.url("/getUsageLimits?origin=AI_EDITOR&profileArn=arn%3Aaws%3Acodewhisperer%3Aus-east-1%3A1%3Aprofile%2FX"))
        .bearer_auth(key.api_key.as_deref().unwrap())
        .header("tokentype", "API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = sim
        .http
        .post(sim.url("/mcp"))
        .bearer_auth(key.api_key.as_deref().unwrap())
        .header("tokentype", "API_KEY")
        .header(
            "x-amzn-kiro-profile-arn",
            "arn:aws:codewhisperer:us-east-1:1:profile/X",
        )
        .json(&json!({"jsonrpc": "2.0", "id": "1", "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // tokentype with an OAuth token -> 403.
    let social = sim.account(AccountKind::Social);
    let resp = sim
        .chat_request(&social, &chat_body("hi", "claude-sonnet-4.5"))
        .header("tokentype", "API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn suspended_accounts_and_foreign_profile_arns() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let id = a.account.id.clone();
    sim.control(
        reqwest::Method::PATCH,
        &format!("/accounts/{id}"),
        json!({"suspended": true}),
    )
    .await;
    let (s, _, body) = sim.chat(&a, "hi").await;
    assert_eq!(s, 403);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["reason"], "TEMPORARILY_SUSPENDED");
    assert!(v["message"].as_str().unwrap().contains(&a.account.user_id));
    sim.control(
        reqwest::Method::PATCH,
        &format!("/accounts/{id}"),
        json!({"suspended": false}),
    )
    .await;
    assert_eq!(sim.chat(&a, "hi").await.0, 200);

    // Another account's ARN in the body -> AccessDeniedException.
    let mut body = chat_body("hi", "claude-sonnet-4.5");
    body["profileArn"] = json!("arn:aws:codewhisperer:us-east-1:111111111111:profile/OTHER");
    assert_eq!(sim.chat_body(&a, &body).await.0, 403);
    body["profileArn"] = json!(a.account.profile_arn.clone().unwrap());
    assert_eq!(sim.chat_body(&a, &body).await.0, 200);

    // The disputed IdC rule, opt-in per account.
    let e = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Idc),
        start_url: Some("https://d-1234567890.awsapps.com/start".into()),
        chat_requires_profile_arn: Some(true),
        ..CreateAccount::default()
    });
    assert_eq!(sim.chat(&e, "hi").await.0, 403);
    let mut body = chat_body("hi", "claude-sonnet-4.5");
    body["profileArn"] = json!(e.account.profile_arn.clone().unwrap());
    assert_eq!(sim.chat_body(&e, &body).await.0, 200);
}
