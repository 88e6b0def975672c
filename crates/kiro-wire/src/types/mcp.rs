//! MCP over JSON-RPC 2.0 at `POST {q}/mcp` (§3.9): `tools/list`, `tools/call`, and the web
//! search results carried as JSON text inside a `tools/call` result.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient;
use crate::num;

pub const JSONRPC_VERSION: &str = "2.0";
pub const METHOD_TOOLS_LIST: &str = "tools/list";
pub const METHOD_TOOLS_CALL: &str = "tools/call";
/// The upstream's search tool.
pub const WEB_SEARCH_TOOL: &str = "web_search";

/// A JSON-RPC request. `id` is any string (a UUID); the response's `id` is not checked against
/// it (§3.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpRequest {
    pub jsonrpc: String,
    pub id: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl McpRequest {
    pub fn tools_list(id: impl Into<String>) -> Self {
        Self {
            jsonrpc: JSONRPC_VERSION.to_owned(),
            id: id.into(),
            method: METHOD_TOOLS_LIST.to_owned(),
            params: None,
        }
    }

    pub fn tools_call(id: impl Into<String>, params: &ToolsCallParams) -> Self {
        Self {
            jsonrpc: JSONRPC_VERSION.to_owned(),
            id: id.into(),
            method: METHOD_TOOLS_CALL.to_owned(),
            params: Some(params.to_value()),
        }
    }

    /// `tools/call` of `web_search` with `{"query", "maxResults"?}`.
    pub fn web_search(id: impl Into<String>, query: &str, max_results: Option<u32>) -> Self {
        let mut arguments = serde_json::Map::new();
        arguments.insert("query".to_owned(), Value::from(query));
        if let Some(n) = max_results {
            arguments.insert("maxResults".to_owned(), Value::from(n));
        }
        Self::tools_call(
            id,
            &ToolsCallParams {
                name: WEB_SEARCH_TOOL.to_owned(),
                arguments: Value::Object(arguments),
            },
        )
    }

    /// The `params` of a `tools/call`, when they have that shape.
    pub fn call_params(&self) -> Option<ToolsCallParams> {
        if self.method != METHOD_TOOLS_CALL {
            return None;
        }
        self.params
            .as_ref()
            .and_then(|p| ToolsCallParams::deserialize(p).ok())
    }
}

/// `params` of `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolsCallParams {
    pub name: String,
    #[serde(default)]
    pub arguments: Value,
}

impl ToolsCallParams {
    fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("name".to_owned(), Value::from(self.name.as_str()));
        map.insert("arguments".to_owned(), self.arguments.clone());
        Value::Object(map)
    }
}

/// A JSON-RPC response; `R` is the expected `result` type ([`ToolsListResult`],
/// [`ToolsCallResult`], or a raw `Value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpResponse<R = Value> {
    #[serde(default = "jsonrpc_version")]
    pub jsonrpc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JsonRpcError>,
}

fn jsonrpc_version() -> String {
    JSONRPC_VERSION.to_owned()
}

impl<R> McpResponse<R> {
    /// The result, or the JSON-RPC error, or [`McpError::NoResult`] when neither is present.
    pub fn into_result(self) -> Result<R, McpError> {
        match (self.error, self.result) {
            (Some(e), _) => Err(McpError::Rpc(e)),
            (None, Some(r)) => Ok(r),
            (None, None) => Err(McpError::NoResult),
        }
    }
}

/// JSON-RPC `error`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JsonRpcError {
    #[serde(
        default,
        deserialize_with = "num::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// `result` of `tools/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolsListResult {
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub tools: Vec<McpTool>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpTool {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
}

/// `result` of `tools/call`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsCallResult {
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub content: Vec<ContentItem>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub is_error: bool,
}

impl ToolsCallResult {
    /// The text of every `text` item, in order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.content
            .iter()
            .filter(|c| c.kind == "text")
            .filter_map(|c| c.text.as_deref())
    }

    /// Parses the search results out of the text content. Fails on `isError`, on missing text,
    /// or when no text item is the results JSON.
    pub fn web_search_results(&self) -> Result<WebSearchResults, McpError> {
        if self.is_error {
            return Err(McpError::ToolError(
                self.texts().collect::<Vec<_>>().join("\n"),
            ));
        }
        let mut first_err = None;
        for text in self.texts() {
            match serde_json::from_str::<WebSearchResults>(text) {
                Ok(results) => return Ok(results),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.map_or(McpError::EmptyContent, McpError::Json))
    }
}

/// One content item. Only `text` items are used; others are kept by type name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContentItem {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
}

impl ContentItem {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: "text".to_owned(),
            text: Some(text.into()),
        }
    }
}

/// The JSON inside a `web_search` result's text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSearchResults {
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub results: Vec<WebSearchResult>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_results: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSearchResult {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub snippet: String,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "num::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub published_date: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub domain: Option<String>,
    /// Type unverified (flag or name), so kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_domain: Option<Value>,
}

/// Why an MCP call gave no usable result.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("JSON-RPC error {}: {}", .0.code.unwrap_or(0), .0.message.as_deref().unwrap_or(""))]
    Rpc(JsonRpcError),
    #[error("JSON-RPC response has neither result nor error")]
    NoResult,
    #[error("tool reported an error: {0}")]
    ToolError(String),
    #[error("tool result has no text content")]
    EmptyContent,
    #[error("malformed MCP JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reads a whole `tools/call` response body of a web search into its results.
pub fn parse_web_search_response(body: &[u8]) -> Result<WebSearchResults, McpError> {
    serde_json::from_slice::<McpResponse<ToolsCallResult>>(body)?
        .into_result()?
        .web_search_results()
}
