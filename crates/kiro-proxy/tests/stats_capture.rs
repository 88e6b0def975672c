//! Body capture: off by default (nothing stored); turned on through `PUT /api/settings` (or the
//! configuration) it keeps the request and the reply of each request with its log row, secrets
//! redacted and each body capped, shown only by `GET /api/requests/{id}`; turned off at runtime
//! it stops.

#![cfg(test)]

pub mod pipeline_support;
pub mod stats_support;

use pipeline_support::*;
use serde_json::{Value, json};
use stats_support::admin_get;

const SONNET: &str = "claude-sonnet-4-5";
/// Secrets a careless user pastes into a prompt.
const PASTED_KEY: &str = "sk-ant-api03-PastedByMistake0123456789";
const PASTED_TOKEN: &str = "aorAAAAAGhPastedRefreshToken0123456789abcdef";

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

fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// The log entry of `id`, once written.
async fn entry(h: &Harness, id: &str) -> Value {
    h.app.stats.flush().await;
    let (status, body) = admin_get(&h.url, &format!("/requests/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn text_script(text: &str) -> Value {
    json!({"parts": [{"type": "text", "text": text, "chunk_chars": 5}]})
}

#[tokio::test]
async fn off_by_default_nothing_is_stored() {
    let h = Harness::start().await;
    h.add_account().await;
    let (_, s) = admin_get(&h.url, "/settings").await;
    assert_eq!(
        s["bodyCapture"],
        json!({"enabled": false, "maxBytes": 65_536})
    );
    let resp = h
        .anthropic(&anthropic_body(SONNET, "a secret prompt", false))
        .await;
    assert_eq!(resp.status(), 200);
    let id = request_id(&resp);
    let e = entry(&h, &id).await;
    assert!(e.get("bodies").is_none(), "{e}");
    assert!(!e.to_string().contains("secret prompt"));
}

#[tokio::test]
async fn on_keeps_both_bodies_redacted_and_off_stops_it() {
    let h = Harness::start().await;
    h.add_account().await;
    let (status, s) = put_settings(&h, &json!({"bodyCapture": {"enabled": true}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        s["bodyCapture"],
        json!({"enabled": true, "maxBytes": 65_536})
    );

    // Non-streaming, with secrets in the prompt and in the reply.
    h.script(text_script(&format!(
        "Noted. Your token {PASTED_TOKEN} is safe."
    )));
    let prompt = format!("Please remember my key {PASTED_KEY} and say hi");
    let mut body = anthropic_body(SONNET, &prompt, false);
    body["metadata"] = json!({"user_id": "u-1", "api_key": "plain-field-secret"});
    let resp = h.anthropic(&body).await;
    assert_eq!(resp.status(), 200);
    let id = request_id(&resp);
    let reply: Value = resp.json().await.unwrap();
    assert!(
        reply["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Noted.")
    );
    let e = entry(&h, &id).await;
    let b = &e["bodies"];
    assert_eq!(b["truncated"], false, "{e}");
    let request = b["request"].as_str().unwrap();
    let response = b["response"].as_str().unwrap();
    assert!(
        request.contains("Please remember my key sk-[redacted] and say hi"),
        "{request}"
    );
    assert!(request.contains(SONNET), "{request}");
    assert!(!request.contains("plain-field-secret"), "{request}");
    assert!(
        response.contains("Noted. Your token aor[redacted] is safe."),
        "{response}"
    );
    let stored: Value = serde_json::from_str(response).unwrap();
    assert_eq!(stored["type"], "message");
    let all = e.to_string();
    assert!(
        !all.contains(PASTED_KEY) && !all.contains(PASTED_TOKEN),
        "{all}"
    );
    assert!(!all.contains(CLIENT_KEY), "{all}");

    // Never in the list.
    let (_, list) = admin_get(&h.url, "/requests").await;
    assert!(list["requests"][0].get("bodies").is_none());
    assert!(!list.to_string().contains("remember my key"));

    // Streaming: the reply is kept as the fold of the stream (whole text, not deltas).
    h.script(text_script("Streamed words, folded back together."));
    let resp = h.openai(&openai_body(SONNET, "stream please", true)).await;
    assert_eq!(resp.status(), 200);
    let id = request_id(&resp);
    let events = read_sse(resp).await;
    assert!(!check_openai_sse(&events));
    let e = entry(&h, &id).await;
    let stored: Value = serde_json::from_str(e["bodies"]["response"].as_str().unwrap()).unwrap();
    assert_eq!(stored["object"], "chat.completion", "{stored}");
    assert_eq!(
        stored["choices"][0]["message"]["content"],
        "Streamed words, folded back together."
    );
    assert!(
        e["bodies"]["request"]
            .as_str()
            .unwrap()
            .contains("stream please")
    );

    // A refused request keeps the error the client got.
    let resp = h
        .anthropic(&json!({"model": SONNET, "messages": "nope"}))
        .await;
    assert_eq!(resp.status(), 400);
    let e = entry(&h, &request_id(&resp)).await;
    assert!(
        e["bodies"]["response"]
            .as_str()
            .unwrap()
            .contains("invalid_request_error"),
        "{e}"
    );

    // Off at runtime: the next request keeps nothing.
    let (status, s) = put_settings(&h, &json!({"bodyCapture": {"enabled": false}})).await;
    assert_eq!(status, 200, "{s}");
    let resp = h
        .anthropic(&anthropic_body(SONNET, "after capture ended", false))
        .await;
    assert_eq!(resp.status(), 200);
    let e = entry(&h, &request_id(&resp)).await;
    assert!(e.get("bodies").is_none(), "{e}");
}

#[tokio::test]
async fn each_body_is_capped_with_a_marker() {
    // On from the configuration (`KIRO_CAPTURE_BODIES`), with a small cap.
    let h = Harness::start_with(|c| {
        c.stats.capture_bodies = true;
        c.stats.capture_max_bytes = 512;
    })
    .await;
    h.add_account().await;
    let (_, s) = admin_get(&h.url, "/settings").await;
    assert_eq!(s["bodyCapture"], json!({"enabled": true, "maxBytes": 512}));
    let long = "é".repeat(3000);
    let resp = h.anthropic(&anthropic_body(SONNET, &long, false)).await;
    assert_eq!(resp.status(), 200);
    let e = entry(&h, &request_id(&resp)).await;
    let b = &e["bodies"];
    assert_eq!(b["truncated"], true);
    let request = b["request"].as_str().unwrap();
    let (kept, marker) = request.split_once("\n[… truncated: ").unwrap();
    assert!(kept.len() <= 512, "{} bytes kept", kept.len());
    assert!(
        kept.len() >= 510,
        "cut on a character boundary, not earlier"
    );
    assert!(marker.contains("bytes not stored]"), "{marker}");

    // A runtime cap replaces the configured one; bad values are refused by name.
    let (status, s) = put_settings(&h, &json!({"bodyCapture": {"maxBytes": 2048}})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["bodyCapture"]["maxBytes"], 2048);
    for (body, field) in [
        (
            json!({"bodyCapture": {"maxBytes": 1}}),
            "bodyCapture.maxBytes",
        ),
        (
            json!({"bodyCapture": {"enabled": "on"}}),
            "bodyCapture.enabled",
        ),
        (json!({"bodyCapture": "on"}), "bodyCapture"),
    ] {
        let (status, answer) = put_settings(&h, &body).await;
        assert_eq!(status, 400, "{body}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    let resp = h.anthropic(&anthropic_body(SONNET, &long, false)).await;
    let e = entry(&h, &request_id(&resp)).await;
    let request = e["bodies"]["request"].as_str().unwrap();
    let kept = request.split_once("\n[… truncated").unwrap().0;
    assert!((2046..=2048).contains(&kept.len()), "{}", kept.len());
    // `null` goes back to the configuration.
    let (_, s) = put_settings(&h, &json!({"bodyCapture": {"maxBytes": null}})).await;
    assert_eq!(s["bodyCapture"]["maxBytes"], 512);
}
