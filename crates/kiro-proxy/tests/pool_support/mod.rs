//! Helpers of the `pool_*` tests, on top of the pipeline harness: requests that must succeed,
//! which simulator account served each chat, and the pool's view of an account.

use std::time::{Duration, Instant};

use kiro_proxy::accounts::PoolAccountView;
use serde_json::{Value, json};

use super::pipeline_support::*;

pub const SONNET: &str = "claude-sonnet-4-5";

/// A non-streaming Anthropic request that must succeed; returns the reply.
pub async fn ok(h: &Harness) -> Value {
    let resp = h.anthropic(&anthropic_body(SONNET, "hi", false)).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Same, as one client session (Claude Code's `metadata.user_id` JSON with a session id).
pub async fn ok_in_session(h: &Harness, session: &str) -> Value {
    let mut body = anthropic_body(SONNET, "hi", false);
    body["metadata"] = json!({
        "user_id": json!({"device_id": "dev", "account_uuid": "", "session_id": session}).to_string()
    });
    let resp = h.anthropic(&body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// (simulator account, status) of every chat request, oldest first.
pub fn served_by(h: &Harness) -> Vec<(String, u16)> {
    h.chats()
        .iter()
        .map(|r| (r.account.clone().unwrap_or_default(), r.status.unwrap_or(0)))
        .collect()
}

/// Chats since index `from` of the chat log.
pub fn served_since(h: &Harness, from: usize) -> Vec<(String, u16)> {
    served_by(h).split_off(from)
}

/// The account among `accts` with simulator id `sim_id`.
pub fn by_sim<'a>(accts: &'a [Acct], sim_id: &str) -> &'a Acct {
    accts
        .iter()
        .find(|a| a.sim_id == sim_id)
        .unwrap_or_else(|| panic!("no account {sim_id}"))
}

/// The pool's view of `a`.
pub fn view(h: &Harness, a: &Acct) -> PoolAccountView {
    h.app.pool.view(&a.id).expect("account in the pool")
}

/// Polls `cond` every 10 ms for up to `within`.
pub async fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Number of chats each account served with a 200.
pub fn served_ok(h: &Harness, a: &Acct) -> usize {
    served_by(h)
        .iter()
        .filter(|(acc, s)| acc == &a.sim_id && *s == 200)
        .count()
}
