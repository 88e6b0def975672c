//! Traffic controls end to end: the per-address rate limit and the block list (with
//! `X-Forwarded-For` believed only from trusted proxies), per-key and global concurrency caps
//! held by slow streams, and `GET`/`PUT /api/traffic`.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod limits_support;
pub mod pipeline_support;

use std::time::Duration;

use kiro_proxy::limits::{Limits, SETTING_TRAFFIC, TrafficSettings};
use limits_support::*;
use pipeline_support::*;
use serde_json::{Value, json};

const XFF: &str = "x-forwarded-for";

#[tokio::test]
async fn address_rate_limit_ignores_spoofed_forwarded_for() {
    let h = Harness::start().await;
    h.add_account().await;
    set_traffic(&h, json!({"ipRateLimitPerMinute": 2})).await;
    // Without trusted proxies the header is the client's word: all three are 127.0.0.1.
    anthropic_as(&h, CLIENT_KEY, SONNET, &[(XFF, "198.51.100.1")])
        .await
        .ok();
    anthropic_as(&h, CLIENT_KEY, SONNET, &[(XFF, "198.51.100.2")])
        .await
        .ok();
    let a = anthropic_as(&h, CLIENT_KEY, SONNET, &[(XFF, "198.51.100.3")]).await;
    a.anthropic_error(429, "rate_limit_error", "2 per minute");
    a.retry_after_in(59..=60);
    let o = openai_as(&h, CLIENT_KEY, SONNET, &[]).await;
    o.openai_error(429, "requests", "2 per minute");
    o.retry_after_in(59..=60);
    // Health, models and the admin API are outside the limits.
    for _ in 0..3 {
        assert_eq!(h.get("/healthz").await.status(), 200);
        assert_eq!(h.get("/v1/models").await.status(), 200);
        assert_eq!(admin(&h, "GET", "/traffic", None).await.0, 200);
    }

    // From a trusted proxy, the right-most untrusted hop is the client.
    set_traffic(&h, json!({"trustedProxies": ["127.0.0.1"]})).await;
    let one = [(XFF, "198.51.100.1")];
    anthropic_as(&h, CLIENT_KEY, SONNET, &one).await.ok();
    anthropic_as(&h, CLIENT_KEY, SONNET, &one).await.ok();
    anthropic_as(&h, CLIENT_KEY, SONNET, &one)
        .await
        .anthropic_error(429, "rate_limit_error", "per minute");
    // A spoofed left part does not change who the client is.
    anthropic_as(
        &h,
        CLIENT_KEY,
        SONNET,
        &[(XFF, "198.51.100.1, 198.51.100.2")],
    )
    .await
    .ok();
    anthropic_as(&h, CLIENT_KEY, SONNET, &[(XFF, "6.6.6.6, 198.51.100.2")])
        .await
        .ok();
    anthropic_as(
        &h,
        CLIENT_KEY,
        SONNET,
        &[(XFF, "198.51.100.9, 198.51.100.2")],
    )
    .await
    .anthropic_error(429, "rate_limit_error", "per minute");
}

#[tokio::test]
async fn block_list_is_403_and_honours_only_trusted_forwarding() {
    let h = Harness::start().await;
    h.add_account().await;
    let blocked = [(XFF, "198.51.100.7")];
    set_traffic(&h, json!({"blockedIps": ["198.51.100.0/24"]})).await;
    // Spoofed from an untrusted peer: ignored, the client is 127.0.0.1.
    anthropic_as(&h, CLIENT_KEY, SONNET, &blocked).await.ok();

    set_traffic(&h, json!({"trustedProxies": ["127.0.0.0/8"]})).await;
    anthropic_as(&h, CLIENT_KEY, SONNET, &blocked)
        .await
        .anthropic_error(403, "permission_error", "blocked");
    openai_as(&h, CLIENT_KEY, SONNET, &blocked)
        .await
        .openai_error(403, "permission_error", "blocked");
    // Even without a key: the block comes first.
    anthropic_as(&h, "wrong", SONNET, &blocked)
        .await
        .anthropic_error(403, "permission_error", "blocked");
    anthropic_as(&h, CLIENT_KEY, SONNET, &[]).await.ok();

    set_traffic(
        &h,
        json!({"blockedIps": ["127.0.0.1"], "trustedProxies": null}),
    )
    .await;
    openai_as(&h, CLIENT_KEY, SONNET, &blocked)
        .await
        .openai_error(403, "permission_error", "blocked");
    set_traffic(&h, json!({"blockedIps": []})).await;
    openai_as(&h, CLIENT_KEY, SONNET, &[]).await.ok();
    assert_eq!(h.chats().len(), 3);
}

/// A streamed reply the simulator paces over about a second; the response (headers) is back.
async fn slow_stream(h: &Harness, key: &str) -> reqwest::Response {
    h.script(json!({"pace": {"frame_interval_ms": 50},
        "parts": [{"type": "text", "text": "word ".repeat(20), "chunk_chars": 5}]}));
    let resp = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_body(SONNET, "hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

async fn finish(h: &Harness, stream: reqwest::Response) {
    let events = read_sse(stream).await;
    assert!(!check_anthropic_sse(&events));
    assert!(
        eventually(Duration::from_secs(2), || h.app.limits.in_flight() == 0).await,
        "the slot is freed when the body ends"
    );
}

#[tokio::test]
async fn per_key_concurrency_is_429_while_a_stream_runs() {
    let h = Harness::start().await;
    h.add_account().await;
    let (_, other) = create_key(&h, "other", json!({})).await;
    set_traffic(&h, json!({"perKeyConcurrency": 1})).await;

    let stream = slow_stream(&h, CLIENT_KEY).await;
    assert_eq!(h.app.limits.in_flight(), 1);
    let a = anthropic_as(&h, CLIENT_KEY, SONNET, &[]).await;
    a.anthropic_error(429, "rate_limit_error", "requests in progress");
    a.retry_after_in(1..=1);
    // Another key has its own slot.
    openai_as(&h, &other, SONNET, &[]).await.ok();
    finish(&h, stream).await;
    anthropic_as(&h, CLIENT_KEY, SONNET, &[]).await.ok();
}

#[tokio::test]
async fn global_concurrency_is_503_in_the_dialect_while_full() {
    let h = Harness::start().await;
    h.add_account().await;
    let (_, other) = create_key(&h, "other", json!({})).await;
    set_traffic(&h, json!({"maxConcurrency": 1})).await;

    let stream = slow_stream(&h, CLIENT_KEY).await;
    let a = anthropic_as(&h, &other, SONNET, &[]).await;
    a.anthropic_error(503, "overloaded_error", "maximum of 1 requests");
    let o = openai_as(&h, &other, SONNET, &[]).await;
    o.openai_error(503, "server_error", "maximum of 1 requests");
    assert_eq!(o.retry_after, Some(1));
    // Count-tokens is behind the same gate.
    let counted = Answer::of(
        h.post("/v1/messages/count_tokens")
            .json(&json!({"model": SONNET, "messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    counted.anthropic_error(503, "overloaded_error", "maximum");
    finish(&h, stream).await;
    openai_as(&h, &other, SONNET, &[]).await.ok();
}

#[tokio::test]
async fn traffic_controls_are_validated_stored_and_start_from_the_config() {
    let h = Harness::start_with(|c| c.traffic.ip_rate_limit_per_minute = Some(700)).await;
    let (status, start) = admin(&h, "GET", "/traffic", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        start,
        json!({"ipRateLimitPerMinute": 700, "blockedIps": [], "trustedProxies": [],
               "maxConcurrency": null, "perKeyConcurrency": null})
    );
    for (body, field) in [
        (json!({"ipRateLimitPerMinute": 0}), "`ipRateLimitPerMinute`"),
        (json!({"maxConcurrency": -1}), "`maxConcurrency`"),
        (json!({"perKeyConcurrency": "2"}), "`perKeyConcurrency`"),
        (json!({"blockedIps": ["nope"]}), "`blockedIps[0]`"),
        (
            json!({"blockedIps": ["1.2.3.4", "10.0.0.0/33"]}),
            "`blockedIps[1]`",
        ),
        (json!({"blockedIps": "1.2.3.4"}), "`blockedIps`"),
        (json!({"trustedProxies": [5]}), "`trustedProxies[0]`"),
        (json!({"ipRateLimit": 5}), "`ipRateLimit`"),
    ] {
        let (status, err) = admin(&h, "PUT", "/traffic", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    assert_eq!(
        admin(&h, "GET", "/traffic", None).await.1,
        start,
        "nothing changed"
    );

    let set = set_traffic(
        &h,
        json!({"blockedIps": ["10.1.2.3/8", "2001:db8::1"], "trustedProxies": ["192.168.0.0/16"],
               "maxConcurrency": 50, "perKeyConcurrency": 4, "ipRateLimitPerMinute": null}),
    )
    .await;
    let expected = json!({"ipRateLimitPerMinute": null, "blockedIps": ["10.0.0.0/8", "2001:db8::1"],
        "trustedProxies": ["192.168.0.0/16"], "maxConcurrency": 50, "perKeyConcurrency": 4});
    assert_eq!(set, expected);
    assert_eq!(admin(&h, "GET", "/traffic", None).await.1, expected);
    // Stored: a restart starts from it rather than from the configuration.
    let stored: TrafficSettings = h
        .app
        .store
        .get_setting(SETTING_TRAFFIC)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), expected);
    let reloaded = Limits::load(
        &h.app.config,
        h.app.store.clone(),
        h.app.client_auth.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(reloaded.traffic().as_ref()).unwrap(),
        expected
    );
    // Only the admin may see or change them.
    let resp = h
        .http
        .get(format!("{}/api/traffic", h.url))
        .bearer_auth(CLIENT_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let _: Value = resp.json().await.unwrap();
}
