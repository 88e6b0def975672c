//! `/api/tools/…` against kiro-sim: web search, the MCP tool list and a tool call, served by an
//! account of the pool with failover; validation, upstream failures and authentication.
#![cfg(test)]

pub mod pipeline_support;

use pipeline_support::*;
use serde_json::{Value, json};

const MCP_PATH: &str = "/mcp";

async fn post(h: &Harness, path: &str, body: &Value) -> (u16, Value) {
    let resp = h
        .http
        .post(format!("{}{path}", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn search(h: &Harness, body: Value) -> (u16, Value) {
    post(h, "/api/tools/web-search", &body).await
}

/// The simulator's log of MCP calls: (sim account, status, JSON-RPC body).
fn mcp_calls(h: &Harness) -> Vec<(String, u16, Value)> {
    h.upstream_log()
        .into_iter()
        .filter(|r| r.path == MCP_PATH)
        .map(|r| {
            (
                r.account.clone().unwrap_or_default(),
                r.status.unwrap_or(0),
                r.body_json().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn web_search_results_are_shaped_and_capped() {
    let h = Harness::start().await;
    let a = h.add_account().await;

    let (status, body) = search(&h, json!({"query": "rust tokio select", "maxResults": 3})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"], a.id);
    assert_eq!(body["totalResults"], 3);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert!(r["title"].as_str().unwrap().contains("rust tokio select"));
        assert!(r["url"].as_str().unwrap().starts_with("https://"));
        assert!(!r["snippet"].as_str().unwrap().is_empty());
        assert!(r["domain"].as_str().unwrap().ends_with(".example.com"));
        // Unix seconds (the upstream sends milliseconds), or null.
        let date = &r["publishedDate"];
        assert!(
            date.is_null()
                || date
                    .as_i64()
                    .is_some_and(|d| (1_700_000_000..4_000_000_000).contains(&d)),
            "{date}"
        );
    }
    assert!(results[0]["publishedDate"].is_i64());
    assert!(results[1]["publishedDate"].is_null());

    // What the upstream was asked, with the account's credentials and ARN.
    let calls = mcp_calls(&h);
    assert_eq!(calls.len(), 1);
    let (sim_account, status, rpc) = &calls[0];
    assert_eq!((sim_account.as_str(), *status), (a.sim_id.as_str(), 200));
    assert_eq!(rpc["method"], "tools/call");
    assert_eq!(rpc["params"]["name"], "web_search");
    assert_eq!(
        rpc["params"]["arguments"],
        json!({"query": "rust tokio select", "maxResults": 3})
    );
    let logged = h
        .upstream_log()
        .into_iter()
        .find(|r| r.path == MCP_PATH)
        .unwrap();
    assert!(logged.header("x-amzn-kiro-profile-arn").is_some());

    // The default is 10; an empty result set is an answer, not an error.
    let (status, body) = search(&h, json!({"query": "default size"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 10);
    let (status, body) = search(&h, json!({"query": "nothing sim:none"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"], json!([]));
    assert_eq!(body["totalResults"], 0);
}

#[tokio::test]
async fn tools_are_listed_and_called() {
    let h = Harness::start().await;
    let a = h.add_account().await;

    let resp = h
        .http
        .get(format!("{}/api/tools/mcp", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: Value = resp.json().await.unwrap();
    assert_eq!(list["account"], a.id);
    let tool = &list["tools"][0];
    assert_eq!(tool["name"], "web_search");
    assert!(tool["description"].as_str().unwrap().contains("Search"));
    assert_eq!(tool["inputSchema"]["required"], json!(["query"]));
    assert_eq!(mcp_calls(&h)[0].2["method"], "tools/list");

    let (status, body) = post(
        &h,
        "/api/tools/mcp/call",
        &json!({"name": "web_search", "arguments": {"query": "axum router", "maxResults": 2}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isError"], false);
    assert_eq!(body["account"], a.id);
    assert_eq!(body["content"][0]["type"], "text");
    let inner: Value = serde_json::from_str(body["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(inner["results"].as_array().unwrap().len(), 2);

    // A tool's own error is its answer (200, isError), not a gateway failure.
    let (status, body) = post(
        &h,
        "/api/tools/mcp/call",
        &json!({"name": "web_search", "arguments": {"query": "x sim:error"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isError"], true);
    assert!(
        body["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("unavailable")
    );

    // Without arguments, `{}` is sent; the upstream's JSON-RPC error is a 502 quoting it.
    let (status, body) = post(&h, "/api/tools/mcp/call", &json!({"name": "no_such_tool"})).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        message(&body).contains("Unknown tool: no_such_tool"),
        "{body}"
    );
    let last = mcp_calls(&h).pop().unwrap().2;
    assert_eq!(
        last["params"],
        json!({"name": "no_such_tool", "arguments": {}})
    );
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let h = Harness::start().await;
    h.add_account().await;
    let cases = [
        (json!({}), "`query`"),
        (json!({"query": "   "}), "`query`"),
        (json!({"query": 42}), "`query`"),
        (json!({"query": "x".repeat(1001)}), "`query`"),
        (json!({"query": "x", "maxResults": 0}), "`maxResults`"),
        (json!({"query": "x", "maxResults": 51}), "`maxResults`"),
        (json!({"query": "x", "maxResults": 2.5}), "`maxResults`"),
        (json!({"query": "x", "maxResults": "5"}), "`maxResults`"),
        (json!(["query"]), "JSON object"),
    ];
    for (body, field) in cases {
        let (status, answer) = search(&h, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(message(&answer).contains(field), "{body} → {answer}");
    }
    // 1000 characters exactly is fine.
    let (status, _) = search(&h, json!({"query": "é".repeat(1000), "maxResults": 1})).await;
    assert_eq!(status, 200);

    for (body, field) in [
        (json!({}), "`name`"),
        (json!({"name": 7}), "`name`"),
        (
            json!({"name": "web_search", "arguments": [1]}),
            "`arguments`",
        ),
        (
            json!({"name": "web_search", "arguments": "{}"}),
            "`arguments`",
        ),
    ] {
        let (status, answer) = post(&h, "/api/tools/mcp/call", &body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(message(&answer).contains(field), "{body} → {answer}");
    }
    // Nothing invalid reached the upstream.
    assert_eq!(mcp_calls(&h).len(), 1);
}

#[tokio::test]
async fn upstream_failures_are_502_with_the_upstream_message() {
    let h = Harness::start().await;
    h.add_account().await;
    for (query, quoted) in [
        ("a sim:rpc-error", "Internal error"),
        ("b sim:error", "the simulated provider is unavailable"),
        ("c sim:empty", "no content"),
    ] {
        let (status, body) = search(&h, json!({"query": query})).await;
        assert_eq!(status, 502, "{query}: {body}");
        assert!(message(&body).contains(quoted), "{query}: {body}");
    }
    // An HTTP refusal (not retried: a client error) quotes the upstream's message.
    h.queue(json!({"type": "error", "kind": "improperly_formed", "path": MCP_PATH}));
    let (status, body) = search(&h, json!({"query": "refused"})).await;
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("HTTP 400"), "{body}");
    assert!(
        message(&body).contains("Improperly formed request"),
        "{body}"
    );
    // A long upstream message is capped.
    h.queue(json!({"type": "http", "status": 400, "path": MCP_PATH,
        "body": json!({"message": "y".repeat(5000)}).to_string()}));
    let (status, body) = search(&h, json!({"query": "long"})).await;
    assert_eq!(status, 502);
    assert!(message(&body).chars().count() < 400, "{body}");
}

#[tokio::test]
async fn a_throttled_account_hands_over_to_another() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    h.queue(
        json!({"type": "error", "kind": "service_request_rate_exceeded",
        "retry_after": 30, "path": MCP_PATH}),
    );

    let (status, body) = search(&h, json!({"query": "failover"})).await;
    assert_eq!(status, 200, "{body}");
    let calls = mcp_calls(&h);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].1, 429);
    assert_eq!(calls[1].1, 200);
    assert_ne!(
        calls[0].0, calls[1].0,
        "the retry went to the other account"
    );
    let (throttled, served) = if calls[0].0 == a.sim_id {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(body["account"], served.id);
    // Charged as chat would charge it: the throttled account cools down.
    let view = h.app.pool.view(&throttled.id).unwrap();
    assert_eq!(view.state, "cooldown", "{view:?}");
    assert!(view.cooldown.is_some());
    assert_eq!(view.stats.failures_total(), 1, "{:?}", view.stats);
    assert_eq!(
        h.app.pool.view(&served.id).unwrap().stats.failures_total(),
        0
    );
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_and_the_call_retried() {
    let h = Harness::start().await;
    let a = h.add_account().await;
    let now = h.sim.state().clock().now_ms();
    h.sim.state().lock().expire_access_tokens(&a.sim_id, now);

    let resp = h
        .http
        .get(format!("{}/api/tools/mcp", h.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let statuses: Vec<u16> = mcp_calls(&h).iter().map(|c| c.1).collect();
    assert_eq!(statuses, [403, 200]);
    assert!(h.upstream_log().iter().any(|r| r.path == "/refreshToken"));
    assert_eq!(h.app.pool.view(&a.id).unwrap().state, "active");
}

#[tokio::test]
async fn no_usable_account_is_a_503() {
    let h = Harness::start().await;
    let (status, body) = search(&h, json!({"query": "anyone"})).await;
    assert_eq!(status, 503, "{body}");
    assert!(message(&body).contains("no upstream account"), "{body}");

    // A disabled account is never used.
    let a = h.add_account().await;
    let (status, _) = post(&h, &format!("/api/accounts/{}/disable", a.id), &json!({})).await;
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while h.app.pool.view(&a.id).is_some_and(|v| v.enabled) {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, body) = post(&h, "/api/tools/mcp/call", &json!({"name": "web_search"})).await;
    assert_eq!(status, 503, "{body}");
    assert!(mcp_calls(&h).is_empty());
}

#[tokio::test]
async fn the_admin_token_is_required() {
    let h = Harness::start().await;
    h.add_account().await;
    for token in [None, Some("wrong-token")] {
        let mut get = h.http.get(format!("{}/api/tools/mcp", h.url));
        let mut post = h
            .http
            .post(format!("{}/api/tools/web-search", h.url))
            .json(&json!({"query": "x"}));
        let mut call = h
            .http
            .post(format!("{}/api/tools/mcp/call", h.url))
            .json(&json!({"name": "web_search"}));
        if let Some(t) = token {
            get = get.bearer_auth(t);
            post = post.bearer_auth(t);
            call = call.bearer_auth(t);
        }
        for req in [get, post, call] {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401);
        }
    }
    assert!(mcp_calls(&h).is_empty());
}
