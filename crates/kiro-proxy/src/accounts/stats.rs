//! Per-account request statistics, charged to the account that actually served (one selection
//! per attempt: the lease that made the attempt records its outcome).

use std::collections::BTreeMap;

use serde::Serialize;

/// Longest `lastError` kept (upstream messages can be long).
const MAX_ERROR_CHARS: usize = 300;

/// What one account did since the process started.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountStats {
    /// Attempts this account was selected for.
    pub requests: u64,
    /// Attempts that produced a reply.
    pub successes: u64,
    /// Upstream failures by label (`rate_exceeded`, `internal`, `empty_stream`, …), before or
    /// after output.
    pub failures: BTreeMap<String, u64>,
    /// Requests the upstream refused as malformed (the client's fault, not the account's).
    pub client_errors: u64,
    /// Credits metered on this account's replies (sum of `meteringEvent.usage`).
    pub credits: f64,
    /// Epoch seconds.
    pub last_used_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

impl AccountStats {
    pub fn failure(&mut self, label: &str, message: &str, now_unix: i64) {
        *self.failures.entry(label.to_owned()).or_default() += 1;
        let mut m: String = message.chars().take(MAX_ERROR_CHARS).collect();
        if m.is_empty() {
            label.clone_into(&mut m);
        }
        self.last_error = Some(m);
        self.last_error_at = Some(now_unix);
    }

    pub fn failures_total(&self) -> u64 {
        self.failures.values().sum()
    }
}
