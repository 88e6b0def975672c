//! The exact spec §9 header sets, as the simulator's request log records them.

pub mod upstream_support;

use kiro_sim::AccountKind;
use kiro_sim::log::RecordedRequest;
use kiro_wire::types::Secret;
use upstream_support::*;

const UA_TAIL: &str = "ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.22.0";

fn h<'a>(r: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    r.header(name)
}

#[expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helper: a failure panics"
)]
fn assert_uuid_v4(v: Option<&str>) -> String {
    let v = v.expect("amz-sdk-invocation-id");
    assert_eq!(
        uuid::Uuid::parse_str(v).unwrap().get_version_num(),
        4,
        "{v}"
    );
    v.to_owned()
}

#[tokio::test]
async fn chat_headers_for_oauth_and_fresh_invocation_ids() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    for attempt in [1, 2] {
        let stream = client
            .chat(&auth, chat_body("hello"), attempt)
            .await
            .unwrap();
        drop(stream);
    }
    let log = requests_to(&sim, "/generateAssistantResponse");
    assert_eq!(log.len(), 2);
    let mut ids = Vec::new();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.status, Some(200), "{:?}", r.outcome);
        assert_eq!(
            h(r, "authorization"),
            Some(format!("Bearer {}", acct.access_token.as_deref().unwrap()).as_str())
        );
        assert_eq!(h(r, "content-type"), Some("application/json"));
        assert_eq!(h(r, "accept"), Some("application/vnd.amazon.eventstream"));
        assert_eq!(h(r, "x-amzn-codewhisperer-optout"), Some("true"));
        assert_eq!(h(r, "x-amzn-kiro-agent-mode"), Some("vibe"));
        assert_eq!(
            h(r, "x-amz-user-agent"),
            Some(format!("aws-sdk-js/1.0.34 KiroIDE-0.11.107-{MACHINE_ID}").as_str())
        );
        assert_eq!(
            h(r, "user-agent"),
            Some(
                format!(
                    "aws-sdk-js/1.0.34 {UA_TAIL} api/codewhispererstreaming#1.0.34 m/E \
                     KiroIDE-0.11.107-{MACHINE_ID}"
                )
                .as_str()
            )
        );
        assert_eq!(
            h(r, "amz-sdk-request"),
            Some(format!("attempt={}; max=3", i + 1).as_str())
        );
        assert_eq!(h(r, "tokentype"), None);
        assert_eq!(h(r, "accept-encoding"), None);
        ids.push(assert_uuid_v4(h(r, "amz-sdk-invocation-id")));
    }
    assert_ne!(ids[0], ids[1], "a fresh invocation id per attempt");
}

#[tokio::test]
async fn api_keys_send_tokentype_and_never_a_profile_arn() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::ApiKey);
    let auth = auth(&acct);
    assert_eq!(auth.profile_arn(), None);

    // The simulator refuses a key without `tokentype` or with a profileArn anywhere, so these
    // succeeding is itself the check; the log shows the details.
    drop(client.chat(&auth, chat_body("hello"), 1).await.unwrap());
    let arn = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK";
    client.get_usage_limits(&auth, Some(arn)).await.unwrap();
    client.list_models(&auth, Some(arn)).await.unwrap();

    let chat = &requests_to(&sim, "/generateAssistantResponse")[0];
    assert_eq!(h(chat, "tokentype"), Some("API_KEY"));
    assert_eq!(
        h(chat, "authorization"),
        Some(format!("Bearer {}", acct.api_key.as_deref().unwrap()).as_str())
    );
    assert!(chat.body_json().unwrap().get("profileArn").is_none());
    let usage = &requests_to(&sim, "/getUsageLimits")[0];
    assert_eq!(h(usage, "tokentype"), Some("API_KEY"));
    assert_eq!(
        usage.query.as_deref(),
        Some("origin=AI_EDITOR&resourceType=AGENTIC_REQUEST&isEmailRequired=true")
    );
    let models = &requests_to(&sim, "/ListAvailableModels")[0];
    assert!(!models.query.as_deref().unwrap_or("").contains("profileArn"));
}

#[tokio::test]
async fn usage_models_and_profiles_headers() {
    let sim = sim().await;
    let client = client(&sim);
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    let arn = acct.account.profile_arn.clone().unwrap();
    client.get_usage_limits(&auth, Some(&arn)).await.unwrap();
    client.list_models(&auth, Some(&arn)).await.unwrap();
    client.list_profiles(&auth).await.unwrap();

    let usage = &requests_to(&sim, "/getUsageLimits")[0];
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    assert_eq!(
        usage.query.as_deref(),
        Some(
            format!(
                "origin=AI_EDITOR&resourceType=AGENTIC_REQUEST&isEmailRequired=true&profileArn={encoded}"
            )
            .as_str()
        )
    );
    let models = &requests_to(&sim, "/ListAvailableModels")[0];
    assert_eq!(
        models.query.as_deref(),
        Some(format!("origin=AI_EDITOR&profileArn={encoded}&maxResults=50").as_str())
    );
    let profiles = &requests_to(&sim, "/ListAvailableProfiles")[0];
    assert_eq!(profiles.method, "POST");
    assert_eq!(h(profiles, "content-type"), Some("application/json"));
    assert_eq!(
        profiles.body_json().unwrap(),
        serde_json::json!({"maxResults": 10})
    );

    for r in [usage, models, profiles] {
        assert_eq!(r.status, Some(200), "{} {:?}", r.path, r.outcome);
        assert_eq!(h(r, "accept"), Some("application/json"));
        assert_eq!(
            h(r, "user-agent"),
            Some(
                format!(
                    "aws-sdk-js/1.0.34 {UA_TAIL} api/codewhispererruntime#1.0.34 m/E \
                     KiroIDE-0.11.107-{MACHINE_ID}"
                )
                .as_str()
            )
        );
        assert_eq!(
            h(r, "x-amz-user-agent"),
            Some(format!("aws-sdk-js/1.0.34 KiroIDE-0.11.107-{MACHINE_ID}").as_str())
        );
        assert_eq!(h(r, "amz-sdk-request"), Some("attempt=1; max=1"));
        assert_eq!(h(r, "x-amzn-kiro-agent-mode"), None);
        assert_eq!(h(r, "tokentype"), None);
        assert_uuid_v4(h(r, "amz-sdk-invocation-id"));
    }
    assert_eq!(h(usage, "content-type"), None, "no content type on a GET");
}

#[tokio::test]
async fn auth_headers() {
    let sim = sim().await;
    let client = client(&sim);
    let headers = headers(MACHINE_ID);
    let social = create_kind(&sim, AccountKind::Social);
    let idc = create_kind(&sim, AccountKind::Idc);
    client
        .refresh_social(
            "us-east-1",
            &headers,
            &Secret::new(social.refresh_token.clone().unwrap()),
        )
        .await
        .unwrap();
    client
        .refresh_idc(
            "us-east-1",
            &headers,
            idc.client_id.as_deref().unwrap(),
            &Secret::new(idc.client_secret.clone().unwrap()),
            &Secret::new(idc.refresh_token.clone().unwrap()),
        )
        .await
        .unwrap();
    client.register_client("us-east-1", &headers).await.unwrap();

    let r = &requests_to(&sim, "/refreshToken")[0];
    assert_eq!(h(r, "content-type"), Some("application/json"));
    assert_eq!(h(r, "accept"), Some("application/json"));
    assert_eq!(
        h(r, "user-agent"),
        Some(format!("KiroIDE-0.11.107-{MACHINE_ID}").as_str())
    );
    assert_eq!(h(r, "authorization"), None);

    let token = &requests_to(&sim, "/token")[0];
    let register = &requests_to(&sim, "/client/register")[0];
    for r in [token, register] {
        assert_eq!(r.status, Some(200), "{} {:?}", r.path, r.outcome);
        assert_eq!(h(r, "content-type"), Some("application/json"));
        assert_eq!(
            h(r, "user-agent"),
            Some(format!("aws-sdk-js/3.738.0 {UA_TAIL} api/sso-oidc#3.738.0 m/E KiroIDE").as_str())
        );
        assert_eq!(h(r, "x-amz-user-agent"), Some("aws-sdk-js/3.738.0 KiroIDE"));
        assert_eq!(h(r, "amz-sdk-request"), Some("attempt=1; max=4"));
        assert_eq!(h(r, "authorization"), None);
        assert_uuid_v4(h(r, "amz-sdk-invocation-id"));
    }
    let body = token.body_json().unwrap();
    assert_eq!(body["grantType"], "refresh_token");
    assert_eq!(body["clientId"], idc.client_id.as_deref().unwrap());
    assert_eq!(
        register.body_json().unwrap(),
        serde_json::json!({"clientName": "Kiro IDE", "clientType": "public",
            "scopes": ["codewhisperer:completions", "codewhisperer:analysis", "codewhisperer:conversations"]})
    );
}
