//! `GET /metrics`: the counters move after requests, the histograms are there, pool figures
//! follow the pool, refreshes and open streams are counted, and the optional token guards it.

#![cfg(test)]

pub mod pipeline_support;

use std::time::Duration;

use pipeline_support::*;
use serde_json::json;

/// One sample of the text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// Parses the Prometheus text format (the subset the encoder writes: no escaped quotes in
/// our label values, no timestamps).
fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let rest = rest.strip_suffix('}').unwrap();
                let labels = rest
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once("=\"").unwrap();
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels)
            }
            None => (series.to_owned(), Vec::new()),
        };
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    out
}

/// The sum of every sample of `name` carrying all of `labels`.
fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|s| s.value)
        .sum()
}

fn has(samples: &[Sample], name: &str) -> bool {
    samples.iter().any(|s| s.name == name)
}

async fn scrape(h: &Harness) -> Vec<Sample> {
    let resp = h
        .http
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    parse(&resp.text().await.unwrap())
}

/// Waits until the metrics satisfy `cond` (records are reported when a request ends, which
/// for a stream may be just after the client read its last byte).
async fn scrape_until(h: &Harness, cond: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    for _ in 0..200 {
        let s = scrape(h).await;
        if cond(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    scrape(h).await
}

#[tokio::test]
async fn counters_and_histograms_move_with_requests() {
    let h = Harness::start().await;
    h.add_account().await;
    let before = scrape(&h).await;
    assert_eq!(sum(&before, "kiro_requests_total", &[]), 0.0);
    assert_eq!(sum(&before, "kiro_pool_size", &[]), 1.0);
    assert_eq!(sum(&before, "kiro_accounts", &[("state", "active")]), 1.0);
    assert_eq!(sum(&before, "kiro_accounts", &[("state", "cooldown")]), 0.0);
    assert_eq!(sum(&before, "kiro_open_streams", &[]), 0.0);

    let r = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .await;
    assert_eq!(r.status(), 200);
    let events = read_sse(
        h.anthropic(&anthropic_body("claude-sonnet-4-5", "hello", true))
            .await,
    )
    .await;
    assert!(!check_anthropic_sse(&events));
    let events = read_sse(
        h.openai(&openai_body("claude-sonnet-4-5", "hi", true))
            .await,
    )
    .await;
    assert!(!check_openai_sse(&events));
    // Refused before the upstream: counted, without an upstream model.
    let refused = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", "sk-not-a-key")
        .json(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let s = scrape_until(&h, |s| sum(s, "kiro_requests_total", &[]) >= 4.0).await;
    assert_eq!(sum(&s, "kiro_requests_total", &[]), 4.0);
    assert_eq!(
        sum(
            &s,
            "kiro_requests_total",
            &[
                ("dialect", "anthropic"),
                ("status", "200"),
                ("model", "claude-sonnet-4.5")
            ]
        ),
        2.0
    );
    assert_eq!(
        sum(
            &s,
            "kiro_requests_total",
            &[("dialect", "openai"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        sum(
            &s,
            "kiro_requests_total",
            &[("status", "401"), ("model", "none")]
        ),
        1.0
    );
    for histogram in [
        "kiro_request_duration_seconds",
        "kiro_time_to_first_token_seconds",
        "kiro_proxy_overhead_seconds",
        "kiro_upstream_wait_seconds",
    ] {
        assert!(has(&s, &format!("{histogram}_bucket")), "{histogram}");
        assert!(has(&s, &format!("{histogram}_sum")), "{histogram}");
    }
    assert_eq!(sum(&s, "kiro_request_duration_seconds_count", &[]), 4.0);
    // Three requests reached the upstream and produced output.
    assert_eq!(sum(&s, "kiro_proxy_overhead_seconds_count", &[]), 3.0);
    assert_eq!(sum(&s, "kiro_time_to_first_token_seconds_count", &[]), 3.0);
    assert!(sum(&s, "kiro_tokens_total", &[("kind", "output")]) > 0.0);
    assert!(sum(&s, "kiro_tokens_total", &[("kind", "input")]) > 0.0);
    assert!(sum(&s, "kiro_credits_total", &[]) > 0.0);
    // The overhead of a loopback simulator is far below the total latency.
    assert!(
        sum(&s, "kiro_proxy_overhead_seconds_sum", &[])
            < sum(&s, "kiro_request_duration_seconds_sum", &[])
    );
    assert!(sum(&s, "kiro_request_errors_total", &[]) >= 1.0);
    assert_eq!(sum(&s, "kiro_open_streams", &[]), 0.0);
}

#[tokio::test]
async fn upstream_errors_refreshes_and_open_streams() {
    let h = Harness::start().await;
    let acct = h.add_account().await;

    // A failed attempt recovered by a retry still counts as an upstream error.
    h.queue(json!({"type": "error", "kind": "internal_server"}));
    let r = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "hello", false))
        .await;
    assert_eq!(r.status(), 200);
    let s = scrape(&h).await;
    assert!(
        sum(&s, "kiro_upstream_errors_total", &[]) >= 1.0,
        "{:?}",
        s.iter()
            .filter(|x| x.name == "kiro_upstream_errors_total")
            .collect::<Vec<_>>()
    );

    let before = sum(&s, "kiro_token_refreshes_total", &[("outcome", "ok")]);
    h.app.tokens.force_refresh(&acct.id).await.unwrap();
    let s = scrape(&h).await;
    assert!(sum(&s, "kiro_token_refreshes_total", &[("outcome", "ok")]) >= before + 1.0);

    // A slow stream is open while it is sent.
    h.script(json!({"pace": {"frame_interval_ms": 100},
        "parts": [{"type": "text", "text": "one two three four five six", "chunk_chars": 4}]}));
    let resp = h
        .anthropic(&anthropic_body("claude-sonnet-4-5", "slow", true))
        .await;
    let s = scrape(&h).await;
    assert_eq!(sum(&s, "kiro_open_streams", &[]), 1.0);
    let events = read_sse(resp).await;
    assert!(!check_anthropic_sse(&events));
    let s = scrape_until(&h, |s| sum(s, "kiro_open_streams", &[]) == 0.0).await;
    assert_eq!(sum(&s, "kiro_open_streams", &[]), 0.0);
}

#[tokio::test]
async fn the_metrics_token_guards_the_endpoint() {
    const TOKEN: &str = "metrics-token-0123456789";
    let h = Harness::start_with(|c| {
        c.ops.metrics_token = Some(TOKEN.into());
    })
    .await;
    let url = format!("{}/metrics", h.url);
    let open = h.http.get(&url).send().await.unwrap();
    assert_eq!(open.status(), 401);
    assert_eq!(open.headers()["www-authenticate"], "Bearer");
    let wrong = h
        .http
        .get(&url)
        .bearer_auth("metrics-token-wrong-0000")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = h.http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let text = ok.text().await.unwrap();
    assert!(text.contains("# TYPE kiro_pool_size gauge"), "{text}");
    // The token is never part of the output, and the client key does not open it.
    assert!(!text.contains(TOKEN));
    let client = h
        .http
        .get(&url)
        .bearer_auth(CLIENT_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(client.status(), 401);
}
