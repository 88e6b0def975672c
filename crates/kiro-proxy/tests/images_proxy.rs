//! Remote image URLs through the running proxy: refused when fetching is off, and refused by
//! the SSRF guards (in the client's own error dialect) when it is on. Neither needs an
//! upstream account: images are resolved before the model and the account.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::net::SocketAddr;

use kiro_proxy::App;
use kiro_proxy::config::Config;
use serde_json::{Value, json};

struct Proxy {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn proxy(remote_fetch: bool) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_owned(),
        admin_token: Some("an-admin-token-for-image-tests".into()),
        ..Config::default()
    };
    config.images.remote_fetch = remote_fetch;
    let app = App::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kiro_proxy::serve(listener, app, std::future::pending()));
    Proxy { addr, _dir: dir }
}

async fn post(p: &Proxy, path: &str, body: Value) -> (u16, Value) {
    // No client key is configured, so loopback clients are served.
    let resp = reqwest::Client::new()
        .post(format!("http://{}{path}", p.addr))
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn openai_with_image(url: &str) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": url}}
        ]}]
    })
}

fn anthropic_with_image(url: &str) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": url}},
            {"type": "text", "text": "what is this?"}
        ]}]
    })
}

#[tokio::test]
async fn remote_images_are_refused_when_fetching_is_off() {
    let p = proxy(false).await;
    let (status, body) = post(
        &p,
        "/v1/chat/completions",
        openai_with_image("https://example.com/cat.png"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    assert_eq!(body["error"]["param"], "messages[0].content", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("not fetched by this proxy"), "{message}");
    assert!(message.contains("https://example.com/cat.png"), "{message}");

    let (status, body) = post(
        &p,
        "/v1/messages",
        anthropic_with_image("https://example.com/cat.png"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
}

#[tokio::test]
async fn the_ssrf_guards_refuse_internal_addresses_when_fetching_is_on() {
    let p = proxy(true).await;
    let (status, body) = post(
        &p,
        "/v1/chat/completions",
        openai_with_image("https://169.254.169.254/latest/meta-data/"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "messages[0].content", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("metadata"), "{message}");

    let (status, body) = post(
        &p,
        "/v1/messages",
        anthropic_with_image("http://example.com/cat.png"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("only https"), "{message}");

    let (status, body) = post(
        &p,
        "/anthropic/v1/messages",
        anthropic_with_image("https://localhost:8443/cat.png"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("loopback"), "{message}");
}
