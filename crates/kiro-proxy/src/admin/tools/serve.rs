//! One MCP call through the pool: attempts, each on a leased account with a valid token, until
//! the upstream answers or the failover budget (attempts and time) is spent. The reaction to a
//! failure follows spec §8.1 as the chat path applies it (`http::chat`): the same account
//! effects for the same fault kinds, one forced refresh on a rejected token, another account
//! after throttling, backoff after a transient fault.

use dialects::kiro::response::{Reaction, UpstreamFault};
use kiro_wire::types::McpRequest;
use serde_json::Value;

use super::{ToolsError, UpstreamTools};
use crate::accounts::failover::Budget;
use crate::accounts::reaction::{classify, counts_against_account};
use crate::accounts::{Lease, Pick, Want};

/// The "model" a tools call asks the pool for: no plan restricts MCP, and no model name
/// contains it.
const MCP_MODEL: &str = "mcp";

impl UpstreamTools {
    /// Sends `request` until one account's upstream answers; returns that account's id and the
    /// JSON-RPC `result` (a JSON-RPC `error` is a [`ToolsError::Upstream`], not retried: the
    /// account worked, the call did not).
    pub(super) async fn call_upstream(
        &self,
        request: &McpRequest,
    ) -> Result<(String, Value), ToolsError> {
        let config = self.pool.config();
        let mut budget = Budget::new(&config);
        let mut tried: Vec<String> = Vec::new();
        let mut refreshed: Vec<String> = Vec::new();
        let mut transient: u32 = 0;
        let mut last: Option<ToolsError> = None;
        let mut again: Option<Lease> = None;
        let mut avoid: Option<String> = None;
        loop {
            if budget.spent() {
                return Err(last.unwrap_or_else(|| {
                    ToolsError::NoAccount(
                        "the upstream could not be reached within the failover budget".into(),
                    )
                }));
            }
            let mut lease = match again.take() {
                Some(lease) => lease,
                None => {
                    let want = Want {
                        model: MCP_MODEL,
                        session: None,
                        tried: &tried,
                        avoid: avoid.as_deref(),
                    };
                    let wait = config.lease_wait.min(budget.remaining());
                    match self.pool.acquire_or_wait(&want, wait).await {
                        Pick::Leased(lease) => lease,
                        Pick::Busy => {
                            return Err(last.unwrap_or_else(|| {
                                ToolsError::NoAccount(format!(
                                    "every upstream account is serving its maximum of {} \
                                     concurrent requests; retry shortly",
                                    config.max_concurrency
                                ))
                            }));
                        }
                        Pick::Unavailable { .. } => {
                            return Err(last.unwrap_or_else(|| self.no_account()));
                        }
                    }
                }
            };
            let account_id = lease.account_id().to_owned();
            let auth = match self.tokens.access(&account_id).await {
                Ok(auth) => auth,
                Err(e) => {
                    tracing::warn!(account = %account_id, error = %e, "tools call: no usable token");
                    lease.failed(e.label(), &e.to_string(), false);
                    if e.is_permanent() {
                        self.pool.needs_login(&account_id, e.to_string());
                    } else {
                        self.pool
                            .cooldown(&account_id, config.default_cooldown, e.to_string());
                    }
                    tried.push(account_id);
                    last.get_or_insert_with(|| {
                        ToolsError::NoAccount(format!(
                            "no upstream account has a usable token (last: {e})"
                        ))
                    });
                    continue;
                }
            };
            budget.note_attempt();
            let answer = self
                .upstream
                .mcp::<Value>(&auth, request, budget.attempts().min(3))
                .await;
            let fault = match answer {
                Ok(response) => {
                    lease.succeeded();
                    return match response.into_result() {
                        Ok(result) => Ok((account_id, result)),
                        Err(e) => Err(ToolsError::upstream("upstream MCP error", &rpc_text(e))),
                    };
                }
                Err(e) => classify(&e),
            };
            tracing::info!(
                account = %account_id,
                attempt = budget.attempts(),
                fault = fault.label,
                status = fault.status,
                method = %request.method,
                "upstream MCP attempt failed"
            );
            self.account_effect(&mut lease, &fault);
            last = Some(upstream_error(&fault));
            match fault.reaction {
                Reaction::FailFastClientError => return Err(upstream_error(&fault)),
                Reaction::RefreshAndRetryOnce => {
                    if refreshed.contains(&account_id) {
                        // Rejected again after a refresh: the account needs an operator.
                        lease.failed(fault.label, &fault.message, false);
                        self.pool.needs_login(&account_id, fault.label);
                        tried.push(account_id);
                    } else {
                        refreshed.push(account_id.clone());
                        match self.tokens.refresh_rejected(&auth).await {
                            Ok(_) => again = Some(lease),
                            Err(e) => {
                                lease.failed(e.label(), &e.to_string(), false);
                                if e.is_permanent() {
                                    self.pool.needs_login(&account_id, e.to_string());
                                }
                                tried.push(account_id);
                            }
                        }
                    }
                }
                Reaction::TransientRetryWithBackoff => {
                    transient += 1;
                    drop(lease);
                    avoid = Some(account_id);
                    tokio::time::sleep(budget.backoff(transient)).await;
                }
                Reaction::AccountCooldownAndSwitch { .. }
                | Reaction::AccountExhaustedUntilReset
                | Reaction::AccountDisabledNeedsRelogin
                | Reaction::InvalidModelTryOther => tried.push(account_id),
            }
        }
    }

    /// A fault's effect on the account whose lease met it, as the chat path applies it.
    fn account_effect(&self, lease: &mut Lease, fault: &UpstreamFault) {
        let id = lease.account_id().to_owned();
        match fault.reaction {
            Reaction::FailFastClientError => lease.client_error(),
            Reaction::RefreshAndRetryOnce => {}
            Reaction::InvalidModelTryOther | Reaction::TransientRetryWithBackoff => {
                lease.failed(fault.label, &fault.message, counts_against_account(fault));
            }
            Reaction::AccountCooldownAndSwitch { cooldown_secs } => {
                lease.failed(fault.label, &fault.message, counts_against_account(fault));
                let cooldown = cooldown_secs.map_or_else(
                    || self.pool.config().default_cooldown,
                    std::time::Duration::from_secs,
                );
                self.pool.cooldown(&id, cooldown, fault.label);
            }
            Reaction::AccountExhaustedUntilReset => {
                lease.failed(fault.label, &fault.message, false);
                self.pool.exhausted_until_reset(&id, fault.label);
            }
            Reaction::AccountDisabledNeedsRelogin => {
                lease.failed(fault.label, &fault.message, false);
                self.pool.needs_login(&id, fault.label);
            }
        }
    }

    /// Why no attempt could start.
    fn no_account(&self) -> ToolsError {
        if self.pool.is_empty() {
            return ToolsError::NoAccount(
                "no upstream account is configured; add one first (kiro-proxy login, \
                 kiro-proxy import, or the console's Accounts page)"
                    .to_owned(),
            );
        }
        let mut message = "no upstream account is usable now (disabled, cooling down, out of \
                           credits, failing or needing a re-login)"
            .to_owned();
        if let Some(wait) = self.pool.next_available_in() {
            message.push_str(&format!(
                "; one should be back in about {} s",
                wait.as_secs().max(1)
            ));
        }
        ToolsError::NoAccount(message)
    }
}

/// The 502 of an upstream fault: its status and the upstream's own message.
fn upstream_error(fault: &UpstreamFault) -> ToolsError {
    let prefix = match fault.status {
        Some(status) => format!("upstream answered HTTP {status}"),
        None => "upstream failed".to_owned(),
    };
    ToolsError::upstream(&prefix, &fault.message)
}

/// A JSON-RPC error as text: code, message and (compact) data.
fn rpc_text(e: kiro_wire::types::McpError) -> String {
    match e {
        kiro_wire::types::McpError::Rpc(rpc) => {
            let mut text = rpc.message.unwrap_or_default();
            if let Some(code) = rpc.code {
                text = format!("{text} (code {code})");
            }
            if let Some(data) = rpc.data.filter(|d| !d.is_null()) {
                let data = match data {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                text = format!("{text}: {data}");
            }
            text
        }
        other => other.to_string(),
    }
}
