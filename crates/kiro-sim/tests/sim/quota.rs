//! Usage limits, models, profiles, MCP shapes; metering debit, 402 and the monthly reset.

use kiro_sim::accounts::{AccountKind, AccountSecrets, Bonus, CreateAccount, FreeTrial};
use kiro_sim::errors::ErrorKind;
use kiro_sim::models::Tier;
use serde_json::{Value, json};

use crate::common::*;

fn auth(rb: reqwest::RequestBuilder, a: &AccountSecrets) -> reqwest::RequestBuilder {
    match (&a.api_key, &a.access_token) {
        (Some(k), _) => rb.bearer_auth(k).header("tokentype", "API_KEY"),
        (None, Some(t)) => rb.bearer_auth(t),
        _ => rb,
    }
}

async fn usage(sim: &Sim, a: &AccountSecrets, with_arn: bool) -> (u16, Value) {
    let mut url = sim
        .url("/getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST&isEmailRequired=true");
    if let (true, Some(arn)) = (with_arn, &a.account.profile_arn) {
        url.push_str("&profileArn=");
        url.push_str(&arn.replace(':', "%3A").replace('/', "%2F"));
    }
    let r = auth(sim.http.get(url), a)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn usage_limits_has_every_field_and_requires_the_profile_arn() {
    let sim = Sim::start().await;
    let a = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Social),
        credits_used: Some(1280.59),
        overage_enabled: Some(true),
        free_trial: Some(FreeTrial {
            used: 3.25,
            expiry: 1_781_000_000,
            ..FreeTrial::default()
        }),
        bonuses: Some(vec![Bonus {
            expires_at: 1_782_000_000,
            ..Bonus::default()
        }]),
        email: Some("user@example.com".into()),
        ..CreateAccount::default()
    });
    let (s, v) = usage(&sim, &a, true).await;
    assert_eq!(s, 200, "{v}");
    for key in [
        "nextDateReset",
        "daysUntilReset",
        "subscriptionInfo",
        "overageConfiguration",
        "usageBreakdownList",
        "userInfo",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["subscriptionInfo"]["subscriptionTitle"], "KIRO PRO");
    assert_eq!(v["subscriptionInfo"]["type"], "Q_DEVELOPER_STANDALONE_PRO");
    assert_eq!(v["overageConfiguration"]["overageStatus"], "ENABLED");
    let e = &v["usageBreakdownList"][0];
    assert_eq!(e["resourceType"], "CREDIT");
    assert_eq!(e["currentUsage"], 1280);
    assert_eq!(e["currentUsageWithPrecision"], 1280.59);
    assert_eq!(e["usageLimitWithPrecision"], 1000.0);
    assert_eq!(e["currentOverages"], 280);
    assert_eq!(e["currentOveragesWithPrecision"], 280.59);
    for key in [
        "displayName",
        "displayNamePlural",
        "unit",
        "currency",
        "overageCap",
        "overageCapWithPrecision",
        "overageRate",
        "overageCharges",
        "nextDateReset",
    ] {
        assert!(e.get(key).is_some(), "{key}");
    }
    assert_eq!(e["freeTrialInfo"]["freeTrialStatus"], "ACTIVE");
    assert_eq!(e["freeTrialInfo"]["currentUsageWithPrecision"], 3.25);
    assert_eq!(e["bonuses"][0]["bonusCode"], "WELCOME");
    assert_eq!(v["userInfo"]["email"], "user@example.com");
    assert!(uuid::Uuid::parse_str(v["userInfo"]["userId"].as_str().unwrap()).is_ok());
    assert!(v["daysUntilReset"].as_i64().unwrap() >= 1);

    // Missing profileArn for a social account -> 400 Invalid profileArn.
    let (s, v) = usage(&sim, &a, false).await;
    assert_eq!(s, 400);
    assert_eq!(v.to_string(), ErrorKind::InvalidProfileArn.body());

    // API key: no profileArn needed. Builder ID: none to send. IdC user ids are d-….
    let k = sim.account(AccountKind::ApiKey);
    assert_eq!(usage(&sim, &k, false).await.0, 200);
    let b = sim.account(AccountKind::Idc);
    let (s, v) = usage(&sim, &b, false).await;
    assert_eq!(s, 200);
    assert!(v["userInfo"]["userId"].as_str().unwrap().starts_with("d-"));
}

#[tokio::test]
async fn models_by_tier_get_and_post() {
    let sim = Sim::start().await;
    let free = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Social),
        tier: Some(Tier::Free),
        ..CreateAccount::default()
    });
    let pro = sim.account(AccountKind::Social);
    let ids = |v: &Value| -> Vec<String> {
        v["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["modelId"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |a: &AccountSecrets| {
        auth(
            sim.http
                .get(sim.url("/ListAvailableModels?origin=AI_EDITOR")),
            a,
        )
        .send()
    };
    let v: Value = get(&free).await.unwrap().json().await.unwrap();
    assert!(ids(&v).iter().all(|id| !id.contains("opus")));
    assert_eq!(v["defaultModel"]["modelId"], "auto");
    let v: Value = get(&pro).await.unwrap().json().await.unwrap();
    assert!(ids(&v).iter().any(|id| id.contains("opus")));
    let v: Value = auth(sim.http.post(sim.url("/ListAvailableModels")), &pro)
        .json(&json!({"origin": "AI_EDITOR"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!ids(&v).is_empty());
    // Opus on the free tier is refused at chat time too.
    let (s, _, body) = sim
        .chat_body(&free, &chat_body("x", "claude-opus-4.5"))
        .await;
    assert_eq!(s, 400);
    assert_eq!(body, ErrorKind::InvalidModelId.body());
}

#[tokio::test]
async fn profiles_per_account_kind() {
    let sim = Sim::start().await;
    let list = |a: AccountSecrets| {
        let rb = auth(sim.http.post(sim.url("/ListAvailableProfiles")), &a)
            .json(&json!({"maxResults": 10}));
        async move { rb.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let v = list(sim.account(AccountKind::Social)).await;
    assert_eq!(
        v["profiles"][0]["arn"],
        "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
    );
    assert_eq!(v["profiles"][0]["profileName"], "QDefaultProfile");
    assert!(v.as_object().unwrap().contains_key("nextToken"));
    let v = list(sim.account(AccountKind::Idc)).await;
    assert_eq!(v["profiles"], json!([]), "Builder ID has none");
    let ent = sim.account_with(CreateAccount {
        kind: Some(AccountKind::Idc),
        start_url: Some("https://d-1234567890.awsapps.com/start".into()),
        api_region: Some("eu-central-1".into()),
        ..CreateAccount::default()
    });
    let v = list(ent).await;
    assert!(
        v["profiles"][0]["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:codewhisperer:eu-central-1:")
    );
}

#[tokio::test]
async fn mcp_tools_list_and_web_search() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let rpc = |body: Value| {
        let rb = auth(sim.http.post(sim.url("/mcp")), &a)
            .header(
                "x-amzn-kiro-profile-arn",
                a.account.profile_arn.clone().unwrap(),
            )
            .json(&body);
        async move { rb.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let v = rpc(json!({"jsonrpc": "2.0", "id": "5b0c", "method": "tools/list"})).await;
    assert_eq!(v["id"], "5b0c");
    assert_eq!(v["result"]["tools"][0]["name"], "web_search");
    assert!(v["result"]["tools"][0]["inputSchema"].is_object());

    let call = |q: &str| {
        json!({"jsonrpc": "2.0", "id": "9e1d", "method": "tools/call",
               "params": {"name": "web_search", "arguments": {"query": q, "maxResults": 4}}})
    };
    let v = rpc(call("rust tokio select")).await;
    assert_eq!(v["result"]["isError"], false);
    let doc: Value =
        serde_json::from_str(v["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(doc["totalResults"], 4);
    let r0 = &doc["results"][0];
    for key in [
        "title",
        "url",
        "snippet",
        "publishedDate",
        "id",
        "domain",
        "publicDomain",
    ] {
        assert!(r0.get(key).is_some(), "{key}");
    }
    assert_eq!(rpc(call("rust tokio select")).await, v, "deterministic");
    assert_eq!(rpc(call("sim:error")).await["result"]["isError"], true);
    assert_eq!(rpc(call("sim:empty")).await["result"]["content"], json!([]));
    assert!(rpc(call("sim:rpc-error")).await["error"]["code"].is_i64());
    assert_eq!(
        rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "nope"})).await["error"]["code"],
        -32601
    );
}

#[tokio::test]
async fn metering_debits_then_402_until_the_monthly_reset() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let id = a.account.id.clone();
    let (s, _, bytes) = sim.chat_body(&a, &chat_body("x", "claude-haiku-4.5")).await;
    assert_eq!(s, 200);
    let metered: f64 = events(&bytes)
        .iter()
        .filter_map(|e| match e {
            kiro_wire::Event::Metering(m) => Some(m.usage),
            _ => None,
        })
        .sum();
    assert!((metered - 0.004).abs() < 1e-9, "0.4 × 0.01: {metered}");
    let used = sim.handle.state().account(&id).unwrap().credits_used;
    assert!((used - 0.004).abs() < 1e-9);

    // Base credit is a setting.
    sim.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"base_credit": 1.0}),
    )
    .await;
    sim.chat(&a, "x").await;
    let used = sim.handle.state().account(&id).unwrap().credits_used;
    assert!((used - 1.304).abs() < 1e-9, "{used}");

    // Used up -> 402 MONTHLY_REQUEST_COUNT.
    sim.control(
        reqwest::Method::PATCH,
        &format!("/accounts/{id}"),
        json!({"credits_used": 1000.0}),
    )
    .await;
    let (s, _, body) = sim.chat(&a, "x").await;
    assert_eq!(s, 402);
    assert_eq!(body, ErrorKind::MonthlyRequestCount.body());
    assert_eq!(sim.chat(&a, "x").await.0, 402);

    // Past nextDateReset the period rolls over (the old access token expired meanwhile).
    let reset = sim.handle.state().account(&id).unwrap().next_date_reset;
    let now = sim.handle.state().clock().now_secs();
    sim.handle.state().advance_clock(reset - now + 1);
    assert_eq!(sim.chat(&a, "x").await.0, 403);
    let t = sim
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{id}/tokens"),
            json!({}),
        )
        .await;
    let fresh = AccountSecrets {
        access_token: t["access_token"].as_str().map(str::to_owned),
        ..a.clone()
    };
    assert_eq!(sim.chat(&fresh, "x").await.0, 200);
    let acct = sim.handle.state().account(&id).unwrap();
    assert!(acct.credits_used < 2.0, "{}", acct.credits_used);
    assert!(acct.next_date_reset > reset);
}
