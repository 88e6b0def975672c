//! Graceful shutdown of the real binary: on SIGTERM it stops accepting, lets an open stream
//! finish and exits 0; a stream longer than the grace period is cut when it ends, still with
//! exit code 0.

#![cfg(test)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiro_sim::{AccountKind, CreateAccount, SimConfig, SimHandle};
use serde_json::json;

const ADMIN_TOKEN: &str = "shutdown-test-admin-token-0123456789";
const CLIENT_KEY: &str = "sk-shutdown-test-client-key";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Proxy {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(sim: &SimHandle, grace: &str) -> Proxy {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let sim_url = sim.base_url();
    let child = Command::new(env!("CARGO_BIN_EXE_kiro-proxy"))
        .args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KIRO_Q_URL", &sim_url)
        .env("KIRO_CODEWHISPERER_URL", &sim_url)
        .env("KIRO_SOCIAL_AUTH_URL", &sim_url)
        .env("KIRO_OIDC_URL", &sim_url)
        .env("KIRO_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("KIRO_API_KEYS", CLIENT_KEY)
        .env("KIRO_SHUTDOWN_GRACE", grace)
        .env(
            "KIRO_MASTER_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proxy = Proxy {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _data: data,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{}/healthz", proxy.url)).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "proxy never became healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secrets = sim
        .state()
        .create_account(&CreateAccount {
            kind: Some(AccountKind::Social),
            ..CreateAccount::default()
        })
        .unwrap();
    let created = http
        .post(format!("{}/api/accounts", proxy.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "authMethod": "social",
            "refreshToken": secrets.refresh_token,
            "accessToken": secrets.access_token,
            "expiresAt": secrets.expires_at,
            "profileArn": secrets.account.profile_arn,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    proxy
}

/// A stream of `frames` text frames, one every `interval_ms`.
fn paced(sim: &SimHandle, frames: usize, interval_ms: u64) {
    let text = "word ".repeat(frames);
    let script = json!({"type": "script", "script": {
        "pace": {"frame_interval_ms": interval_ms},
        "parts": [{"type": "text", "text": text, "chunk_chars": 5}],
    }});
    sim.state().queue(serde_json::from_value(script).unwrap());
}

async fn open_stream(proxy: &Proxy) -> reqwest::Response {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", proxy.url))
        .header("x-api-key", CLIENT_KEY)
        .json(
            &json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
                      "messages": [{"role": "user", "content": "slowly"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; its exit code.
async fn exit_code(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the proxy did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads the rest of an SSE body: its text, and whether it ended cleanly.
async fn drain(mut resp: reqwest::Response) -> (String, bool) {
    let mut body = String::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(None) => return (body, true),
            Err(_) => return (body, false),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_open_stream_finish_then_exits_0() {
    let sim = kiro_sim::start(SimConfig::default()).await.unwrap();
    let mut proxy = start(&sim, "20s").await;
    // About 3 s of stream.
    paced(&sim, 20, 150);
    let mut resp = open_stream(&proxy).await;
    let first = resp.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("message_start"));

    let signalled = Instant::now();
    sigterm(&proxy.child);
    // No new connections once the signal is handled (while the stream still runs).
    let addr = proxy.url.trim_start_matches("http://").to_owned();
    let mut refused = false;
    for _ in 0..40 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused,
        "new connections were still accepted during shutdown"
    );

    let (rest, clean) = drain(resp).await;
    assert!(clean, "the stream was cut");
    assert!(rest.contains("event: message_stop"), "{rest}");
    let words: usize = rest.matches("word").count();
    assert!(words >= 10, "the stream went on after the signal: {rest}");
    let code = exit_code(&mut proxy.child, Duration::from_secs(10)).await;
    assert_eq!(code, Some(0));
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "it waited for the stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_wait() {
    let sim = kiro_sim::start(SimConfig::default()).await.unwrap();
    let mut proxy = start(&sim, "1s").await;
    // About 12 s of stream: far past the grace period.
    paced(&sim, 40, 300);
    let mut resp = open_stream(&proxy).await;
    resp.chunk().await.unwrap().unwrap();
    let signalled = Instant::now();
    sigterm(&proxy.child);
    let code = exit_code(&mut proxy.child, Duration::from_secs(8)).await;
    assert_eq!(code, Some(0));
    let waited = signalled.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let (rest, _) = drain(resp).await;
    assert!(!rest.contains("message_stop"), "the stream was cut: {rest}");
}
