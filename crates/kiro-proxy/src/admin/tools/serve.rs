//! One MCP call through the pool: attempts, each on a leased account with a valid token, until
//! the upstream answers or the failover budget (attempts and time) is spent. The reaction to a
//! failure follows spec §8.1 as the chat path applies it (`http::chat`): the same account
//! effects for the same fault kinds, one forced refresh on a rejected token, another account
//! after throttling, backoff after a transient fault.

use dialects::kiro::response::UpstreamFault;
use kiro_wire::types::McpRequest;
use serde_json::Value;

use super::{ToolsError, UpstreamTools};
use crate::accounts::attempts::{After, Attempts, Next};
use crate::accounts::reaction::classify;

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
        let mut attempts = Attempts::new(&config);
        let mut last: Option<ToolsError> = None;
        loop {
            let next = attempts
                .next(&self.pool, &self.tokens, MCP_MODEL, None, |account, e| {
                    tracing::warn!(%account, error = %e, "tools call: no usable token");
                    last.get_or_insert_with(|| {
                        ToolsError::NoAccount(format!(
                            "no upstream account has a usable token (last: {e})"
                        ))
                    });
                })
                .await;
            let (mut lease, auth) = match next {
                Next::Ready(lease, auth) => (lease, auth),
                Next::Spent => {
                    return Err(last.unwrap_or_else(|| {
                        ToolsError::NoAccount(
                            "the upstream could not be reached within the failover budget".into(),
                        )
                    }));
                }
                Next::Busy => {
                    return Err(last.unwrap_or_else(|| {
                        ToolsError::NoAccount(format!(
                            "every upstream account is serving its maximum of {} concurrent \
                             requests; retry shortly",
                            config.max_concurrency
                        ))
                    }));
                }
                Next::Unavailable { .. } => return Err(last.unwrap_or_else(|| self.no_account())),
            };
            let account_id = lease.account_id().to_owned();
            let answer = self
                .upstream
                .mcp::<Value>(&auth, request, attempts.count().min(3))
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
                attempt = attempts.count(),
                fault = fault.label,
                status = fault.status,
                method = %request.method,
                "upstream MCP attempt failed"
            );
            last = Some(upstream_error(&fault));
            match attempts
                .failed(lease, &fault, &auth, &self.pool, &self.tokens)
                .await
            {
                After::Retry => {}
                After::ClientError(_) => return Err(upstream_error(&fault)),
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
