//! The log filter changes at runtime (`PUT /api/settings/log-level`): a debug line appears only
//! after the change, every line of a request names its id, and a bad filter is a 400.

#![cfg(test)]

pub mod ops_support;
pub mod pipeline_support;

use kiro_proxy::settings::{LogFormat, LogOptions, logging};
use ops_support::Capture;
use pipeline_support::*;
use serde_json::{Value, json};

async fn level(h: &Harness, method: reqwest::Method, body: Option<Value>) -> (u16, Value) {
    let mut req = h
        .http
        .request(method, format!("{}/api/settings/log-level", h.url))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn request(h: &Harness, id: &str) {
    let r = h
        .post("/v1/messages")
        .header("x-request-id", id)
        .json(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], id);
}

#[tokio::test]
async fn log_level_changes_at_runtime() {
    let capture = Capture::default();
    let control = logging::install(
        &LogOptions {
            format: LogFormat::Text,
            filter: "info".into(),
            ansi: false,
        },
        capture.clone(),
    )
    .unwrap();
    let h = Harness::start().await;
    assert!(h.app.settings.install_log_control(control));
    h.add_account().await;

    assert_eq!(
        level(&h, reqwest::Method::GET, None).await,
        (200, json!({"level": "info"}))
    );
    request(&h, "ops-log-before").await;
    let before = capture.lines_with("ops-log-before");
    assert!(
        before.iter().all(|l| !l.contains("DEBUG")),
        "no debug line at info: {before:#?}"
    );

    for bad in [json!({"level": "loud"}), json!({"level": 3}), json!({})] {
        let (status, answer) = level(&h, reqwest::Method::PUT, Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`level`"),
            "{answer}"
        );
    }

    let (status, answer) = level(
        &h,
        reqwest::Method::PUT,
        Some(json!({"level": "info, kiro_proxy=DEBUG"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({"level": "info,kiro_proxy=debug"}));
    assert_eq!(
        level(&h, reqwest::Method::GET, None).await.1["level"],
        "info,kiro_proxy=debug"
    );
    let settings: Value = h
        .http
        .get(format!("{}/api/settings", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["logLevel"], "info,kiro_proxy=debug");

    request(&h, "ops-log-after").await;
    let after = capture.lines_with("ops-log-after");
    assert!(
        after.iter().any(|l| l.contains("DEBUG")),
        "a debug line after the change: {after:#?}"
    );
    // Every line a request causes names it: the handler's own debug lines included.
    assert!(
        after.iter().any(|l| l.contains("upstream answering")),
        "{after:#?}"
    );

    // Back to info: quiet again.
    let (status, _) = level(&h, reqwest::Method::PUT, Some(json!({"level": "info"}))).await;
    assert_eq!(status, 200);
    request(&h, "ops-log-quiet").await;
    let quiet = capture.lines_with("ops-log-quiet");
    assert!(quiet.iter().all(|l| !l.contains("DEBUG")), "{quiet:#?}");
}
