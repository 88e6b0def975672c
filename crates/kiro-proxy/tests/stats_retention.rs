//! The statistics retention through `PUT /api/settings`: validated (a 400 naming the field),
//! applied at once (the request log capped at the new size), and re-applied after a restart.

#![cfg(test)]

pub mod pipeline_support;
pub mod stats_support;

use pipeline_support::*;
use serde_json::{Value, json};
use stats_support::{Service, admin_get};

const SONNET: &str = "claude-sonnet-4-5";

async fn put_settings(url: &str, body: &Value) -> (u16, Value) {
    let r = client()
        .put(format!("{url}/api/settings"))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Sends `n` good requests and waits until the statistics are written.
async fn requests(s: &Service, n: usize) {
    for i in 0..n {
        let resp = s
            .anthropic(&anthropic_body(SONNET, &format!("hi {i}"), false))
            .await;
        assert_eq!(resp.status(), 200);
    }
    s.app.stats.flush().await;
}

async fn log_len(url: &str) -> usize {
    let (status, body) = admin_get(url, "/requests").await;
    assert_eq!(status, 200, "{body}");
    body["requests"].as_array().unwrap().len()
}

#[tokio::test]
async fn bad_retention_values_name_the_field() {
    let h = Harness::start().await;
    for (body, field) in [
        (json!({"retention": 30}), "retention"),
        (
            json!({"retention": {"requestLogSize": -1}}),
            "retention.requestLogSize",
        ),
        (
            json!({"retention": {"requestLogSize": 10_000_001}}),
            "retention.requestLogSize",
        ),
        (
            json!({"retention": {"retentionDays": 0}}),
            "retention.retentionDays",
        ),
        (
            json!({"retention": {"retentionDays": "30"}}),
            "retention.retentionDays",
        ),
        (
            json!({"retention": {"dailyRetentionDays": 36_501}}),
            "retention.dailyRetentionDays",
        ),
        (json!({"retention": {"months": 1}}), "retention.months"),
    ] {
        let (status, answer) = put_settings(&h.url, &body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{body}: {message} does not name {field}"
        );
    }
    let (_, s) = admin_get(&h.url, "/settings").await;
    assert_eq!(
        s["retention"],
        json!({"requestLogSize": 10_000, "retentionDays": 30, "dailyRetentionDays": 400})
    );
}

#[tokio::test]
async fn a_new_log_size_applies_at_once_and_survives_a_restart() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = Service::start(&sim.base_url(), dir.path(), |_| {}).await;
    first.add_account(&sim).await;
    requests(&first, 3).await;
    assert_eq!(log_len(&first.url).await, 3);

    let (status, s) = put_settings(
        &first.url,
        &json!({"retention": {"requestLogSize": 2, "dailyRetentionDays": 90}}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        s["retention"],
        json!({"requestLogSize": 2, "retentionDays": 30, "dailyRetentionDays": 90})
    );
    requests(&first, 1).await;
    assert_eq!(log_len(&first.url).await, 2, "capped at the new size");
    // Partial: a later change keeps the other fields.
    let (status, s) = put_settings(&first.url, &json!({"retention": {"retentionDays": 7}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["retention"]["requestLogSize"], 2);
    first.stop().await;

    let second = Service::start(&sim.base_url(), dir.path(), |_| {}).await;
    let (_, s) = admin_get(&second.url, "/settings").await;
    assert_eq!(
        s["retention"],
        json!({"requestLogSize": 2, "retentionDays": 7, "dailyRetentionDays": 90})
    );
    requests(&second, 3).await;
    assert_eq!(
        log_len(&second.url).await,
        2,
        "the stored size applies after a restart"
    );

    // null: back to the configured value.
    let (status, s) =
        put_settings(&second.url, &json!({"retention": {"requestLogSize": null}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["retention"]["requestLogSize"], 10_000);
    requests(&second, 1).await;
    assert_eq!(log_len(&second.url).await, 3);
    second.stop().await;
}
