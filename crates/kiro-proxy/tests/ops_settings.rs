//! `/api/settings`: partial updates, validation naming the field, persistence across a
//! restart, and the thinking format applied to OpenAI replies without a restart.

#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

async fn get_settings(h: &Harness) -> Value {
    let r = h
        .http
        .get(format!("{}/api/settings", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn put_settings(h: &Harness, body: &Value) -> (u16, Value) {
    let r = h
        .http
        .put(format!("{}/api/settings", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn settings_validate_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let h = Harness::start_with(|c| c.data_dir = data.clone()).await;

    let s = get_settings(&h).await;
    assert_eq!(s["defaultModel"], Value::Null);
    assert_eq!(s["thinkingFormat"], "reasoning_content");
    assert_eq!(s["notice"], json!({"enabled": false, "markdown": ""}));
    assert_eq!(s["modelMapping"], json!({}));
    assert_eq!(s["pool"]["maxConcurrency"], 8);
    assert_eq!(s["retention"]["retentionDays"], 30);

    // Unauthenticated: refused.
    let anon = h
        .http
        .put(format!("{}/api/settings", h.url))
        .json(&json!({"thinkingFormat": "think"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);

    for (body, field) in [
        (json!({"thinkingFormat": "tags"}), "thinkingFormat"),
        (json!({"defaultModel": "no-such-model-x"}), "defaultModel"),
        (json!({"defaultModel": 7}), "defaultModel"),
        (json!({"notice": {"enabled": true}}), "notice.markdown"),
        (json!({"notice": {"enabled": "yes"}}), "notice.enabled"),
        (
            json!({"pool": {"maxConcurrency": 0}}),
            "pool.maxConcurrency",
        ),
        (json!({"modelMapping": {}}), "modelMapping"),
        (json!({"nonsense": 1}), "nonsense"),
    ] {
        let (status, answer) = put_settings(&h, &body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{body}: {message} does not name {field}"
        );
    }
    // A rejected update changed nothing.
    assert_eq!(
        get_settings(&h).await["thinkingFormat"],
        "reasoning_content"
    );

    let (status, s) = put_settings(
        &h,
        &json!({"thinkingFormat": "think", "defaultModel": "claude-sonnet-4-5"}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["thinkingFormat"], "think");
    assert_eq!(s["defaultModel"], "claude-sonnet-4-5");
    // Partial: the other fields stay.
    let (status, s) = put_settings(
        &h,
        &json!({"notice": {"enabled": true, "markdown": "New keys: https://keys.example.test"}}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["thinkingFormat"], "think");
    assert_eq!(s["notice"]["enabled"], true);
    drop(h);

    let h = Harness::start_with(|c| c.data_dir = data.clone()).await;
    let s = get_settings(&h).await;
    assert_eq!(s["thinkingFormat"], "think");
    assert_eq!(s["defaultModel"], "claude-sonnet-4-5");
    assert_eq!(
        s["notice"],
        json!({"enabled": true, "markdown": "New keys: https://keys.example.test"})
    );
}

fn thinking_script() -> Value {
    json!({"parts": [
        {"type": "thinking", "text": "Weighing the options.", "chunk_chars": 6},
        {"type": "text", "text": "The answer is 42.", "chunk_chars": 5},
    ]})
}

fn reasoning_body(stream: bool) -> Value {
    let mut body = openai_body("claude-sonnet-4-6", "think", stream);
    body["reasoning_effort"] = json!("high");
    body
}

#[tokio::test]
async fn thinking_format_applies_without_a_restart() {
    let h = Harness::start().await;
    h.add_account().await;

    h.script(thinking_script());
    let streamed = fold_openai(&read_sse(h.openai(&reasoning_body(true)).await).await);
    assert_eq!(streamed["reasoning_content"], "Weighing the options.");
    assert_eq!(streamed["content"], "The answer is 42.");

    let (status, _) = put_settings(&h, &json!({"thinkingFormat": "thinking"})).await;
    assert_eq!(status, 200);
    h.script(thinking_script());
    let events = read_sse(h.openai(&reasoning_body(true)).await).await;
    assert!(!check_openai_sse(&events));
    let streamed = fold_openai(&events);
    assert_eq!(streamed["reasoning_content"], "");
    assert_eq!(
        streamed["content"],
        "<thinking>\nWeighing the options.\n</thinking>\n\nThe answer is 42."
    );

    let (status, _) = put_settings(&h, &json!({"thinkingFormat": "think"})).await;
    assert_eq!(status, 200);
    h.script(thinking_script());
    let r = h.openai(&reasoning_body(false)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(
        message["content"],
        "<think>\nWeighing the options.\n</think>\n\nThe answer is 42."
    );

    // Anthropic clients keep their native thinking blocks.
    h.script(thinking_script());
    let mut body = anthropic_body("claude-sonnet-4-6", "think", false);
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let r: Value = h.anthropic(&body).await.json().await.unwrap();
    assert_eq!(r["content"][0]["type"], "thinking", "{r}");
}
