//! MCP web search over JSON-RPC (spec §3.9).

mod types_common;

use kiro_wire::types::*;
use serde_json::{Value, json};
use types_common::{parse, parse_lenient};

const SEARCH_JSON: &str = r#"{"results":[{"title":"tokio::select! - Rust","url":"https://docs.rs/tokio/latest/tokio/macro.select.html",
  "snippet":"Waits on multiple concurrent branches","publishedDate":1717200000000,"id":"r1","domain":"docs.rs","publicDomain":true},
  {"title":"Minimal","url":"https://example.com","snippet":"s"}],"totalResults":2}"#;

fn call_response(text: &str, is_error: bool) -> String {
    json!({"jsonrpc": "2.0", "id": "9e1d", "result": {"content": [{"type": "text", "text": text}], "isError": is_error}})
        .to_string()
}

#[test]
fn tools_list_round() {
    let req = McpRequest::tools_list("5b0c");
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"jsonrpc": "2.0", "id": "5b0c", "method": "tools/list"})
    );
    let resp: McpResponse<ToolsListResult> = parse_lenient(
        r#"{"jsonrpc":"2.0","id":"5b0c","result":{"tools":[{"name":"web_search","description":"…","inputSchema":{"type":"object"}}]}}"#,
    );
    let tools = resp.into_result().unwrap().tools;
    assert_eq!(tools[0].name, WEB_SEARCH_TOOL);
    assert_eq!(tools[0].input_schema, Some(json!({"type": "object"})));
}

#[test]
fn tools_call_request_matches_the_spec() {
    let spec = r#"{"jsonrpc": "2.0", "id": "9e1d…", "method": "tools/call",
 "params": {"name": "web_search", "arguments": {"query": "rust tokio select", "maxResults": 10}}}"#;
    let built = McpRequest::web_search("9e1d…", "rust tokio select", Some(10));
    assert_eq!(serde_json::to_value(&built).unwrap(), parse::<Value>(spec));

    // The simulator's side: read the request back.
    let req: McpRequest = parse_lenient(spec);
    let params = req.call_params().unwrap();
    assert_eq!(params.name, "web_search");
    assert_eq!(params.arguments["query"], "rust tokio select");
    assert!(McpRequest::tools_list("x").call_params().is_none());

    let no_max = McpRequest::web_search("1", "q", None);
    assert_eq!(no_max.params.unwrap()["arguments"], json!({"query": "q"}));
}

#[test]
fn search_results_parse_out_of_the_text_content() {
    let results = parse_web_search_response(call_response(SEARCH_JSON, false).as_bytes()).unwrap();
    assert_eq!(results.total_results, Some(2));
    let first = &results.results[0];
    assert_eq!(first.title, "tokio::select! - Rust");
    assert_eq!(
        first.url,
        "https://docs.rs/tokio/latest/tokio/macro.select.html"
    );
    assert_eq!(first.snippet, "Waits on multiple concurrent branches");
    assert_eq!(first.published_date, Some(1_717_200_000_000));
    assert_eq!(first.id.as_deref(), Some("r1"));
    assert_eq!(first.domain.as_deref(), Some("docs.rs"));
    assert_eq!(first.public_domain, Some(json!(true)));
    let second = &results.results[1];
    assert!(second.published_date.is_none() && second.id.is_none());

    // Unknown fields in the inner JSON too.
    let _: WebSearchResults = parse_lenient(SEARCH_JSON);

    // A non-text item before the text is skipped.
    let resp: McpResponse<ToolsCallResult> = parse(
        &json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [
            {"type": "image", "data": "…"}, {"type": "text", "text": SEARCH_JSON}]}})
        .to_string(),
    );
    assert_eq!(resp.id, Some(json!(1)));
    let result = resp.into_result().unwrap();
    assert!(!result.is_error);
    assert_eq!(result.web_search_results().unwrap().results.len(), 2);
}

#[test]
fn search_failures() {
    let err = |body: &str| parse_web_search_response(body.as_bytes()).unwrap_err();

    match err(&call_response("quota exceeded", true)) {
        McpError::ToolError(text) => assert_eq!(text, "quota exceeded"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err(&call_response("not json", false)),
        McpError::Json(_)
    ));
    assert!(matches!(
        err(r#"{"jsonrpc":"2.0","id":"1","result":{"content":[]}}"#),
        McpError::EmptyContent
    ));
    assert!(matches!(
        err(r#"{"jsonrpc":"2.0","id":"1","result":{"content":null,"isError":null}}"#),
        McpError::EmptyContent
    ));
    assert!(matches!(
        err(r#"{"jsonrpc":"2.0","id":"1"}"#),
        McpError::NoResult
    ));
    assert!(matches!(err("<html>"), McpError::Json(_)));

    let rpc = err(
        r#"{"jsonrpc":"2.0","id":"1","error":{"code":-32602,"message":"Invalid params","data":{"field":"query"}}}"#,
    );
    let McpError::Rpc(e) = &rpc else {
        panic!("{rpc:?}")
    };
    assert_eq!(e.code, Some(-32602));
    assert_eq!(e.message.as_deref(), Some("Invalid params"));
    assert_eq!(e.data, Some(json!({"field": "query"})));
    assert_eq!(rpc.to_string(), "JSON-RPC error -32602: Invalid params");
}

#[test]
fn simulator_side_serialisation() {
    let resp = McpResponse {
        jsonrpc: JSONRPC_VERSION.into(),
        id: Some(json!("9e1d")),
        result: Some(ToolsCallResult {
            content: vec![ContentItem::text(SEARCH_JSON)],
            is_error: false,
        }),
        error: None,
    };
    let body = serde_json::to_string(&resp).unwrap();
    assert_eq!(
        parse_web_search_response(body.as_bytes())
            .unwrap()
            .results
            .len(),
        2
    );
    assert_eq!(parse::<Value>(&body)["result"]["isError"], json!(false));
}
