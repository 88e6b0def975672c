//! Secrets never reach the logs, even at trace level (everything debug shows, and more): client
//! keys (configured and created), the admin token, account access and refresh tokens (before
//! and after a refresh), and the metrics token. JSON log lines carry the request id of the
//! request that caused them.

#![cfg(test)]

pub mod ops_support;
pub mod pipeline_support;

use kiro_proxy::settings::{LogFormat, LogOptions, logging};
use ops_support::Capture;
use pipeline_support::*;
use serde_json::{Value, json};

const METRICS_TOKEN: &str = "metrics-token-secret-0123456789";

#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace_level() {
    let capture = Capture::default();
    let control = logging::install(
        &LogOptions {
            format: LogFormat::Json,
            filter: "trace".into(),
            ansi: false,
        },
        capture.clone(),
    )
    .unwrap();
    let h = Harness::start_with(|c| c.ops.metrics_token = Some(METRICS_TOKEN.into())).await;
    h.app.settings.install_log_control(control);
    let acct = h.add_account().await;

    let mut secrets: Vec<String> = vec![
        CLIENT_KEY.to_owned(),
        ADMIN_TOKEN.to_owned(),
        METRICS_TOKEN.to_owned(),
    ];
    secrets.extend(acct.secrets.refresh_token.clone());
    secrets.extend(acct.secrets.access_token.clone());

    // A key created through the admin API, used by a client.
    let created: Value = h
        .http
        .post(format!("{}/api/keys", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "log-test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored_key = created["key"].as_str().unwrap().to_owned();
    secrets.push(stored_key.clone());

    // Traffic of every kind: both dialects, streamed and not, a stored key, a bad key, the
    // admin API, the metrics endpoint, and a forced refresh (new access token).
    let r = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .await;
    assert_eq!(r.status(), 200);
    let events = read_sse(
        h.openai(&openai_body("claude-sonnet-4-5", "hi", true))
            .await,
    )
    .await;
    assert!(!check_openai_sse(&events));
    let r = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(&stored_key)
        .header("x-request-id", "ops-secrets-stored-key")
        .json(&openai_body("claude-sonnet-4-5", "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", format!("{CLIENT_KEY}-wrong"))
        .json(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = h
        .http
        .get(format!("{}/metrics", h.url))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = h
        .http
        .get(format!("{}/api/accounts", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let refreshed = h.app.tokens.force_refresh(&acct.id).await.unwrap();
    secrets.push(refreshed.secret().expose().to_owned());
    let r = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "after refresh", true))
        .await;
    assert!(!check_anthropic_sse(&read_sse(r).await));

    let logs = capture.text();
    assert!(
        logs.lines().count() > 20,
        "debug logging captured little:\n{logs}"
    );
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({}…) is in the logs",
            &secret[..6.min(secret.len())]
        );
    }
    for header in ["authorization", "x-api-key"] {
        assert!(
            !logs.to_ascii_lowercase().contains(&format!("\"{header}\"")),
            "a {header} header is in the logs"
        );
    }

    // JSON lines, and the request's lines carry its id in the request span.
    let mut with_id = 0;
    for line in logs.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["span"]["request_id"] == "ops-secrets-stored-key" {
            with_id += 1;
        }
    }
    assert!(with_id >= 2, "request lines name their request:\n{logs}");
}
