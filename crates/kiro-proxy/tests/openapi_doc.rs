//! `openapi.json` against the admin router: the document must be valid OpenAPI 3.1 and name
//! exactly the routes `admin::router` serves, method by method.
//!
//! How the route set is found (axum cannot list a router's routes):
//! - Every documented operation is *probed* on a real `admin::router`, nested under `/api` as
//!   the server does. axum answers a path it does not know with 404 and a known path with
//!   another method with 405, both with an empty body; handlers answer their own 404 with the
//!   admin error JSON. The probes carry the admin token and the body `[]`, which every handler
//!   that reads a body refuses with 400 before doing anything (so no probe changes state or
//!   reaches the network; the ids are dummies). A documented operation must not get a bare
//!   404/405, and every method the document does not list for a documented path must get a
//!   bare 405. Without a token, the operations behind the admin layer must answer 401 and the
//!   ones documented with `security: []` 200. (The 401 alone cannot tell routes apart: the
//!   admin layer also wraps axum's 405 answer.)
//! - The reverse direction (a route added to the router but not documented) needs the list of
//!   paths, which only the source has: the test reads the `.route(…)` calls of `router()` in
//!   `src/admin/mod.rs` and refuses forms it cannot read (`nest`, `merge`, `any`, a non-literal
//!   path…), so a change of style fails loudly instead of hiding routes. The parsed set must
//!   equal the documented one, and each parsed route is probed too, so the parser cannot
//!   invent or mislabel routes either.
//!
//! The alternative, a `ROUTES` table in `admin/mod.rs`, would still need this probing to prove
//! that `router()` matches the table, so the source text is read instead of duplicated.
#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet, HashSet};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kiro_proxy::admin::{self, AdminChanges, AdminState, AdminToken};
use kiro_proxy::client_auth::ClientAuth;
use kiro_proxy::config::Config;
use kiro_proxy::crypto::Crypto;
use kiro_proxy::store::Store;
use serde_json::Value;
use tower::ServiceExt;

const DOC: &str = include_str!("../openapi.json");
const ADMIN_SOURCE: &str = include_str!("../src/admin/mod.rs");
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Methods probed for 405 on documented paths (`head` rides along with `get` in axum).
const PROBED: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn doc() -> Value {
    serde_json::from_str(DOC).expect("openapi.json is not valid JSON")
}

/// `{anything}` → `{}`, so that `{session_id}` in the router and `{sessionId}` in the
/// document compare equal.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// A concrete request path: every `{param}` filled with a dummy.
fn concrete(path: &str) -> String {
    normalise(path).replace("{}", "dummy-0")
}

/// A documented or served route: (method, normalised full path) → needs the admin token.
type RouteSet = BTreeMap<(String, String), bool>;

fn documented(doc: &Value) -> RouteSet {
    let global_secured = doc["security"].as_array().is_some_and(|s| !s.is_empty());
    let mut out = RouteSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let secured = match op.get("security") {
                Some(Value::Array(s)) => !s.is_empty(),
                _ => global_secured,
            };
            out.insert((method.clone(), normalise(path)), secured);
        }
    }
    out
}

/// The routes `router()` declares, read from its source (see the module comment).
fn declared_in_source() -> RouteSet {
    let start = ADMIN_SOURCE
        .find("pub fn router(")
        .expect("`pub fn router(` not found in admin/mod.rs");
    let body = &ADMIN_SOURCE[start..];
    let body = &body[..body.find("\n}\n").expect("end of router()")];
    for unsupported in [
        ".nest(",
        ".merge(",
        ".route_service(",
        ".nest_service(",
        ".fallback(",
        "any(",
        "on(",
        "MethodFilter",
    ] {
        assert!(
            !body.contains(unsupported),
            "router() uses `{unsupported}`, which this test cannot read: extend the parser \
             in tests/openapi_doc.rs"
        );
    }
    let layer_at = body
        .find(".route_layer(")
        .expect("router() has no `.route_layer(` (the admin token layer)");
    let mut out = RouteSet::new();
    let mut offset = 0;
    while let Some(found) = body[offset..].find(".route(") {
        let at = offset + found;
        let after = &body[at + ".route(".len()..];
        let after = after.trim_start();
        let after = after
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("a `.route(` of router() has no literal path: {after:.60}"));
        let path_end = after.find('"').expect("end of route path");
        let path = &after[..path_end];
        // The methods: up to the next `.route(` or `.route_layer(`.
        let rest = &after[path_end + 1..];
        let chunk_end = [rest.find(".route("), rest.find(".route_layer(")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(rest.len());
        let methods = method_calls(&rest[..chunk_end]);
        assert!(
            !methods.is_empty(),
            "no method router read for route {path}"
        );
        for m in methods {
            let secured = at < layer_at;
            let key = (m.to_owned(), normalise(&format!("/api{path}")));
            assert!(
                out.insert(key, secured).is_none(),
                "{m} {path} declared twice"
            );
        }
        offset = at + ".route(".len();
    }
    out
}

/// The method-router calls of one `.route(` (`get(h)`, `.post(h)`, …), skipping handler
/// paths such as `settings::get`.
fn method_calls(chunk: &str) -> Vec<&'static str> {
    let bytes = chunk.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &chunk[start..i];
            let called = bytes.get(i) == Some(&b'(');
            let qualified = chunk[..start].ends_with("::");
            if called
                && !qualified
                && let Some(m) = METHODS.iter().find(|m| **m == word)
            {
                found.push(*m);
            }
        } else {
            i += 1;
        }
    }
    found
}

async fn app() -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default();
    let store = Store::open(dir.path(), &Crypto::from_key(&[7u8; 32]))
        .await
        .unwrap();
    let client_auth = ClientAuth::new(&config.api_keys, store.clone())
        .await
        .unwrap();
    let state = AdminState::new(
        store,
        AdminToken::from_plaintext(ADMIN),
        client_auth,
        AdminChanges::new(),
        kiro_proxy::upstream::UpstreamClient::new(
            kiro_proxy::upstream::UpstreamUrls::default(),
            kiro_proxy::upstream::UpstreamConfig::default(),
        )
        .unwrap(),
        &config,
    );
    // As `http::router` mounts it.
    (Router::new().nest("/api", admin::router(state)), dir)
}

const ADMIN: &str = "openapi-test-admin-token-0123456789";

/// Status of `method path` (params filled with dummies), with the admin token or without,
/// and whether the answer is axum's own "no such route" (a bare 404 or 405).
async fn probe(app: &Router, method: &str, path: &str, token: bool) -> (StatusCode, bool) {
    let mut request = Request::builder()
        .method(method.to_ascii_uppercase().as_str())
        .uri(concrete(path))
        .header(header::CONTENT_TYPE, "application/json");
    if token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from("[]")).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let unrouted = matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) && body.is_empty();
    (status, unrouted)
}

#[test]
fn document_is_structurally_valid_openapi_3_1() {
    let doc = doc();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "openapi must be 3.1.x"
    );
    assert!(doc["info"]["title"].is_string(), "info.title");
    assert!(doc["info"]["version"].is_string(), "info.version");
    assert!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer",
        "bearerAuth security scheme"
    );
    assert_eq!(
        doc["security"],
        serde_json::json!([{ "bearerAuth": [] }, { "consoleSession": [] }])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["consoleSession"]["in"],
        "cookie"
    );

    let paths = doc["paths"].as_object().expect("paths must be an object");
    assert!(!paths.is_empty());
    let mut operation_ids = HashSet::new();
    for (path, item) in paths {
        assert!(path.starts_with('/'), "path {path} must start with /");
        let item = item.as_object().expect("path item must be an object");
        let path_params: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        let mut operations = 0;
        for (method, op) in item {
            if method == "parameters" || method == "summary" || method == "description" {
                continue;
            }
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: `{method}` is not an HTTP method"
            );
            operations += 1;
            let what = format!("{} {path}", method.to_ascii_uppercase());
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{what} has no operationId"));
            assert!(
                operation_ids.insert(id.to_owned()),
                "duplicate operationId {id}"
            );
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{what} has no responses"));
            assert!(!responses.is_empty(), "{what} has no responses");
            for (code, response) in responses {
                assert!(
                    code == "default"
                        || (code.len() == 3 && code.chars().all(|c| c.is_ascii_digit())),
                    "{what}: response key {code}"
                );
                assert!(
                    response.get("$ref").is_some() || response["description"].is_string(),
                    "{what} {code}: a response needs a description"
                );
            }
            let public = op["security"].as_array().is_some_and(Vec::is_empty);
            if !public {
                assert!(responses.contains_key("401"), "{what} must document 401");
            }
            // Every `{name}` of the path is a required path parameter.
            let mut params = path_params.clone();
            if let Some(own) = op.get("parameters").and_then(Value::as_array) {
                params.extend(own);
            }
            let params: Vec<Value> = params.into_iter().map(|p| resolve(&doc, p)).collect();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                    "{what}: path parameter {name} is not declared"
                );
            }
        }
        assert!(operations > 0, "{path} has no operation");
    }

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("$ref {r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "$ref {r} does not resolve");
    }
}

fn resolve(doc: &Value, v: &Value) -> Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => v.clone(),
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().expect("$ref must be a string").to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn source_parser_reads_router() {
    let routes = declared_in_source();
    // Spot checks that the parser reads both one-line and multi-line routes.
    assert_eq!(
        routes.get(&("patch".to_owned(), "/api/accounts/{}".to_owned())),
        Some(&true)
    );
    assert_eq!(
        routes.get(&("put".to_owned(), "/api/settings/log-level".to_owned())),
        Some(&true)
    );
    assert_eq!(
        routes.get(&("get".to_owned(), "/api/openapi.json".to_owned())),
        Some(&false)
    );
    assert!(!routes.contains_key(&("get".to_owned(), "/api/keys/{}".to_owned())));
}

#[test]
fn document_and_router_agree() {
    let documented = documented(&doc());
    let declared = declared_in_source();
    let undocumented: BTreeSet<_> = declared
        .keys()
        .filter(|k| !documented.contains_key(*k))
        .collect();
    let missing: BTreeSet<_> = documented
        .keys()
        .filter(|k| !declared.contains_key(*k))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes of admin::router missing from openapi.json: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "operations of openapi.json that admin::router does not declare: {missing:?}"
    );
    for (route, secured) in &declared {
        assert_eq!(
            documented.get(route),
            Some(secured),
            "{route:?}: the document's security (token required: {:?}) differs from the \
             router's admin layer (token required: {secured})",
            documented.get(route)
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method() {
    let (app, _dir) = app().await;
    let documented = documented(&doc());
    let mut paths = BTreeSet::new();
    for ((method, path), secured) in &documented {
        paths.insert(path.clone());
        let what = format!("{} {path}", method.to_ascii_uppercase());
        let (status, unrouted) = probe(&app, method, path, true).await;
        assert!(!unrouted, "{what} is documented but not served ({status})");
        let (status, _) = probe(&app, method, path, false).await;
        if *secured {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} without a token");
        } else {
            // Open routes answer on their own terms (the login route wants a body).
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what} without a token");
        }
    }
    for path in paths {
        for method in PROBED {
            if documented.contains_key(&(method.to_owned(), path.clone())) {
                continue;
            }
            let (status, unrouted) = probe(&app, method, &path, true).await;
            assert!(
                unrouted && status == StatusCode::METHOD_NOT_ALLOWED,
                "{} {path} is served but not documented ({status})",
                method.to_ascii_uppercase()
            );
        }
    }
    // The probe tells a missing route from a handler's 404.
    assert_eq!(
        probe(&app, "get", "/api/not-a-route", true).await,
        (StatusCode::NOT_FOUND, true)
    );
    assert_eq!(
        probe(&app, "delete", "/api/keys/{id}", true).await,
        (StatusCode::NOT_FOUND, false)
    );
}

#[tokio::test]
async fn document_is_served_without_a_token() {
    let (app, _dir) = app().await;
    let request = Request::builder()
        .uri("/api/openapi.json")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(body, DOC.as_bytes());
}
