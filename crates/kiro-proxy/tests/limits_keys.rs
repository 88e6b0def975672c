//! Per-key limits end to end: expiry and the enabled flag (401), the model allow-list (403),
//! requests and tokens per minute and the monthly budget (429 with an exact `retry-after`,
//! answered at once), the budget surviving a restart, and the admin API's validation.

// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

pub mod limits_support;
pub mod pipeline_support;

use std::time::Duration;

use kiro_proxy::App;
use limits_support::*;
use pipeline_support::*;
use serde_json::json;

#[tokio::test]
async fn expired_or_disabled_keys_are_401_saying_why() {
    let h = Harness::start().await;
    h.add_account().await;
    let (id, key) = create_key(
        &h,
        "contractor",
        json!({"expiresAt": "2020-01-01T00:00:00Z"}),
    )
    .await;
    let view = key_view(&h, &id).await;
    assert_eq!(view["expiresAt"], 1_577_836_800);
    assert_eq!(view["expired"], true);

    let a = anthropic_as(&h, &key, SONNET, &[]).await;
    a.anthropic_error(401, "authentication_error", "expired");
    assert_eq!(a.should_retry.as_deref(), Some("false"));
    openai_as(&h, &key, SONNET, &[])
        .await
        .openai_error(401, "invalid_request_error", "expired");

    // A later expiry revives it; disabling refuses it with its own message.
    let later = unix_now() + 3600;
    patch_key(&h, &id, json!({"expiresAt": later})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    let view = patch_key(&h, &id, json!({"enabled": false})).await;
    assert_eq!(view["enabled"], false);
    anthropic_as(&h, &key, SONNET, &[]).await.anthropic_error(
        401,
        "authentication_error",
        "disabled",
    );
    openai_as(&h, &key, SONNET, &[])
        .await
        .openai_error(401, "invalid_request_error", "disabled");
    patch_key(&h, &id, json!({"enabled": true, "expiresAt": null})).await;
    openai_as(&h, &key, SONNET, &[]).await.ok();
    // Nothing refused reached the upstream.
    assert_eq!(h.chats().len(), 2);
}

#[tokio::test]
async fn model_allow_list_is_403_naming_the_model() {
    let h = Harness::start().await;
    h.add_account().await;
    // By upstream id (the client says `claude-sonnet-4-5`) and by client name.
    let (id, key) = create_key(
        &h,
        "sonnet-only",
        json!({"models": ["claude-sonnet-4.5", "my-alias"]}),
    )
    .await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    openai_as(&h, &key, SONNET, &[]).await.ok();
    let a = anthropic_as(&h, &key, HAIKU, &[]).await;
    a.anthropic_error(403, "permission_error", HAIKU);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("claude-sonnet-4.5")
    );
    openai_as(&h, &key, HAIKU, &[])
        .await
        .openai_error(403, "permission_error", HAIKU);
    assert_eq!(
        h.chats().len(),
        2,
        "a refused model never reaches the upstream"
    );

    // The client name is enough too; an empty list allows everything.
    patch_key(&h, &id, json!({"models": [HAIKU]})).await;
    anthropic_as(&h, &key, HAIKU, &[]).await.ok();
    anthropic_as(&h, &key, SONNET, &[])
        .await
        .anthropic_error(403, "permission_error", SONNET);
    let view = patch_key(&h, &id, json!({"models": []})).await;
    assert_eq!(view["models"], json!([]));
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    // Configured keys have no allow-list.
    anthropic_as(&h, CLIENT_KEY, HAIKU, &[]).await.ok();
}

#[tokio::test]
async fn requests_per_minute_429_with_exact_retry_after() {
    let h = Harness::start().await;
    h.add_account().await;
    let (id, key) = create_key(&h, "slow", json!({"rpm": 2})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    openai_as(&h, &key, SONNET, &[]).await.ok();
    // Both counted within the last second: the window frees when they are 60 s old.
    let a = anthropic_as(&h, &key, SONNET, &[]).await;
    a.anthropic_error(429, "rate_limit_error", "2 requests per minute");
    a.retry_after_in(59..=60);
    let o = openai_as(&h, &key, SONNET, &[]).await;
    o.openai_error(429, "requests", "2 requests per minute");
    o.retry_after_in(59..=60);
    assert_eq!(h.chats().len(), 2);
    // Other keys are not affected; the usage shows the minute.
    anthropic_as(&h, CLIENT_KEY, SONNET, &[]).await.ok();
    let view = key_view(&h, &id).await;
    assert_eq!(view["rpm"], 2);
    assert_eq!(view["prefix"], &key[..8]);
    assert_eq!(view["usage"]["requestsLastMinute"], 2);
    // Raising the limit applies to the next request.
    patch_key(&h, &id, json!({"rpm": 3})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
}

#[tokio::test]
async fn tokens_per_minute_429_until_the_tokens_age_out() {
    let h = Harness::start().await;
    h.add_account().await;
    let (id, key) = create_key(&h, "tokens", json!({"tpm": 1000})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    record_tokens(&h, &id, 1500);
    let a = anthropic_as(&h, &key, SONNET, &[]).await;
    a.anthropic_error(429, "rate_limit_error", "1000 tokens per minute");
    a.retry_after_in(59..=60);
    let view = key_view(&h, &id).await;
    assert!(
        view["usage"]["tokensLastMinute"].as_u64().unwrap() >= 1500,
        "{view}"
    );
    // Without a limit, the same use is fine.
    patch_key(&h, &id, json!({"tpm": null})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
}

#[tokio::test]
async fn served_replies_count_their_tokens() {
    let h = Harness::start().await;
    h.add_account().await;
    let (id, key) = create_key(&h, "real", json!({"tpm": 1})).await;
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    // The reply's usage reaches the key through the telemetry when the request ends.
    let mut used = 0;
    for _ in 0..100 {
        used = key_view(&h, &id).await["usage"]["tokensThisMonth"]
            .as_u64()
            .unwrap();
        if used > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(used > 0, "no tokens counted");
    let o = openai_as(&h, &key, SONNET, &[]).await;
    o.openai_error(429, "requests", "1 tokens per minute");
    o.retry_after_in(59..=60);
}

#[tokio::test]
async fn monthly_budget_is_429_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let data_dir = dir.path().to_path_buf();
    let h = Harness::start_on(sim, None, move |c| c.data_dir = data_dir.clone()).await;
    h.add_account().await;
    let (id, key) = create_key(&h, "budget", json!({"monthlyTokens": 5000})).await;
    record_tokens(&h, &id, 3000);
    anthropic_as(&h, &key, SONNET, &[]).await.ok();
    record_tokens(&h, &id, 2500);
    let a = anthropic_as(&h, &key, SONNET, &[]).await;
    a.anthropic_error(429, "rate_limit_error", "monthly budget of 5000 tokens");
    // Until the first second of next month (UTC).
    let now = unix_now();
    let next = kiro_wire::num::first_of_next_month(now);
    a.retry_after_in((next - now - 2) as u64..=(next - now + 2) as u64);
    let month = key_view(&h, &id).await["usage"]["tokensThisMonth"]
        .as_u64()
        .unwrap();
    assert!(month >= 5500, "{month}");

    // Written at shutdown; read back at the next start.
    let app = h.app.clone();
    app.shutdown().await;
    drop(h);
    drop(app);
    let config = config("http://127.0.0.1:9", dir.path());
    let app = App::build(config).await.unwrap();
    assert!(app.limits.key_usage(&id).tokens_this_month >= 5500);
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", key.parse().unwrap());
    let refused = app
        .limits
        .admit("203.0.113.7".parse().unwrap(), &headers)
        .unwrap_err();
    assert!(
        matches!(
            refused.refusal,
            kiro_proxy::limits::Refusal::MonthlyBudget { budget: 5000, .. }
        ),
        "{refused:?}"
    );
    app.store.close().await;
}

#[tokio::test]
async fn periodic_flush_writes_the_month() {
    let h = Harness::start_with(|c| c.traffic.key_usage_flush_interval = Duration::from_millis(50))
        .await;
    let (id, _key) = create_key(&h, "flushed", json!({})).await;
    record_tokens(&h, &id, 42);
    let month = kiro_proxy::limits::Month::of(unix_now()).label();
    let mut stored = 0;
    for _ in 0..100 {
        stored = h
            .app
            .store
            .monthly_key_usage(&month)
            .await
            .unwrap()
            .iter()
            .find(|u| u.key_id == id)
            .map_or(0, |u| u.tokens);
        if stored > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored, 42);
}

#[tokio::test]
async fn key_fields_are_validated_naming_the_field() {
    let h = Harness::start().await;
    for (body, field) in [
        (json!({"name": "x", "rpm": 0}), "`rpm`"),
        (json!({"name": "x", "rpm": -3}), "`rpm`"),
        (json!({"name": "x", "rpm": 1.5}), "`rpm`"),
        (json!({"name": "x", "tpm": "100"}), "`tpm`"),
        (
            json!({"name": "x", "monthlyTokens": true}),
            "`monthlyTokens`",
        ),
        (json!({"name": "x", "models": "claude"}), "`models`"),
        (json!({"name": "x", "models": ["ok", 7]}), "`models[1]`"),
        (json!({"name": "x", "models": [""]}), "`models[0]`"),
        (json!({"name": "x", "expiresAt": "tomorrow"}), "`expiresAt`"),
        (json!({"name": "x", "enabled": "yes"}), "`enabled`"),
        (json!({"name": "x", "rpmLimit": 5}), "`rpmLimit`"),
        (json!({"rpm": 5}), "`name`"),
    ] {
        let (status, err) = admin(&h, "POST", "/keys", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (id, key) = create_key(&h, "ok", json!({"rpm": 10, "tpm": 1000, "monthlyTokens": 1_000_000, "models": ["a", "a", "b"], "enabled": true})).await;
    let view = key_view(&h, &id).await;
    assert_eq!(
        (
            &view["rpm"],
            &view["tpm"],
            &view["monthlyTokens"],
            &view["models"]
        ),
        (
            &json!(10),
            &json!(1000),
            &json!(1_000_000),
            &json!(["a", "b"])
        )
    );
    assert_eq!(view["usage"]["tokensThisMonth"], 0);
    assert!(!view.to_string().contains(&key));
    for (body, field) in [
        (json!({"tpm": 0}), "`tpm`"),
        (json!({"name": ""}), "`name`"),
        (json!({"prefix": "kp_x"}), "`prefix`"),
    ] {
        let (status, err) = admin(&h, "PATCH", &format!("/keys/{id}"), Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{err}"
        );
    }
    let (status, _) = admin(&h, "PATCH", "/keys/nope", Some(json!({"rpm": 1}))).await;
    assert_eq!(status, 404);
    // `null` clears.
    let view = patch_key(
        &h,
        &id,
        json!({"rpm": null, "monthlyTokens": null, "models": null}),
    )
    .await;
    assert_eq!(
        (&view["rpm"], &view["monthlyTokens"], &view["models"]),
        (&json!(null), &json!(null), &json!([]))
    );
    assert_eq!(view["tpm"], 1000);
}
