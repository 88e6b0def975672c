//! The request log and the aggregates through the admin API: a run of requests shows up in
//! both, filters and paging work, the log keeps only the last N requests, parameters are
//! validated, and statistics survive a restart on the same data directory.

#![cfg(test)]

pub mod pipeline_support;
pub mod stats_support;

use pipeline_support::*;
use serde_json::{Value, json};
use stats_support::{Service, admin_get};

const SONNET: &str = "claude-sonnet-4-5";

/// Three good replies (two streamed), one refused (401), one bad (400).
async fn run(h: &Harness) {
    let resp = h.anthropic(&anthropic_body(SONNET, "one", false)).await;
    assert_eq!(resp.status(), 200);
    let resp = h.anthropic(&anthropic_body(SONNET, "two", true)).await;
    read_sse(resp).await;
    let resp = h.openai(&openai_body(SONNET, "three", true)).await;
    read_sse(resp).await;
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth("sk-not-a-key")
        .json(&openai_body(SONNET, "four", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = h
        .anthropic(&json!({"model": SONNET, "messages": "nope"}))
        .await;
    assert_eq!(resp.status(), 400);
    h.app.stats.flush().await;
}

fn ids(body: &Value) -> Vec<String> {
    body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requestId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_log_and_the_aggregates_reflect_a_run() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    run(&h).await;

    let (status, body) = admin_get(&h.url, "/requests").await;
    assert_eq!(status, 200, "{body}");
    let requests = body["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 5, "{body}");
    assert!(body.get("next").is_none());
    // Newest first.
    assert_eq!(requests[0]["status"], 400);
    assert_eq!(requests[1]["status"], 401);
    assert_eq!(requests[1]["keyId"], Value::Null);
    let streamed = &requests[2];
    assert_eq!(streamed["dialect"], "openai");
    assert_eq!(streamed["stream"], true);
    assert_eq!(streamed["keyId"], "config:0");
    assert_eq!(streamed["clientIp"], "127.0.0.1");
    assert_eq!(streamed["modelRequested"], SONNET);
    assert_eq!(streamed["account"], acct.id.as_str());
    assert_eq!(streamed["stopReason"], "end_turn");
    assert!(streamed["outputTokens"].as_i64().unwrap() > 0);
    assert!(streamed["latencyMs"].as_f64().unwrap() > 0.0);
    assert!(streamed["ttftMs"].as_f64().is_some());
    let text = body.to_string();
    assert!(
        !text.contains(CLIENT_KEY) && !text.contains("three"),
        "no key, no prompt"
    );

    // One request by its id.
    let id = streamed["requestId"].as_str().unwrap();
    let (status, one) = admin_get(&h.url, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(&one, streamed);
    let (status, _) = admin_get(&h.url, "/requests/req_nothing_like_it").await;
    assert_eq!(status, 404);

    // Aggregates by status class, and totals.
    let (status, stats) = admin_get(&h.url, "/stats?by=status&period=hour").await;
    assert_eq!(status, 200, "{stats}");
    let totals = &stats["totals"];
    assert_eq!(totals["requests"], 5);
    assert_eq!(totals["errors"], 2);
    assert!(totals["outputTokens"].as_i64().unwrap() > 0);
    assert!(totals["credits"].as_f64().unwrap() > 0.0);
    assert!(totals["avgLatencyMs"].as_f64().unwrap() > 0.0);
    let mut classes: Vec<(String, i64)> = stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["status"].as_str().unwrap().to_owned(),
                b["requests"].as_i64().unwrap(),
            )
        })
        .collect();
    classes.sort();
    assert_eq!(classes, [("2xx".to_owned(), 3), ("4xx".to_owned(), 2)]);

    // Per key, per day: the configured key and the unrecognised caller.
    let (_, by_key) = admin_get(&h.url, "/stats?by=key&period=day").await;
    let buckets = by_key["buckets"].as_array().unwrap();
    let configured = buckets.iter().find(|b| b["key"] == "config:0").unwrap();
    assert_eq!(configured["requests"], 4);
    assert_eq!(configured["errors"], 1);
    let unknown = buckets.iter().find(|b| b["key"].is_null()).unwrap();
    assert_eq!(unknown["requests"], 1);
    let start = configured["start"].as_i64().unwrap();
    assert_eq!(start % 86_400, 0);

    // Per account, per model.
    let (_, by_account) = admin_get(&h.url, "/stats?by=account").await;
    let served = by_account["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["account"] == acct.id.as_str())
        .unwrap();
    assert_eq!(served["requests"], 3);
    let (_, by_model) = admin_get(&h.url, "/stats?by=model").await;
    assert!(
        by_model["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["model"].is_string())
    );
}

#[tokio::test]
async fn filters_and_paging() {
    let h = Harness::start().await;
    let acct = h.add_account().await;
    run(&h).await;
    run(&h).await;

    // Pages of 3 walk all 10 rows, newest first, without repeats.
    let mut seen = Vec::new();
    let mut path = "/requests?limit=3".to_owned();
    loop {
        let (status, body) = admin_get(&h.url, &path).await;
        assert_eq!(status, 200, "{body}");
        let page = ids(&body);
        assert!(page.len() <= 3);
        seen.extend(page);
        match body["next"].as_str() {
            Some(next) => path = format!("/requests?limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10);
    let (_, all) = admin_get(&h.url, "/requests").await;
    assert_eq!(seen, ids(&all));

    for (query, expected) in [
        ("status=error", 4),
        ("status=4xx", 4),
        ("status=401", 2),
        ("status=ok", 6),
        ("key=config:0", 8),
        (&*format!("account={}", acct.id), 6),
        (&*format!("model={SONNET}"), 6),
        ("since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z", 0),
        ("since=2000-01-01T00:00:00Z", 10),
    ] {
        let (status, body) = admin_get(&h.url, &format!("/requests?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(ids(&body).len(), expected, "{query}: {body}");
    }

    for (query, field) in [
        ("/requests?limit=0", "limit"),
        ("/requests?status=maybe", "status"),
        ("/requests?since=tomorrow", "since"),
        ("/requests?before=zzz", "before"),
        ("/requests?colour=blue", "colour"),
        ("/stats?by=colour", "by"),
        ("/stats?period=week", "period"),
        ("/stats?since=100&until=50", "until"),
    ] {
        let (status, body) = admin_get(&h.url, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{query}: {message}"
        );
    }
    let resp = h
        .http
        .get(format!("{}/api/requests", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "admin token required");
}

#[tokio::test]
async fn the_log_keeps_the_last_n_requests() {
    let h = Harness::start_with(|c| c.stats.request_log_size = 3).await;
    h.add_account().await;
    run(&h).await;
    let (_, body) = admin_get(&h.url, "/requests").await;
    let rows = body["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{body}");
    // The three newest: 400, 401, then the streamed OpenAI reply.
    assert_eq!(rows[0]["status"], 400);
    assert_eq!(rows[2]["dialect"], "openai");
    // The aggregates still count all five.
    let (_, stats) = admin_get(&h.url, "/stats").await;
    assert_eq!(stats["totals"]["requests"], 5);
}

#[tokio::test]
async fn statistics_survive_a_restart() {
    let sim = kiro_sim::start(kiro_sim::SimConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = Service::start(&sim.base_url(), dir.path(), |_| {}).await;
    first.add_account(&sim).await;
    for _ in 0..3 {
        let resp = first.anthropic(&anthropic_body(SONNET, "hi", false)).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    first.stop().await;

    let second = Service::start(&sim.base_url(), dir.path(), |_| {}).await;
    let (_, before) = admin_get(&second.url, "/stats?period=day").await;
    assert_eq!(before["totals"]["requests"], 3, "{before}");
    let (_, log) = admin_get(&second.url, "/requests").await;
    assert_eq!(ids(&log).len(), 3);
    let resp = second
        .anthropic(&anthropic_body(SONNET, "again", false))
        .await;
    assert_eq!(resp.status(), 200);
    second.app.stats.flush().await;
    let (_, after) = admin_get(&second.url, "/stats?period=hour").await;
    assert_eq!(after["totals"]["requests"], 4, "{after}");
    let (_, log) = admin_get(&second.url, "/requests").await;
    assert_eq!(ids(&log).len(), 4);
    second.stop().await;
}
