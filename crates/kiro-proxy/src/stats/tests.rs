use std::net::IpAddr;

use kiro_wire::types::Secret;

use super::*;
use crate::crypto::Crypto;
use crate::telemetry::{KeyRef, RequestObserver};

const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Half past the current hour, in Unix milliseconds: recent enough to be kept, and every
/// record of a test falls in one hour and one day.
fn t0_ms() -> i64 {
    let now = crate::store::unix_now();
    (now - now.rem_euclid(3600) + 1800) * 1000
}

async fn store(dir: &std::path::Path) -> Store {
    let crypto = Crypto::load(dir, Some(&Secret::from(MASTER_KEY))).unwrap();
    Store::open(dir, &crypto).await.unwrap()
}

fn record(i: i64, status: u16) -> RequestRecord {
    let t0 = t0_ms();
    RequestRecord {
        request_id: format!("req_{i}"),
        started_at_ms: t0 + i * 1000,
        key: KeyRef::Configured { index: 0 },
        client_ip: Some(IpAddr::from([10, 0, 0, 1])),
        dialect: "openai",
        stream: i % 2 == 0,
        model_requested: Some("claude-sonnet-4-5".into()),
        model_upstream: Some("claude-sonnet-4.5".into()),
        account_id: Some("acct-1".into()),
        attempts: 1,
        status,
        stop_reason: (status == 200).then_some("end_turn"),
        error: (status != 200).then(|| "throttled".to_owned()),
        error_message: (status != 200).then(|| {
            format!(
                "slow down, key kp_{} {}",
                "A1b2C3d4E5f6G7h8J9k0",
                "x".repeat(900)
            )
        }),
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 2,
        cache_creation_input_tokens: 1,
        credits: 0.5,
        latency_ms: 100.0,
        ttft_ms: Some(40.0),
        upstream_ms: 90.0,
        client_disconnected: false,
        bodies: None,
    }
}

fn config(log: usize, queue: usize) -> StatsConfig {
    StatsConfig {
        request_log_size: log,
        queue_size: queue,
        ..StatsConfig::default()
    }
}

#[tokio::test]
async fn writes_the_log_capped_and_the_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let stats = Stats::new(store.clone(), &config(5, 64));
    stats.spawn_writer();
    for i in 0..8 {
        stats.observe(&record(i, if i == 7 { 429 } else { 200 }));
    }
    stats.flush().await;
    assert_eq!((stats.written(), stats.dropped()), (8, 0));

    let page = list_requests(
        &store,
        &RequestFilter {
            limit: 100,
            ..RequestFilter::default()
        },
    )
    .await
    .unwrap();
    let ids: Vec<&str> = page
        .requests
        .iter()
        .map(|r| r.request_id.as_str())
        .collect();
    assert_eq!(ids, ["req_7", "req_6", "req_5", "req_4", "req_3"]);
    assert!(page.next.is_none());
    let newest = &page.requests[0];
    assert_eq!(newest.key_id.as_deref(), Some("config:0"));
    assert_eq!(newest.client_ip.as_deref(), Some("10.0.0.1"));
    assert_eq!(newest.error.as_deref(), Some("throttled"));
    // The message the client got is kept, without the secret in it, and capped.
    let message = newest.error_message.as_deref().unwrap_or_default();
    assert!(message.starts_with("slow down, key "), "{message}");
    assert!(!message.contains("A1b2C3d4E5f6G7h8J9k0"), "{message}");
    assert!(
        message.len() < 600 && message.contains("truncated"),
        "{message}"
    );

    // Everything counts in the aggregates, even what left the log.
    let q = StatsQuery {
        by: Some(By::Status),
        period: Period::Hour,
        since: t0_ms() / 1000 - 3600,
        until: t0_ms() / 1000 + 3600,
    };
    let s = series(&store, &q).await.unwrap();
    assert_eq!(s.totals.requests, 8);
    assert_eq!(s.totals.errors, 1);
    assert_eq!(s.totals.input_tokens, 80);
    assert_eq!(s.totals.cache_write_tokens, 8);
    assert!((s.totals.credits - 4.0).abs() < 1e-9);
    assert!((s.totals.avg_latency_ms - 100.0).abs() < 1e-9);
    let classes: Vec<(&str, i64)> = s
        .buckets
        .iter()
        .map(|b| (b.status.as_deref().unwrap(), b.totals.requests))
        .collect();
    assert_eq!(classes, [("2xx", 7), ("4xx", 1)]);
    assert_eq!(
        s.buckets[0].start,
        t0_ms() / 1000 - 1800,
        "the hour's start"
    );

    let day = series(
        &store,
        &StatsQuery {
            by: None,
            period: Period::Day,
            ..q
        },
    )
    .await
    .unwrap();
    assert_eq!(day.buckets.len(), 1);
    let t0 = t0_ms() / 1000;
    assert_eq!(
        day.buckets[0].start,
        t0 - t0.rem_euclid(86_400),
        "midnight UTC"
    );
    assert_eq!(day.buckets[0].totals.requests, 8);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let stats = Stats::new(store.clone(), &config(100, 2));
    // No writer yet: the queue fills.
    for i in 0..5 {
        stats.observe(&record(i, 200));
    }
    assert_eq!(stats.dropped(), 3);
    stats.spawn_writer();
    stats.flush().await;
    assert_eq!((stats.written(), stats.dropped()), (2, 3));
    let page = list_requests(
        &store,
        &RequestFilter {
            limit: 10,
            ..RequestFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.requests.len(), 2);
}

#[tokio::test]
async fn filters_and_keyset_paging() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let stats = Stats::new(store.clone(), &config(100, 64));
    stats.spawn_writer();
    for i in 0..10 {
        let mut r = record(i, if i % 3 == 0 { 500 } else { 200 });
        if i % 2 == 1 {
            r.account_id = Some("acct-2".into());
        }
        stats.observe(&r);
    }
    stats.flush().await;
    let all = |f: RequestFilter| {
        let store = store.clone();
        async move {
            let mut out = Vec::new();
            let mut f = f;
            loop {
                let page = list_requests(&store, &f).await.unwrap();
                out.extend(page.requests.into_iter().map(|r| r.request_id));
                match page.next {
                    Some(c) => f.before = Some(c),
                    None => return out,
                }
            }
        }
    };
    let paged = all(RequestFilter {
        limit: 3,
        ..RequestFilter::default()
    })
    .await;
    let expected: Vec<String> = (0..10).rev().map(|i| format!("req_{i}")).collect();
    assert_eq!(paged, expected);
    let failed = all(RequestFilter {
        limit: 2,
        status: Some(StatusFilter::Error),
        ..RequestFilter::default()
    })
    .await;
    assert_eq!(failed, ["req_9", "req_6", "req_3", "req_0"]);
    let acct2_5xx = all(RequestFilter {
        limit: 10,
        account: Some("acct-2".into()),
        status: Some(StatusFilter::Class(5)),
        ..RequestFilter::default()
    })
    .await;
    assert_eq!(acct2_5xx, ["req_9", "req_3"]);
    let window = all(RequestFilter {
        limit: 10,
        since_ms: Some(t0_ms() + 2000),
        until_ms: Some(t0_ms() + 5000),
        ..RequestFilter::default()
    })
    .await;
    assert_eq!(window, ["req_4", "req_3", "req_2"]);
    assert_eq!(
        get_request(&store, "req_4").await.unwrap().unwrap().time_ms,
        t0_ms() + 4000
    );
    assert!(get_request(&store, "nope").await.unwrap().is_none());
}

#[tokio::test]
async fn pruning_drops_daily_aggregates_past_the_daily_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let stats = Stats::new(store.clone(), &config(100, 64));
    stats.spawn_writer();
    // Today, 10 days ago and 500 days ago (the last past the default 400 days).
    for (i, days_ago) in [(0, 0), (1, 10), (2, 500)] {
        let mut r = record(i, 200);
        r.started_at_ms -= days_ago * 86_400_000;
        stats.observe(&r);
    }
    stats.flush().await;
    let daily = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stats_daily")
            .fetch_one(store.sqlite())
            .await
            .unwrap();
        n
    };
    // (The writer's own pruning at start may already have dropped the oldest row.)
    stats.prune_now().await.unwrap();
    assert_eq!(daily().await, 2, "500 days old: past the default");
    stats.set_daily_retention_days(5);
    stats.prune_now().await.unwrap();
    assert_eq!(daily().await, 1, "10 days old: past 5 days");
    // The request log follows its own retention (30 days): only today's row stays.
    let (log,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM request_log")
        .fetch_one(store.sqlite())
        .await
        .unwrap();
    assert_eq!(log, 2);
}
