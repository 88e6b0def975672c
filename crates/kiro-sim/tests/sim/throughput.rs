//! A rough throughput probe (ignored by default; run with
//! `cargo test -p kiro-sim --release --test sim -- --ignored throughput --nocapture`).

use std::io::Write as _;
use std::time::Instant;

use kiro_sim::accounts::AccountKind;
use kiro_sim::{Settings, SimConfig};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load probe; prints requests per second"]
async fn throughput_of_default_streams() {
    for record_requests in [false, true] {
        probe(record_requests).await;
    }
}

async fn probe(record_requests: bool) {
    let settings = Settings {
        record_requests,
        ..Settings::default()
    };
    let sim = Sim::start_with(SimConfig {
        settings,
        ..SimConfig::default()
    })
    .await;
    let acct = sim.account(AccountKind::Social);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let body = chat_body("How fast can you stream?", "claude-sonnet-4.5").to_string();
    let url = sim.url("/generateAssistantResponse");
    let token = acct.access_token.clone().unwrap();
    let per_task = 200;
    let tasks = 32;
    let t = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (http, body, url, token) = (http.clone(), body.clone(), url.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let mut frames = 0usize;
            for _ in 0..per_task {
                let bytes = http
                    .post(&url)
                    .bearer_auth(&token)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                frames += bytes.len();
            }
            frames
        }));
    }
    let mut total_bytes = 0;
    for h in handles {
        total_bytes += h.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let n = (tasks * per_task) as f64;
    let _ = writeln!(
        std::io::stderr(),
        "request log {record_requests}: {n} streamed responses in {secs:.2}s: {:.0}/s, {:.1} MB/s",
        n / secs,
        total_bytes as f64 / secs / 1e6
    );
}
