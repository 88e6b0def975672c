//! The per-account circuit breaker against the simulator, with short configured delays: opens
//! after K consecutive failures, lets one probe through after the delay (and reopens for longer
//! when it fails), closes after M successful probes.

#![cfg(test)]

pub mod pipeline_support;
pub mod pool_support;

use std::time::{Duration, Instant};

use kiro_proxy::accounts::Unavailable;
use pipeline_support::*;
use pool_support::*;
use serde_json::json;

/// Open periods are long against the retry backoff (200 ms–2 s), so that a request's own
/// retries do not already find the circuit half-open.
fn short_circuit(c: &mut kiro_proxy::Config) {
    c.pool.circuit_failures = 3;
    c.pool.circuit_open_delay = Duration::from_secs(1);
    c.pool.circuit_open_max = Duration::from_secs(4);
    c.pool.circuit_probes = 1;
    c.pool.circuit_close_successes = 2;
}

/// Chats of account `a` so far.
fn tries(h: &Harness, a: &Acct) -> usize {
    served_by(h).iter().filter(|(s, _)| *s == a.sim_id).count()
}

/// Sends requests (all must succeed) until `a` was tried once more, at most `max`.
async fn until_tried(h: &Harness, a: &Acct, max: usize) {
    let before = tries(h, a);
    let start = h.chats().len();
    for _ in 0..max {
        ok(h).await;
        if tries(h, a) > before {
            return;
        }
    }
    panic!(
        "{} was not tried in {max} requests: {:?}, {:?}; all: {:?}",
        a.sim_id,
        served_since(h, start),
        view(h, a).circuit,
        served_by(h)
    );
}

fn open_for(h: &Harness, a: &Acct) -> Option<Duration> {
    match h.app.pool.state(&a.id) {
        Some(Unavailable::CircuitOpen { until }) => {
            Some(until.saturating_duration_since(Instant::now()))
        }
        _ => None,
    }
}

#[tokio::test]
async fn opens_after_k_failures_probes_after_the_delay_and_closes_after_successes() {
    let h = Harness::start_with(short_circuit).await;
    let a = h.add_account().await;
    let b = h.add_account().await;
    let failing = h.queue(
        json!({"type": "error", "kind": "internal_server", "account": a.sim_id, "count": 0}),
    );

    // Closed → open: three 500s on A (each request still served by B after a backoff).
    for _ in 0..3 {
        until_tried(&h, &a, 3).await;
    }
    let v = view(&h, &a);
    assert_eq!((v.state, v.circuit.state), ("circuit_open", "open"));
    assert_eq!(v.circuit.consecutive_failures, 3);
    assert_eq!(v.stats.failures.get("internal"), Some(&3));
    assert!(open_for(&h, &a).unwrap() <= Duration::from_secs(1));

    // While open, A gets nothing.
    let a_before = tries(&h, &a);
    for _ in 0..4 {
        ok(&h).await;
    }
    assert_eq!(tries(&h, &a), a_before);

    // After the delay, one probe goes through; it fails, so the circuit reopens for twice as
    // long.
    tokio::time::sleep(open_for(&h, &a).unwrap() + Duration::from_millis(20)).await;
    assert_eq!(view(&h, &a).circuit.state, "half_open");
    until_tried(&h, &a, 3).await;
    let reopened = open_for(&h, &a).expect("reopened");
    assert!(
        reopened > Duration::from_millis(1400) && reopened <= Duration::from_secs(2),
        "{reopened:?}"
    );
    assert_eq!(view(&h, &a).circuit.opened_total, 2);

    // A recovers; after the longer delay two successful probes close the circuit.
    assert!(h.sim.state().lock().behaviours.remove(failing));
    tokio::time::sleep(reopened + Duration::from_millis(20)).await;
    until_tried(&h, &a, 3).await;
    assert_eq!(
        view(&h, &a).circuit.state,
        "half_open",
        "one success so far"
    );
    until_tried(&h, &a, 3).await;
    let v = view(&h, &a);
    assert_eq!((v.state, v.circuit.state), ("active", "closed"));
    assert_eq!(v.circuit.consecutive_failures, 0);
    assert_eq!(view(&h, &b).circuit.state, "closed");
    // And it takes its share again.
    let a_before = tries(&h, &a);
    for _ in 0..4 {
        ok(&h).await;
    }
    assert_eq!(tries(&h, &a) - a_before, 2);
}

#[tokio::test]
async fn every_circuit_open_gives_429_with_retry_after() {
    // Open longer than the request's own backoff (≤ 2 s) lasts.
    let h = Harness::start_with(|c| {
        short_circuit(c);
        c.pool.circuit_open_delay = Duration::from_secs(3);
    })
    .await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "internal_server", "count": 0}));
    // One request: three failures open the only circuit, and the fourth attempt finds no
    // account; the client sees the upstream's error.
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(h.chats().len(), 3);
    assert_eq!(view(&h, &a).state, "circuit_open");
    // The next request makes no attempt: 429, retry when the circuit half-opens.
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=3).contains(&retry),
        "the circuit's 3 s open period: {retry}"
    );
    assert_eq!(h.chats().len(), 3);
}

#[tokio::test]
async fn client_errors_never_open_a_circuit() {
    let h = Harness::start_with(short_circuit).await;
    let a = h.add_account().await;
    h.queue(json!({"type": "error", "kind": "improperly_formed", "count": 5}));
    for _ in 0..5 {
        let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
        assert_eq!(resp.status(), 400);
    }
    let v = view(&h, &a);
    assert_eq!((v.state, v.circuit.state), ("active", "closed"));
    assert_eq!(v.stats.client_errors, 5);
    assert!(v.stats.failures.is_empty());
}
