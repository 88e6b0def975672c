//! Crash safety of rotated refresh tokens: the proxy is killed with SIGKILL right after a refresh
//! that rotated an account's refresh token (revoking the old one), restarted on the same data
//! directory, and must keep serving with what it stored — including a second refresh, which only
//! the rotated refresh token can do.

#![cfg(test)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiro_sim::{AccountKind, CreateAccount, Rotation, SimConfig};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "crash-test-admin-token-0123456789";
const CLIENT_KEY: &str = "sk-crash-test-client-key";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start_proxy(sim_url: &str, data: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kiro-proxy"))
        .args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KIRO_Q_URL", sim_url)
        .env("KIRO_CODEWHISPERER_URL", sim_url)
        .env("KIRO_SOCIAL_AUTH_URL", sim_url)
        .env("KIRO_OIDC_URL", sim_url)
        .env("KIRO_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("KIRO_API_KEYS", CLIENT_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{url}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "proxy never became healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn chat(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let resp = http
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", CLIENT_KEY)
        .json(&json!({
            "model": "claude-sonnet-4.5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hello after a crash"}]
        }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `/refreshToken` calls the simulator answered, with their status.
fn refreshes(sim: &kiro_sim::SimHandle) -> Vec<Option<u16>> {
    sim.state()
        .requests()
        .iter()
        .filter(|r| r.path == "/refreshToken")
        .map(|r| r.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_refresh_token_survives_sigkill() {
    let sim = kiro_sim::start(SimConfig::default()).await.unwrap();
    let secrets = sim
        .state()
        .create_account(&CreateAccount {
            kind: Some(AccountKind::Social),
            rotation: Some(Rotation::NewAndRevokeOld),
            ..CreateAccount::default()
        })
        .unwrap();
    let original_refresh = secrets.refresh_token.clone().unwrap();
    let sim_url = sim.base_url();
    let data = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    // First life: the account arrives with an expired access token, so the first use
    // refreshes, which rotates the refresh token and revokes the original.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut proxy = start_proxy(&sim_url, data.path(), port);
    wait_healthy(&http, &url).await;
    let created = http
        .post(format!("{url}/api/accounts"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "authMethod": "social",
            "refreshToken": original_refresh,
            "accessToken": secrets.access_token,
            "expiresAt": "2020-01-01T00:00:00Z",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let (status, body) = chat(&http, &url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        refreshes(&sim),
        [Some(200)],
        "one refresh, which rotated the token"
    );

    // Killed without any chance to flush.
    proxy.kill().unwrap();
    proxy.wait().unwrap();

    // The original refresh token is dead now: only the stored rotated one can refresh.
    let probe = http
        .post(format!("{sim_url}/refreshToken"))
        .json(&json!({"refreshToken": original_refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        probe.status(),
        400,
        "the simulator revoked the original token"
    );

    // The stored access token expires while the proxy is down.
    sim.state().advance_clock(2 * 3600);

    // Second life on the same data directory.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut proxy = start_proxy(&sim_url, data.path(), port);
    wait_healthy(&http, &url).await;
    let (status, body) = chat(&http, &url).await;
    assert_eq!(status, 200, "{body}");
    let calls = refreshes(&sim);
    assert!(
        calls.len() >= 3 && calls.last() == Some(&Some(200)),
        "the restarted proxy refreshed with the stored rotated token: {calls:?}"
    );
    proxy.kill().unwrap();
    proxy.wait().unwrap();
}
