//! The request path never waits for the statistics writer: with the writer stuck on a locked
//! database and its queue full, records are dropped and counted, and requests are served as
//! fast as ever. Once the database frees up, what was queued is written.

#![cfg(test)]

pub mod pipeline_support;

use std::time::{Duration, Instant};

use pipeline_support::*;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

const SONNET: &str = "claude-sonnet-4-5";
const REQUESTS: u64 = 10;

#[tokio::test]
async fn a_full_queue_drops_and_counts_and_requests_still_succeed() {
    let h = Harness::start_with(|c| c.stats.queue_size = 2).await;
    h.add_account().await;
    // Another connection holds the database's write lock: the writer blocks on its first
    // batch (SQLite's busy timeout is 10 s).
    let mut blocker = SqliteConnectOptions::new()
        .filename(h.app.config.database_path())
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();

    for i in 0..REQUESTS {
        let started = Instant::now();
        let resp = h
            .anthropic(&anthropic_body(SONNET, &format!("hi {i}"), false))
            .await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "request {i} took {:?}",
            started.elapsed()
        );
        if i == 0 {
            // Past the writer's linger: it now holds the first record and waits on the lock.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    assert!(
        eventually(Duration::from_secs(2), || h.app.stats.dropped() > 0).await,
        "nothing was dropped: {} written",
        h.app.stats.written()
    );
    assert_eq!(h.app.stats.written(), 0, "the writer is stuck");

    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    h.app.stats.flush().await;
    let (written, dropped) = (h.app.stats.written(), h.app.stats.dropped());
    assert_eq!(
        written + dropped,
        REQUESTS,
        "{written} written, {dropped} dropped"
    );
    assert!(written >= 1);
}
