//! `/api/tools/…`: the upstream's MCP endpoint (spec §3.9) for operators: web search, the tool
//! list and a tool call. Each call runs through the account pool like a chat attempt does: a
//! lease per attempt, the account's token (refreshed when stale), and failover on the faults
//! another account can cure (throttling, a rejected token after one refresh, transient
//! failures), within the pool's failover budget. Failures are charged to the account that met
//! them exactly as the chat path charges them.
//!
//! [`UpstreamTools`] is also the `kiro-proxy search` / `kiro-proxy tools` commands' engine,
//! over a pool built from the data directory ([`UpstreamTools::from_store`]).

mod serve;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use kiro_wire::types::{McpError, McpRequest, ToolsCallParams, ToolsListResult};
use serde::Serialize;
use serde_json::Value;

use super::AdminState;
use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use crate::accounts::{Pool, TokenManager};
use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::upstream::UpstreamClient;

/// Longest web search query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most search results one request may ask for.
pub const MAX_SEARCH_RESULTS: u32 = 50;
/// Results asked for when the request does not say.
pub const DEFAULT_SEARCH_RESULTS: u32 = 10;
/// Longest upstream message quoted in an error answer.
const MAX_DETAIL_CHARS: usize = 300;
/// Longest tool name accepted (the upstream's names are short identifiers).
const MAX_TOOL_NAME_CHARS: usize = 200;

/// Why a tools call gave no answer; each kind has its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolsError {
    /// The request is wrong (400); the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// No account could take the call (503).
    #[error("{0}")]
    NoAccount(String),
    /// The upstream failed or refused (502), with its message.
    #[error("{0}")]
    Upstream(String),
}

impl ToolsError {
    pub fn status(&self) -> StatusCode {
        match self {
            ToolsError::Invalid(_) => StatusCode::BAD_REQUEST,
            ToolsError::NoAccount(_) => StatusCode::SERVICE_UNAVAILABLE,
            ToolsError::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// An upstream failure, its detail capped.
    fn upstream(prefix: &str, detail: &str) -> Self {
        let detail = cap(detail.trim());
        if detail.is_empty() {
            ToolsError::Upstream(prefix.to_owned())
        } else {
            ToolsError::Upstream(format!("{prefix}: {detail}"))
        }
    }
}

impl From<ToolsError> for ApiError {
    fn from(e: ToolsError) -> Self {
        ApiError {
            status: e.status(),
            message: e.to_string(),
        }
    }
}

/// At most [`MAX_DETAIL_CHARS`] characters of an upstream message.
fn cap(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(MAX_DETAIL_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// One web search hit as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub title: String,
    pub url: String,
    pub snippet: String,
    /// Unix seconds (the upstream sends milliseconds), `null` when the upstream gave none.
    pub published_date: Option<i64>,
    /// The upstream's domain, else the URL's host.
    pub domain: String,
    /// As the upstream sent it (its type is unverified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_domain: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `POST /api/tools/web-search`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAnswer {
    pub results: Vec<SearchHit>,
    pub total_results: u64,
    /// The account that served the call.
    pub account: String,
}

/// One upstream tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolInfo {
    pub name: String,
    pub description: Option<String>,
    pub input_schema: Option<Value>,
}

/// `GET /api/tools/mcp`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolList {
    pub tools: Vec<ToolInfo>,
    pub account: String,
}

/// `POST /api/tools/mcp/call`'s answer: the `tools/call` result as the upstream gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAnswer {
    pub content: Vec<Value>,
    pub is_error: bool,
    pub account: String,
}

/// The pool, its tokens and the upstream client: what an MCP call needs. Cheap to clone.
#[derive(Clone)]
pub struct UpstreamTools {
    pool: Pool,
    tokens: Arc<TokenManager>,
    upstream: UpstreamClient,
}

impl std::fmt::Debug for UpstreamTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTools").finish_non_exhaustive()
    }
}

impl UpstreamTools {
    /// Over the running pool; `tokens` must manage `pool`'s registry.
    pub fn new(pool: Pool, tokens: Arc<TokenManager>, upstream: UpstreamClient) -> Self {
        Self {
            pool,
            tokens,
            upstream,
        }
    }

    /// Over a pool of the accounts stored in `store`, as the server would load them (weights,
    /// accounts needing a login kept out). Refreshed tokens are saved to `store`; health seen
    /// during the calls is not (a running server keeps its own).
    pub async fn from_store(
        config: &Config,
        store: &Store,
        upstream: UpstreamClient,
    ) -> Result<Self, StoreError> {
        let (pool, tokens) = crate::app::load_pool(config, store, &upstream).await?;
        Ok(Self::new(pool, tokens, upstream))
    }

    /// `tools/call web_search`: at most `max_results` hits (1–50) for `query` (1–1000
    /// characters). An `isError` result, empty content or unreadable results are upstream
    /// failures.
    pub async fn web_search(
        &self,
        query: &str,
        max_results: u32,
    ) -> Result<SearchAnswer, ToolsError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(ToolsError::Invalid("`query` is required".to_owned()));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(ToolsError::Invalid(format!(
                "`query` must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        if !(1..=MAX_SEARCH_RESULTS).contains(&max_results) {
            return Err(max_results_error());
        }
        let request = McpRequest::web_search(rpc_id(), query, Some(max_results));
        let (account, result) = self.call_upstream(&request).await?;
        let call: kiro_wire::types::ToolsCallResult = serde_json::from_value(result)
            .map_err(|e| ToolsError::upstream("unreadable web search result", &e.to_string()))?;
        let found = call.web_search_results().map_err(|e| match e {
            McpError::ToolError(text) => ToolsError::upstream("web search failed", &text),
            McpError::EmptyContent => {
                ToolsError::Upstream("web search failed: the upstream returned no content".into())
            }
            other => ToolsError::upstream("web search failed", &other.to_string()),
        })?;
        let total = found.total_results;
        let mut results: Vec<SearchHit> = found.results.into_iter().map(hit).collect();
        let listed = results.len() as u64;
        results.truncate(max_results as usize);
        Ok(SearchAnswer {
            results,
            total_results: total.unwrap_or(listed),
            account,
        })
    }

    /// `tools/list`.
    pub async fn list(&self) -> Result<ToolList, ToolsError> {
        let (account, result) = self
            .call_upstream(&McpRequest::tools_list(rpc_id()))
            .await?;
        let list: ToolsListResult = serde_json::from_value(result)
            .map_err(|e| ToolsError::upstream("unreadable tool list", &e.to_string()))?;
        let tools = list
            .tools
            .into_iter()
            .filter(|t| !t.name.trim().is_empty())
            .map(|t| ToolInfo {
                name: t.name,
                description: t.description,
                input_schema: t.input_schema,
            })
            .collect();
        Ok(ToolList { tools, account })
    }

    /// `tools/call` of `name` with `arguments` (an object; `{}` when `None`). A result with
    /// `isError` is an answer, not a failure: the caller sees what the tool said.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<Value>,
    ) -> Result<CallAnswer, ToolsError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ToolsError::Invalid("`name` is required".to_owned()));
        }
        if name.chars().count() > MAX_TOOL_NAME_CHARS {
            return Err(ToolsError::Invalid(format!(
                "`name` must be at most {MAX_TOOL_NAME_CHARS} characters"
            )));
        }
        let arguments = match arguments {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(v @ Value::Object(_)) => v,
            Some(_) => {
                return Err(ToolsError::Invalid(
                    "`arguments` must be a JSON object".to_owned(),
                ));
            }
        };
        let params = ToolsCallParams {
            name: name.to_owned(),
            arguments,
        };
        let (account, result) = self
            .call_upstream(&McpRequest::tools_call(rpc_id(), &params))
            .await?;
        let Value::Object(mut result) = result else {
            return Err(ToolsError::Upstream(
                "unreadable tool result: not a JSON object".to_owned(),
            ));
        };
        let content = match result.remove("content") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let is_error = result
            .get("isError")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(CallAnswer {
            content,
            is_error,
            account,
        })
    }
}

fn max_results_error() -> ToolsError {
    ToolsError::Invalid(format!(
        "`maxResults` must be an integer from 1 to {MAX_SEARCH_RESULTS}"
    ))
}

/// A JSON-RPC id (any string; a UUID as the IDE sends).
fn rpc_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The admin API's shape of an upstream hit.
fn hit(r: kiro_wire::types::WebSearchResult) -> SearchHit {
    let domain = r
        .domain
        .filter(|d| !d.trim().is_empty())
        .or_else(|| {
            reqwest::Url::parse(&r.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        })
        .unwrap_or_default();
    SearchHit {
        title: r.title,
        url: r.url,
        snippet: r.snippet,
        published_date: r.published_date.map(epoch_secs),
        domain,
        public_domain: r.public_domain.filter(|v| !v.is_null()),
        id: r.id.filter(|id| !id.is_empty()),
    }
}

/// Unix seconds of an upstream date: milliseconds per the spec, but a value too small to be
/// milliseconds of this era (before 1973) is taken as seconds already.
fn epoch_secs(value: i64) -> i64 {
    if value.abs() >= 100_000_000_000 {
        value / 1000
    } else {
        value
    }
}

// ---------------------------------------------------------------------------------------------
// Routes

fn tools(state: &AdminState) -> Result<&UpstreamTools, ApiError> {
    state.inner.tools.get().ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "the account pool is not running".to_owned(),
    })
}

/// `POST /api/tools/web-search` `{"query", "maxResults"?}`.
pub(super) async fn web_search(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<SearchAnswer>, ApiError> {
    let body = JsonBody::parse(&body)?;
    let query = match body.value("query") {
        None => return Err(ApiError::bad_request("`query` is required")),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(wrong_type("query", "a string", other)),
    };
    let max_results = match body.value("maxResults") {
        None => DEFAULT_SEARCH_RESULTS,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(max_results_error)?,
        Some(other) => return Err(wrong_type("maxResults", "an integer", other)),
    };
    Ok(Json(tools(&state)?.web_search(&query, max_results).await?))
}

/// `GET /api/tools/mcp`.
pub(super) async fn list(State(state): State<AdminState>) -> Result<Json<ToolList>, ApiError> {
    Ok(Json(tools(&state)?.list().await?))
}

/// `POST /api/tools/mcp/call` `{"name", "arguments"?}`.
pub(super) async fn call(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<CallAnswer>, ApiError> {
    let body = JsonBody::parse(&body)?;
    let name = body.req_str("name", "(the tool to call)")?;
    let arguments = match body.value("arguments") {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => return Err(wrong_type("arguments", "an object", other)),
    };
    Ok(Json(tools(&state)?.call(&name, arguments).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_seconds() {
        assert_eq!(epoch_secs(1_735_689_600_000), 1_735_689_600);
        assert_eq!(epoch_secs(1_735_689_600), 1_735_689_600);
    }

    #[test]
    fn a_hit_without_domain_takes_the_url_host() {
        let h = hit(kiro_wire::types::WebSearchResult {
            title: "t".into(),
            url: "https://docs.rs/tokio".into(),
            ..Default::default()
        });
        assert_eq!(h.domain, "docs.rs");
        assert_eq!(h.published_date, None);
    }

    #[test]
    fn long_details_are_capped() {
        let e = ToolsError::upstream("failed", &"x".repeat(1000));
        assert!(e.to_string().chars().count() < MAX_DETAIL_CHARS + 20);
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }
}
