//! `POST /mcp` (spec §3.9): JSON-RPC 2.0 with `tools/list` and `tools/call web_search`, whose
//! results are fake but deterministic (derived from the query). Queries containing
//! `sim:error`, `sim:empty`, `sim:none` or `sim:rpc-error` give the failure shapes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::answer::fnv1a;
use crate::bearer::admit;
use crate::errors::ErrorKind;
use crate::exchange::Exchange;
use crate::state::SimState;

const TOPICS: &[&str] = &[
    "documentation",
    "tutorial",
    "reference",
    "discussion",
    "release notes",
    "guide",
];

fn tool_list() -> Value {
    json!({"tools": [{
        "name": "web_search",
        "description": "Search the web for current information. Returns titles, URLs and snippets.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The search query."},
                "maxResults": {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many results to return."}
            },
            "required": ["query"]
        }
    }]})
}

fn slug(q: &str) -> String {
    let s: String = q
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "q".to_owned() } else { s }
}

/// The search result document (the JSON carried as text in `content[0].text`).
pub fn search_results(query: &str, max_results: usize) -> Value {
    let h = fnv1a(query.as_bytes());
    let n = max_results.clamp(1, 20).min(10);
    let s = slug(query);
    let results: Vec<Value> = (0..n)
        .map(|i| {
            let hi = h.rotate_left(i as u32 * 7);
            let domain = format!("site{}.example.com", hi % 97);
            let topic = TOPICS[(hi % TOPICS.len() as u64) as usize];
            let mut r = json!({
                "title": format!("{query} — {topic} ({})", i + 1),
                "url": format!("https://{domain}/{s}/{}", i + 1),
                "snippet": format!("Result {} for \"{query}\": a simulated {topic} page from kiro-sim.", i + 1),
                "id": format!("sim-{:016x}", hi),
                "domain": domain,
                "publicDomain": i % 3 != 2,
            });
            if i % 2 == 0 {
                if let Some(o) = r.as_object_mut() {
                    // Epoch milliseconds, optional (present on every other result).
                    o.insert(
                        "publishedDate".to_owned(),
                        json!(1_735_689_600_000_i64 + (hi % 31_536_000_000) as i64),
                    );
                }
            }
            r
        })
        .collect();
    json!({"results": results, "totalResults": n})
}

fn rpc_result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn rpc_error(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let (Some(d), Some(o)) = (data, e.as_object_mut()) {
        o.insert("data".to_owned(), d);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": e})
}

fn call(id: &Value, params: &Value) -> Value {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    if name != "web_search" {
        return rpc_error(id, -32602, &format!("Unknown tool: {name}"), None);
    }
    let args = params.get("arguments").cloned().unwrap_or(Value::Null);
    let Some(query) = args.get("query").and_then(Value::as_str) else {
        return rpc_error(id, -32602, "Invalid params: query is required", None);
    };
    let max = args
        .get("maxResults")
        .and_then(Value::as_u64)
        .map_or(10, |m| usize::try_from(m).unwrap_or(10));
    if query.contains("sim:rpc-error") {
        return rpc_error(
            id,
            -32603,
            "Internal error",
            Some(json!({"reason": "simulated search backend failure"})),
        );
    }
    if query.contains("sim:empty") {
        return rpc_result(id, json!({"content": [], "isError": false}));
    }
    if query.contains("sim:error") {
        return rpc_result(
            id,
            json!({"content": [{"type": "text", "text": "Web search failed: the simulated provider is unavailable."}], "isError": true}),
        );
    }
    let doc = if query.contains("sim:none") {
        json!({"results": [], "totalResults": 0})
    } else {
        search_results(query, max)
    };
    rpc_result(
        id,
        json!({"content": [{"type": "text", "text": doc.to_string()}], "isError": false}),
    )
}

/// `POST /mcp`.
pub async fn handle(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let arn_header = ex.header("x-amzn-kiro-profile-arn").is_some();
    let admitted = match admit(&ex, arn_header, ErrorKind::AccessDeniedException).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let account = admitted.caller.account_id;
    let Ok(msg) = serde_json::from_slice::<Value>(&ex.body) else {
        return ex.ok_json(
            Some(&account),
            &rpc_error(&Value::Null, -32700, "Parse error", None),
        );
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let reply = match msg.get("method").and_then(Value::as_str) {
        Some("tools/list") => rpc_result(&id, tool_list()),
        Some("tools/call") => call(&id, msg.get("params").unwrap_or(&Value::Null)),
        Some("initialize") => rpc_result(
            &id,
            json!({"protocolVersion": "2024-11-05", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "kiro-sim", "version": env!("CARGO_PKG_VERSION")}}),
        ),
        Some(other) => rpc_error(&id, -32601, &format!("Method not found: {other}"), None),
        None => rpc_error(&id, -32600, "Invalid Request", None),
    };
    ex.ok_json(Some(&account), &reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_deterministic() {
        let a = search_results("rust tokio select", 3);
        assert_eq!(a, search_results("rust tokio select", 3));
        assert_eq!(a["totalResults"], 3);
        assert_ne!(a, search_results("something else", 3));
    }
}
