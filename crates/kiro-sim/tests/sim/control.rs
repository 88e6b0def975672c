//! The control API: request log, stream dumps, behaviours, settings, clock, reset.

use kiro_sim::accounts::AccountKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn request_log_records_what_the_request_carried() {
    let sim = Sim::start().await;
    let social = sim.account(AccountKind::Social);
    let key = sim.account(AccountKind::ApiKey);
    let mut body = chat_body("log me", "claude-sonnet-4.5");
    body["profileArn"] = json!(social.account.profile_arn.clone().unwrap());
    assert_eq!(sim.chat_body(&social, &body).await.0, 200);
    assert_eq!(sim.chat(&key, "log me too").await.0, 200);

    let log: Value = sim
        .http
        .get(sim.url("/_sim/requests?path=/generateAssistantResponse"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    let header = |r: &Value, name: &str| -> Option<String> {
        r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == name)
            .map(|h| h[1].as_str().unwrap().to_owned())
    };
    let (a, b) = (&log[0], &log[1]);
    // UA shape.
    let ua = header(a, "user-agent").unwrap();
    assert!(ua.starts_with("aws-sdk-js/1.0.34 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.22.0 api/codewhispererstreaming#1.0.34 m/E KiroIDE-0.11.107-"));
    assert!(ua.ends_with(MACHINE));
    assert!(
        header(a, "x-amz-user-agent")
            .unwrap()
            .starts_with("aws-sdk-js/1.0.34 KiroIDE-")
    );
    // tokentype only with the key; profileArn only from the OAuth account.
    assert_eq!(header(a, "tokentype"), None);
    assert_eq!(header(b, "tokentype").as_deref(), Some("API_KEY"));
    assert!(a["body_json"].get("profileArn").is_some());
    assert!(b["body_json"].get("profileArn").is_none());
    // Invocation ids are fresh per request.
    let ia = header(a, "amz-sdk-invocation-id").unwrap();
    let ib = header(b, "amz-sdk-invocation-id").unwrap();
    assert_ne!(ia, ib);
    assert!(uuid::Uuid::parse_str(&ia).is_ok());
    // Who and what.
    assert_eq!(a["account"], social.account.id.as_str());
    assert_eq!(b["account"], key.account.id.as_str());
    assert_eq!(a["status"], 200);
    assert_eq!(a["outcome"], "stream");
    assert_eq!(a["method"], "POST");
    assert!(a["stream_len"].as_u64().unwrap() > 100);

    // Filter by account, then clear.
    let only: Value = sim
        .http
        .get(sim.url(&format!("/_sim/requests?account={}", key.account.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    sim.http
        .delete(sim.url("/_sim/requests"))
        .send()
        .await
        .unwrap();
    assert!(sim.handle.state().requests().is_empty());
}

#[tokio::test]
async fn stream_dumps_bin_and_jsonl() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let (_, _, served) = sim.chat(&a, "dump me").await;
    let id = sim.handle.state().requests().last().unwrap().id;
    let bin = sim
        .http
        .get(sim.url(&format!("/_sim/requests/{id}/stream.bin")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bin, served);
    let jsonl = sim
        .http
        .get(sim.url(&format!("/_sim/requests/{id}/stream.jsonl")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), frames(&served).len());
    assert_eq!(lines[0]["offset"], 0);
    assert!(
        lines
            .iter()
            .all(|l| l["prelude_crc_ok"] == true && l["message_crc_ok"] == true)
    );
    assert_eq!(lines[0]["headers"][0]["name"], ":event-type");
    assert!(lines.last().unwrap()["payload_json"]["contextUsagePercentage"].is_f64());
    // /_sim/decode does the same for any bytes.
    let decoded = sim
        .http
        .post(sim.url("/_sim/decode"))
        .body(served.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(decoded, jsonl);
    // Non-stream requests have no dump.
    let r = sim
        .http
        .get(sim.url("/_sim/requests/999999/stream.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn behaviours_count_account_scope_and_listing() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let b = sim.account(AccountKind::Social);
    sim.queue(json!({"type": "error", "kind": "throttling", "count": 2, "account": a.account.id}))
        .await;
    assert_eq!(sim.chat(&b, "x").await.0, 200, "other account unaffected");
    assert_eq!(sim.chat(&a, "x").await.0, 429);
    assert_eq!(sim.chat(&a, "x").await.0, 429);
    assert_eq!(sim.chat(&a, "x").await.0, 200);

    let q = sim
        .queue(json!({"type": "error", "kind": "internal_server", "count": 0, "path": "*"}))
        .await;
    let listed = sim.control(Method::GET, "/behaviours", json!({})).await;
    assert_eq!(listed[0]["remaining"], Value::Null);
    assert_eq!(listed[0]["kind"], "internal_server");
    for _ in 0..3 {
        assert_eq!(sim.chat(&a, "x").await.0, 500);
    }
    let r = sim
        .http
        .delete(sim.url(&format!("/_sim/behaviours/{}", q["id"])))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(sim.chat(&a, "x").await.0, 200);

    // delay_ms delays the answer.
    sim.queue(json!({"type": "error", "kind": "throttling", "delay_ms": 150}))
        .await;
    let t = std::time::Instant::now();
    assert_eq!(sim.chat(&a, "x").await.0, 429);
    assert!(t.elapsed() >= std::time::Duration::from_millis(140));

    // Scripts only on the chat path.
    let r = sim
        .http
        .post(sim.url("/_sim/behaviours"))
        .json(&json!({"type": "script", "script": {}, "path": "/token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn accounts_settings_clock_and_reset() {
    let sim = Sim::start().await;
    let created = sim
        .control(
            Method::POST,
            "/accounts",
            json!({"kind": "idc", "tier": "pro_plus", "id": "mine"}),
        )
        .await;
    assert_eq!(created["account"]["id"], "mine");
    assert_eq!(created["account"]["credit_limit"], 2000.0);
    assert!(created["client_secret"].as_str().unwrap().len() > 2000);
    assert!(created["access_token"].as_str().unwrap().starts_with("aoa"));
    let r = sim
        .http
        .post(sim.url("/_sim/accounts"))
        .json(&json!({"kind": "idc", "id": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let key = sim
        .control(Method::POST, "/accounts", json!({"kind": "api_key"}))
        .await;
    assert!(key["api_key"].as_str().unwrap().starts_with("ksk_"));
    let patched = sim
        .control(
            Method::PATCH,
            "/accounts/mine",
            json!({"tier": "free", "rotation": "new", "profile_arn": null}),
        )
        .await;
    assert_eq!(patched["tier"], "free");
    assert_eq!(patched["rotation"], "new");
    let all = sim.control(Method::GET, "/accounts", json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    let s = sim
        .control(
            Method::PATCH,
            "/settings",
            json!({"pace": {"frame_interval_ms": 1}, "chunk_chars": 5}),
        )
        .await;
    assert_eq!(s["pace"]["frame_interval_ms"], 1);
    assert_eq!(s["chunk_chars"], 5);
    let r = sim
        .http
        .patch(sim.url("/_sim/settings"))
        .json(&json!({"no_such_setting": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let before = sim.control(Method::GET, "/clock", json!({})).await["now"]
        .as_i64()
        .unwrap();
    let after = sim
        .control(Method::POST, "/clock/advance", json!({"seconds": 3600}))
        .await;
    assert!(after["now"].as_i64().unwrap() >= before + 3600);
    assert_eq!(after["offset_ms"], 3_600_000);

    // Unknown routes are recorded and 404.
    let r = sim
        .http
        .post(sim.url("/generateAssistantResponseX"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        sim.handle
            .state()
            .requests()
            .last()
            .unwrap()
            .outcome
            .as_deref(),
        Some("no_route")
    );

    sim.control(Method::POST, "/reset", json!({})).await;
    assert!(
        sim.control(Method::GET, "/accounts", json!({}))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sim.control(Method::GET, "/clock", json!({})).await["offset_ms"],
        0
    );
    assert_eq!(
        sim.control(Method::GET, "/settings", json!({})).await["chunk_chars"],
        0
    );
    assert!(sim.handle.state().requests().is_empty());
}

#[tokio::test]
async fn default_answer_chunk_size_from_settings() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    sim.control(Method::PATCH, "/settings", json!({"chunk_chars": 3}))
        .await;
    let (_, _, bytes) = sim.chat(&a, "chunk me").await;
    let ev = events(&bytes);
    let sizes: Vec<usize> = ev
        .iter()
        .filter_map(|e| match e {
            kiro_wire::Event::AssistantResponse(t) => Some(t.content.chars().count()),
            _ => None,
        })
        .collect();
    assert!(
        sizes[..sizes.len() - 1].iter().all(|n| *n == 3),
        "{sizes:?}"
    );
}
