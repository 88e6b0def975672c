//! Usage, models, profiles, MCP and the device login calls parse the simulator's answers.

pub mod upstream_support;

use kiro_sim::{AccountKind, CreateAccount, SimConfig};
use kiro_wire::types::{McpRequest, OidcErrorCode, Secret, ToolsCallResult};
use serde_json::json;
use upstream_support::*;

#[tokio::test]
async fn usage_limits_parse() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create(
        &sim,
        CreateAccount {
            kind: Some(AccountKind::Social),
            credits_used: Some(12.5),
            email: Some("dev@example.com".to_owned()),
            ..Default::default()
        },
    );
    let auth = auth(&acct);
    let usage = client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap();
    let entry = usage.credit_entry().unwrap();
    assert!(entry.usable_limit() > 0.0);
    assert!((entry.used() - 12.5).abs() < 0.01, "{}", entry.used());
    assert_eq!(usage.email(), Some("dev@example.com"));
    assert!(usage.next_reset().is_some());
    assert!(usage.plan_title().is_some());
}

#[tokio::test]
async fn usage_without_the_arn_is_an_http_error_with_facts() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    let err = client
        .get_usage_limits(&auth(&acct), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(
        err.error_body()
            .unwrap()
            .message()
            .unwrap()
            .contains("profileArn")
    );
}

#[tokio::test]
async fn an_expired_bearer_gets_403() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    sim.state().advance_clock(3601);
    let auth = auth(&acct);
    let err = client
        .list_models(&auth, auth.profile_arn())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(
        err.error_body()
            .unwrap()
            .message()
            .unwrap()
            .contains("bearer token")
    );
}

#[tokio::test]
async fn models_parse() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    let models = client.list_models(&auth, auth.profile_arn()).await.unwrap();
    assert!(models.default_model_id().is_some());
    let sonnet = models.find("claude-sonnet-4.5").expect("sonnet 4.5 listed");
    assert!(sonnet.max_input_tokens().unwrap() >= 200_000);
    assert!(models.next_token.is_none());
}

#[tokio::test]
async fn models_follow_next_token() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::ApiKey);
    let page = |models: serde_json::Value, next: Option<&str>| {
        json!({"type": "http", "status": 200, "path": "/ListAvailableModels",
               "headers": {"content-type": "application/json"},
               "body": json!({"defaultModel": {"modelId": "auto"}, "models": models,
                              "nextToken": next}).to_string()})
    };
    queue(&sim, page(json!([{"modelId": "m1"}]), Some("p2")));
    queue(
        &sim,
        page(json!([{"modelId": "m2"}, {"modelId": "m3"}]), None),
    );
    let models = client.list_models(&auth(&acct), None).await.unwrap();
    let ids: Vec<_> = models.models.iter().map(|m| m.model_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    let log = requests_to(&sim, "/ListAvailableModels");
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[1].query.as_deref(),
        Some("origin=AI_EDITOR&maxResults=50&nextToken=p2")
    );
}

#[tokio::test]
async fn profiles_parse() {
    let sim = sim().await;
    let client = client(&sim);
    let enterprise = create(
        &sim,
        CreateAccount {
            kind: Some(AccountKind::Idc),
            start_url: Some("https://d-1234567890.awsapps.com/start".to_owned()),
            ..Default::default()
        },
    );
    let builder_id = create_kind(&sim, AccountKind::Idc);
    let own = enterprise.account.profile_arn.clone().unwrap();
    let profiles = client.list_profiles(&auth(&enterprise)).await.unwrap();
    assert_eq!(profiles.profiles.len(), 1);
    assert_eq!(profiles.profiles[0].arn, own);
    let none = client.list_profiles(&auth(&builder_id)).await.unwrap();
    assert!(none.profiles.is_empty());
}

#[tokio::test]
async fn mcp_web_search() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    let req = McpRequest::web_search("9e1d-1", "rust tokio select", Some(3));
    let resp = client.mcp::<ToolsCallResult>(&auth, &req, 1).await.unwrap();
    let results = resp.into_result().unwrap().web_search_results().unwrap();
    assert!(!results.results.is_empty());
    let logged = &requests_to(&sim, "/mcp")[0];
    assert_eq!(
        logged.header("x-amzn-kiro-profile-arn"),
        acct.account.profile_arn.as_deref()
    );
    assert!(
        logged
            .header("user-agent")
            .unwrap()
            .contains("api/codewhispererstreaming")
    );
}

#[tokio::test]
async fn device_login_calls() {
    let mut config = SimConfig::default();
    config.settings.device_interval = 0;
    config.settings.device_pending_polls = 1;
    let sim = kiro_sim::start(config).await.unwrap();
    let client = client(&sim);
    let headers = headers(MACHINE_ID);
    let reg = client.register_client("us-east-1", &headers).await.unwrap();
    let device = client
        .device_authorization(
            "us-east-1",
            &headers,
            &reg.client_id,
            &reg.client_secret,
            "https://view.awsapps.com/start",
        )
        .await
        .unwrap();
    assert!(!device.user_code.is_empty());
    assert!(device.verification_url().contains(&device.user_code));
    let poll = || {
        client.poll_device_token(
            "us-east-1",
            &headers,
            &reg.client_id,
            &reg.client_secret,
            &device.device_code,
        )
    };
    let pending = poll().await.unwrap_err();
    assert_eq!(pending.status(), Some(400));
    assert_eq!(
        pending.oidc_code(),
        Some(OidcErrorCode::AuthorizationPending)
    );
    let tokens = poll().await.unwrap();
    assert!(tokens.access_token.expose().starts_with("aoa"));
    assert!(tokens.new_refresh_token().is_some());

    let bad = client
        .device_authorization(
            "us-east-1",
            &headers,
            "no-such-client",
            &Secret::new("x"),
            "https://view.awsapps.com/start",
        )
        .await
        .unwrap_err();
    assert_eq!(bad.oidc_code(), Some(OidcErrorCode::InvalidClient));
}
