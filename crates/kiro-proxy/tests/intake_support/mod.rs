//! Shared helpers of the intake tests (device login, import, export, account management,
//! outbound proxies): a simulator, the admin API over a temporary store, fixture files.

// Every including test file is `#![cfg(test)]`, so clippy's test allowances (unwrap: a failed
// setup panics loudly) reach these helpers too.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use kiro_proxy::admin::{self, AdminChanges, AdminState, AdminToken};
use kiro_proxy::client_auth::ClientAuth;
use kiro_proxy::config::Config;
use kiro_proxy::crypto::Crypto;
use kiro_proxy::store::Store;
use kiro_proxy::upstream::{UpstreamClient, UpstreamConfig, UpstreamUrls};
use kiro_sim::{AccountKind, AccountSecrets, CreateAccount, SimConfig, SimHandle};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const ADMIN: &str = "intake-admin-token-0123456789";
pub const ENTERPRISE_START_URL: &str = "https://d-1234567890.awsapps.com/start";
pub const BUILDER_ID_START_URL: &str = "https://view.awsapps.com/start";
pub const MASTER_KEY: [u8; 32] = [5u8; 32];

/// The admin API over a fresh store, with the upstream pointed at a simulator.
pub struct Harness {
    pub sim: SimHandle,
    pub app: Router,
    pub store: Store,
    pub changes: AdminChanges,
    pub dir: tempfile::TempDir,
}

pub async fn sim() -> SimHandle {
    kiro_sim::start(SimConfig::default()).await.unwrap()
}

pub async fn harness() -> Harness {
    harness_on(sim().await).await
}

pub async fn harness_on(sim: SimHandle) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &Crypto::from_key(&MASTER_KEY))
        .await
        .unwrap();
    let config = Config::default();
    let client_auth = ClientAuth::new(&config.api_keys, store.clone())
        .await
        .unwrap();
    let changes = AdminChanges::new();
    let upstream = UpstreamClient::new(
        UpstreamUrls::single(sim.base_url()),
        UpstreamConfig::default(),
    )
    .unwrap();
    let state = AdminState::new(
        store.clone(),
        AdminToken::from_plaintext(ADMIN),
        client_auth,
        changes.clone(),
        upstream,
        &config,
    );
    Harness {
        sim,
        app: Router::new().nest("/api", admin::router(state)),
        store,
        changes,
        dir,
    }
}

impl Harness {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, _, bytes) = self
            .call_raw(method, path, body.map(|b| b.to_string()))
            .await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {ADMIN}"));
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
            .await
            .unwrap();
        (status, headers, bytes.to_vec())
    }

    /// `GET /api/accounts`.
    pub async fn accounts(&self) -> Vec<Value> {
        let (status, body) = self.call("GET", "/api/accounts", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["accounts"].as_array().unwrap().clone()
    }

    /// Polls `GET /api/auth/device/{id}` until it leaves `pending` (or `limit` passes).
    pub async fn wait_for_login(&self, session: &str, limit: Duration) -> Value {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let (status, body) = self
                .call("GET", &format!("/api/auth/device/{session}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if body["status"] != "pending" || tokio::time::Instant::now() > until {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Token polls the simulator has seen.
    pub fn token_polls(&self) -> Vec<kiro_sim::log::RecordedRequest> {
        token_polls(&self.sim)
    }
}

pub fn token_polls(sim: &SimHandle) -> Vec<kiro_sim::log::RecordedRequest> {
    sim.state()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect()
}

/// Merges `patch` into the simulator's settings.
pub fn sim_settings(sim: &SimHandle, patch: Value) {
    let settings = sim.state().settings().patched(&patch).unwrap();
    sim.state().set_settings(settings);
}

/// A call to the simulator's control API (`/_sim/…`).
pub async fn sim_control(sim: &SimHandle, method: &str, path: &str, body: Value) -> Value {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", sim.base_url());
    let req = match method {
        "POST" => client.post(url),
        "PATCH" => client.patch(url),
        _ => client.get(url),
    };
    let resp = req.json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// The simulator account a device login with `user_code` created or updated.
pub async fn sim_account_of(sim: &SimHandle, user_code: &str) -> String {
    let sessions = sim_control(sim, "GET", "/_sim/device", json!({})).await;
    sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_code"] == user_code)
        .and_then(|s| s["account"].as_str())
        .unwrap()
        .to_owned()
}

pub fn sim_account(sim: &SimHandle, kind: AccountKind) -> AccountSecrets {
    sim.state()
        .create_account(&CreateAccount {
            kind: Some(kind),
            ..Default::default()
        })
        .unwrap()
}

/// The IDE token cache of a simulator account (`kiro-auth-token.json`).
pub fn ide_token(s: &AccountSecrets, start_url: Option<&str>) -> Value {
    let mut token = json!({
        "accessToken": s.access_token,
        "refreshToken": s.refresh_token,
        "expiresAt": "2026-12-01T10:00:00.000Z",
        "region": "us-east-1",
    });
    match s.account.kind {
        AccountKind::Social => {
            token["authMethod"] = json!("social");
            token["provider"] = json!("Github");
            token["profileArn"] = json!(s.account.profile_arn);
        }
        _ => {
            let url = start_url.unwrap();
            token["authMethod"] = json!("IdC");
            token["provider"] = json!("Enterprise");
            token["startUrl"] = json!(url);
            token["clientIdHash"] = json!(client_id_hash(url));
        }
    }
    token
}

/// The IDE's client registration file of a simulator IdC account.
pub fn ide_registration(s: &AccountSecrets) -> Value {
    json!({
        "clientId": s.client_id,
        "clientSecret": s.client_secret,
        "expiresAt": "2027-02-01T10:00:00.000Z",
        "scopes": ["codewhisperer:completions"],
    })
}

/// `kiro_proxy::accounts::import_formats::client_id_hash`, recomputed independently.
pub fn client_id_hash(start_url: &str) -> String {
    use sha1::Digest;
    let text = format!("{{\"startUrl\":\"{start_url}\"}}");
    hex::encode(sha1::Sha1::digest(text.as_bytes()))
}

/// A Go-project `kiro-accounts.json` with a Builder ID and an Enterprise account.
pub fn seed_file(builder: &AccountSecrets, enterprise: &AccountSecrets) -> Value {
    let entry = |s: &AccountSecrets, method: &str, email: &str| {
        json!({
            "id": "3f2a9c1d0b7e6a55",
            "deviceCode": "dc", "userCode": "ABCD-EFGH",
            "token": {
                "accessToken": s.access_token, "refreshToken": s.refresh_token,
                "expiresAt": "2026-02-08T20:57:25+08:00",
                "clientIdHash": "e909a0580879b06ece1202964fbe9dda95ea4ce3",
                "authMethod": method, "provider": method, "region": "us-east-1"
            },
            "clientId": s.client_id, "clientSecret": s.client_secret,
            "userId": s.account.user_id, "email": email,
            "profileArn": s.account.profile_arn,
            "createdAt": "2026-02-08T19:57:25+08:00", "lastUsedAt": "2026-02-08T19:57:25+08:00"
        })
    };
    json!({"accounts": [
        entry(builder, "BuilderId", "builder@example.com"),
        entry(enterprise, "Enterprise", "enterprise@example.com"),
    ]})
}

pub fn sim_idc(sim: &SimHandle, start_url: &str) -> AccountSecrets {
    sim.state()
        .create_account(&CreateAccount {
            kind: Some(AccountKind::Idc),
            start_url: Some(start_url.to_owned()),
            ..Default::default()
        })
        .unwrap()
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// Opens the store the binary wrote in `dir` (its own master key file).
pub async fn open_store(dir: &Path) -> Store {
    let crypto = Crypto::load(dir, None).unwrap();
    Store::open(dir, &crypto).await.unwrap()
}

/// `kiro-proxy <args>` with only the environment it needs: the simulator as every upstream.
pub fn binary(sim: &SimHandle, data_dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kiro-proxy"));
    cmd.env_clear()
        .env("KIRO_LOG", "warn")
        .env("KIRO_DATA_DIR", data_dir)
        .env("KIRO_Q_URL", sim.base_url())
        .env("KIRO_CODEWHISPERER_URL", sim.base_url())
        .env("KIRO_SOCIAL_AUTH_URL", sim.base_url())
        .env("KIRO_OIDC_URL", sim.base_url());
    cmd
}
