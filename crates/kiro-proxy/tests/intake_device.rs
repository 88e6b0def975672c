//! Device-code login through the admin API against kiro-sim: the server polls the token
//! endpoint itself (pending, slow_down, success, expired, denied), resolves the profile ARN and
//! the identity, stores the account and updates it on a second login of the same user.
#![cfg(test)]

#[expect(
    dead_code,
    reason = "each intake test uses a subset of the shared helpers"
)]
mod intake_support;

use std::time::Duration;

use axum::http::StatusCode;
use intake_support::*;
use kiro_proxy::admin::ChangeKind;
use serde_json::{Value, json};

/// Starts a login and checks the answer's shape.
async fn start(h: &Harness, body: Value) -> (String, String) {
    let (status, started) = h.call("POST", "/api/auth/device", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let session = started["sessionId"].as_str().unwrap().to_owned();
    let code = started["userCode"].as_str().unwrap().to_owned();
    assert!(
        started["verificationUriComplete"]
            .as_str()
            .unwrap()
            .contains(&code),
        "{started}"
    );
    assert!(
        started["verificationUri"]
            .as_str()
            .unwrap()
            .ends_with("/#/device")
    );
    assert!(started["expiresAt"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(started["interval"], 1, "{started}");
    (session, code)
}

async fn wait_polls(h: &Harness, n: usize) {
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    while h.token_polls().len() < n {
        assert!(tokio::time::Instant::now() < until, "fewer than {n} polls");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn enterprise_login_pending_then_success_with_profile_and_identity() {
    let h = harness().await;
    sim_settings(
        &h.sim,
        json!({"device_auto_approve": false, "device_pending_polls": 0}),
    );
    let changes = h.changes.subscribe(ChangeKind::Accounts);
    let (session, code) = start(
        &h,
        json!({"startUrl": ENTERPRISE_START_URL, "region": "us-east-1"}),
    )
    .await;

    let (_, status) = h
        .call("GET", &format!("/api/auth/device/{session}"), None)
        .await;
    assert_eq!(status, json!({"status": "pending"}));
    // The server polls by itself, at the interval, while nobody approves.
    wait_polls(&h, 2).await;
    let (_, status) = h
        .call("GET", &format!("/api/auth/device/{session}"), None)
        .await;
    assert_eq!(status["status"], "pending");
    assert!(!changes.has_changed().unwrap());

    sim_control(
        &h.sim,
        "POST",
        &format!("/_sim/device/{code}/approve"),
        json!({}),
    )
    .await;
    let done = h.wait_for_login(&session, Duration::from_secs(10)).await;
    assert_eq!(done["status"], "success", "{done}");
    let account = &done["account"];
    assert_eq!(account["authMethod"], "idc");
    assert_eq!(account["startUrl"], ENTERPRISE_START_URL);
    assert_eq!(account["authRegion"], "us-east-1");
    assert_eq!(account["apiRegion"], "us-east-1");
    let arn = account["profileArn"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:codewhisperer:us-east-1:"), "{arn}");
    assert!(account["email"].as_str().unwrap().ends_with("@example.com"));
    assert!(account["userId"].as_str().unwrap().starts_with("d-"));
    assert!(account["hasRefreshToken"].as_bool().unwrap());
    assert!(changes.has_changed().unwrap());

    // The polls were paced at the interval, not hammered.
    let polls = h.token_polls();
    for pair in polls.windows(2) {
        assert!(pair[1].at_ms - pair[0].at_ms >= 900, "polls too close");
    }
    // The profile and the identity were asked for with the new token.
    let paths: Vec<String> = h
        .sim
        .state()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        paths.iter().any(|p| p == "/ListAvailableProfiles"),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "/getUsageLimits"), "{paths:?}");

    let listed = h.accounts().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["profileArn"], arn);
    assert_eq!(listed[0]["email"], account["email"]);

    let record = h
        .store
        .get_account(account["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let c = &record.account.credentials;
    // The view shows no secret.
    let text = serde_json::to_string(&listed).unwrap();
    for secret in [&c.access_token, &c.refresh_token, &c.client_secret] {
        assert!(!text.contains(secret.as_ref().unwrap().expose()), "{text}");
    }
    assert!(c.client_id.is_some() && c.client_secret.is_some());
    assert!(c.client_secret_expires_at.is_some());
    assert!(c.refresh_token.as_ref().unwrap().len() >= 100);
    assert!(c.expires_at.unwrap() > now_secs() + 3000);
    assert_eq!(record.account.machine_id.len(), 64);
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn builder_id_by_default_and_a_second_login_updates_the_same_account() {
    let h = harness().await;
    // Defaults: Builder ID's start URL, us-east-1, an empty body.
    let (status, started) = h
        .call_raw("POST", "/api/auth/device", None)
        .await
        .into_json();
    assert_eq!(status, StatusCode::OK, "{started}");
    assert!(
        started["verificationUri"]
            .as_str()
            .unwrap()
            .starts_with(BUILDER_ID_START_URL)
    );
    let session = started["sessionId"].as_str().unwrap();
    let first = h.wait_for_login(session, Duration::from_secs(10)).await;
    assert_eq!(first["status"], "success", "{first}");
    let account = &first["account"];
    assert_eq!(account["startUrl"], BUILDER_ID_START_URL);
    assert!(account["profileArn"].is_null(), "{account}");
    assert!(account["email"].is_string(), "{account}");
    let id = account["id"].as_str().unwrap().to_owned();
    let first_refresh = refresh_token(&h, &id).await;

    // The same user logs in again: the simulator issues new tokens for the same account.
    let sim_account = sim_account_of(&h.sim, started["userCode"].as_str().unwrap()).await;
    sim_settings(&h.sim, json!({"device_auto_approve": false}));
    let (session, code) = start(&h, json!({})).await;
    sim_control(
        &h.sim,
        "POST",
        &format!("/_sim/device/{code}/approve"),
        json!({"account": sim_account}),
    )
    .await;
    let second = h.wait_for_login(&session, Duration::from_secs(10)).await;
    assert_eq!(second["status"], "success", "{second}");
    assert_eq!(second["account"]["id"], id.as_str());
    let listed = h.accounts().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_ne!(refresh_token(&h, &id).await, first_refresh);
}

async fn refresh_token(h: &Harness, id: &str) -> String {
    let r = h.store.get_account(id).await.unwrap().unwrap();
    r.account
        .credentials
        .refresh_token
        .unwrap()
        .expose()
        .to_owned()
}

trait IntoJson {
    fn into_json(self) -> (StatusCode, Value);
}

impl IntoJson for (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    fn into_json(self) -> (StatusCode, Value) {
        (self.0, serde_json::from_slice(&self.2).unwrap())
    }
}

#[tokio::test]
async fn slow_down_grows_the_interval() {
    let h = harness().await;
    sim_settings(&h.sim, json!({"device_auto_approve": false}));
    let (session, code) = start(&h, json!({})).await;
    wait_polls(&h, 1).await;
    // The next poll is told to slow down; from then on the simulator itself requires 6 s
    // between polls and answers slow_down again to anything faster.
    h.sim.state().queue(
        serde_json::from_value(json!({"type": "error", "kind": "slow_down", "path": "/token"}))
            .unwrap(),
    );
    sim_control(
        &h.sim,
        "PATCH",
        &format!("/_sim/device/{code}"),
        json!({"interval": 6, "pending_polls": 0, "auto_approve": true}),
    )
    .await;
    let done = h.wait_for_login(&session, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "success", "{done}");

    let polls = h.token_polls();
    let outcomes: Vec<Option<u16>> = polls.iter().map(|p| p.status).collect();
    assert_eq!(polls.len(), 3, "{outcomes:?}");
    assert_eq!(outcomes, vec![Some(400), Some(400), Some(200)]);
    // 1 s before the slow_down, 1 + 5 s after it.
    assert!(polls[1].at_ms - polls[0].at_ms < 3000);
    assert!(
        polls[2].at_ms - polls[1].at_ms >= 5900,
        "interval not grown: {} ms",
        polls[2].at_ms - polls[1].at_ms
    );
}

#[tokio::test]
async fn expired_device_code() {
    let h = harness().await;
    sim_settings(&h.sim, json!({"device_auto_approve": false}));
    let (session, _) = start(&h, json!({})).await;
    wait_polls(&h, 1).await;
    h.sim.state().advance_clock(601);
    let done = h.wait_for_login(&session, Duration::from_secs(10)).await;
    assert_eq!(done["status"], "expired", "{done}");
    assert!(done["error"].as_str().unwrap().contains("expired"));
    assert!(h.accounts().await.is_empty());
}

#[tokio::test]
async fn denied_login() {
    let h = harness().await;
    sim_settings(&h.sim, json!({"device_auto_approve": false}));
    let (session, code) = start(&h, json!({})).await;
    wait_polls(&h, 1).await;
    sim_control(
        &h.sim,
        "POST",
        &format!("/_sim/device/{code}/deny"),
        json!({}),
    )
    .await;
    let done = h.wait_for_login(&session, Duration::from_secs(10)).await;
    assert_eq!(done["status"], "denied", "{done}");
    assert!(done.get("account").is_none());
    assert!(h.accounts().await.is_empty());
}

#[tokio::test]
async fn bad_requests_and_upstream_failures() {
    let h = harness().await;
    let (status, body) = h
        .call(
            "POST",
            "/api/auth/device",
            Some(json!({"startUrl": "http://plain.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("startUrl")
    );
    let (status, body) = h
        .call("POST", "/api/auth/device", Some(json!({"region": "Mars"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h.call("GET", "/api/auth/device/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    h.sim.state().queue(
        serde_json::from_value(
            json!({"type": "error", "kind": "invalid_client_metadata", "path": "/client/register"}),
        )
        .unwrap(),
    );
    let (status, body) = h.call("POST", "/api/auth/device", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_client_metadata"),
        "{body}"
    );

    // Without the admin token nothing starts.
    let resp = tower::ServiceExt::oneshot(
        h.app.clone(),
        axum::http::Request::post("/api/auth/device")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
