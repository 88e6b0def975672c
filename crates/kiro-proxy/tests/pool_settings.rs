//! Pool thresholds through `PUT /api/settings` `pool`: validated (a 400 naming the field),
//! applied to the running pool at once (a lowered failure threshold opens the breaker sooner),
//! `null` back to the configured value, and re-applied after a restart.

#![cfg(test)]

pub mod pipeline_support;
pub mod pool_support;
pub mod stats_support;

use std::time::{Duration, Instant};

use kiro_proxy::accounts::Unavailable;
use pipeline_support::*;
use pool_support::*;
use serde_json::{Value, json};
use stats_support::{Service, admin_get};

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

#[tokio::test]
async fn bad_values_name_the_field_and_change_nothing() {
    let h = Harness::start().await;
    let (_, before) = admin_get(&h.url, "/settings").await;
    assert_eq!(before["pool"]["circuitFailures"], 5);
    assert_eq!(before["pool"]["failoverBudgetSecs"], 60.0);
    for (body, field) in [
        (json!({"pool": 5}), "pool"),
        (
            json!({"pool": {"circuitFailures": 0}}),
            "pool.circuitFailures",
        ),
        (
            json!({"pool": {"circuitFailureRate": 150}}),
            "pool.circuitFailureRate",
        ),
        (
            json!({"pool": {"maxConcurrency": "many"}}),
            "pool.maxConcurrency",
        ),
        (
            json!({"pool": {"failoverBudgetSecs": -1}}),
            "pool.failoverBudgetSecs",
        ),
        (
            json!({"pool": {"circuitOpenDelaySecs": 20, "circuitOpenMaxSecs": 10}}),
            "pool.circuitOpenMaxSecs",
        ),
        (
            json!({"pool": {"circuitBreaker": true}}),
            "pool.circuitBreaker",
        ),
    ] {
        let (status, answer) = put_settings(&h.url, &body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{body}: {message} does not name {field}"
        );
    }
    let (_, after) = admin_get(&h.url, "/settings").await;
    assert_eq!(after["pool"], before["pool"]);
    assert_eq!(h.app.pool.config().circuit_failures, 5);
}

#[tokio::test]
async fn a_lowered_failure_threshold_opens_the_breaker_sooner() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    // One attempt per request, so each request is exactly one failure.
    let (status, s) = put_settings(&h.url, &json!({"pool": {"failoverAttempts": 1}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["pool"]["failoverAttempts"], 1);
    h.queue(json!({"type": "error", "kind": "internal_server", "count": 0}));

    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    assert_eq!(h.chats().len(), 1, "one attempt only");
    let v = view(&h, &a);
    assert_eq!(v.circuit.state, "closed", "1 failure of the configured 5");
    assert_eq!(v.circuit.consecutive_failures, 1);

    let (status, s) = put_settings(
        &h.url,
        &json!({"pool": {"circuitFailures": 2, "circuitOpenDelaySecs": 90, "circuitOpenMaxSecs": 900}}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["pool"]["circuitFailures"], 2);
    assert_eq!(s["pool"]["failoverAttempts"], 1, "earlier change kept");

    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert!(resp.status().is_server_error());
    let v = view(&h, &a);
    assert_eq!(v.circuit.state, "open", "the second failure opens it now");
    // …for the new first open period.
    match h.app.pool.state(&a.id) {
        Some(Unavailable::CircuitOpen { until }) => {
            let left = until.saturating_duration_since(Instant::now());
            assert!(left > Duration::from_secs(80), "{left:?}");
        }
        other => panic!("{other:?}"),
    }

    // `null` puts a field back to the configured value.
    let (status, s) = put_settings(&h.url, &json!({"pool": {"failoverAttempts": null}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["pool"]["failoverAttempts"], 4);
    assert_eq!(h.app.pool.config().failover_attempts, 4);
    assert_eq!(h.app.pool.config().circuit_failures, 2);
}

#[tokio::test]
async fn pool_settings_survive_a_restart() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = Service::start(&sim.base_url(), dir.path(), |_| {}).await;
    let (status, s) = put_settings(
        &first.url,
        &json!({"pool": {"maxConcurrency": 3, "leaseWaitSecs": 0.5, "stickySessions": false}}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(first.app.pool.config().max_concurrency, 3);
    first.stop().await;

    // The configuration changed meanwhile: what was not overridden follows it.
    let second = Service::start(&sim.base_url(), dir.path(), |c| {
        c.pool.circuit_failures = 7;
        c.pool.max_concurrency = 20;
    })
    .await;
    let (_, s) = admin_get(&second.url, "/settings").await;
    let p = &s["pool"];
    assert_eq!(p["maxConcurrency"], 3, "{p}");
    assert_eq!(p["leaseWaitSecs"], 0.5);
    assert_eq!(p["stickySessions"], false);
    assert_eq!(p["circuitFailures"], 7);
    let config = second.app.pool.config();
    assert_eq!(config.max_concurrency, 3);
    assert_eq!(config.lease_wait, Duration::from_millis(500));
    assert!(!config.sticky_sessions);
    assert_eq!(config.circuit_failures, 7);
    second.stop().await;
}
