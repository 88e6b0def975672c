//! Helpers of the `limits_*` tests, on top of the pipeline harness: admin calls, stored keys,
//! requests with a chosen key, and the checks every refusal must pass (dialect body,
//! `retry-after`, answered at once).

use std::time::{Duration, Instant};

use dialects::canonical::Usage;
use kiro_proxy::client_auth::ClientIdentity;
use kiro_proxy::telemetry::Trace;
use serde_json::{Value, json};

use super::pipeline_support::{ADMIN_TOKEN, Harness, anthropic_body, openai_body};

pub const SONNET: &str = "claude-sonnet-4-5";
pub const HAIKU: &str = "claude-haiku-4-5";
/// A refusal must come back at once: nothing waits as a penalty.
pub const PROMPT: Duration = Duration::from_millis(500);

/// Current Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An admin API call; the status and the JSON body (`null` when empty).
pub async fn admin(h: &Harness, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = h
        .http
        .request(method.parse().unwrap(), format!("{}/api{path}", h.url))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, json)
}

/// A key created with `POST /api/keys` (`body` adds limits to the name): (id, key).
pub async fn create_key(h: &Harness, name: &str, limits: Value) -> (String, String) {
    let mut body = json!({ "name": name });
    if let (Value::Object(b), Value::Object(l)) = (&mut body, limits) {
        b.extend(l);
    }
    let (status, created) = admin(h, "POST", "/keys", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["key"].as_str().unwrap().to_owned(),
    )
}

/// `PATCH /api/keys/{id}`, which must succeed.
pub async fn patch_key(h: &Harness, id: &str, body: Value) -> Value {
    let (status, view) = admin(h, "PATCH", &format!("/keys/{id}"), Some(body)).await;
    assert_eq!(status, 200, "{view}");
    view
}

/// `PUT /api/traffic`, which must succeed.
pub async fn set_traffic(h: &Harness, body: Value) -> Value {
    let (status, view) = admin(h, "PUT", "/traffic", Some(body)).await;
    assert_eq!(status, 200, "{view}");
    view
}

/// A non-streaming Anthropic request with `key`, and optional extra headers.
pub async fn anthropic_as(h: &Harness, key: &str, model: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = h
        .http
        .post(format!("{}/v1/messages", h.url))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_body(model, "hi", false));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Answer::of(req).await
}

/// A non-streaming OpenAI request with `key`.
pub async fn openai_as(h: &Harness, key: &str, model: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(key)
        .json(&openai_body(model, "hi", false));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Answer::of(req).await
}

/// A complete answer and how long it took.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub should_retry: Option<String>,
    pub body: Value,
    pub took: Duration,
}

impl Answer {
    pub async fn of(req: reqwest::RequestBuilder) -> Answer {
        let started = Instant::now();
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after").map(|v| v.parse().unwrap());
        let should_retry = header("x-should-retry");
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            retry_after,
            should_retry,
            body,
            took: started.elapsed(),
        }
    }

    pub fn ok(&self) {
        assert_eq!(self.status, 200, "{self:?}");
    }

    /// An Anthropic error: status, `error.type`, a message containing `says`.
    pub fn anthropic_error(&self, status: u16, kind: &str, says: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["type"], "error", "{self:?}");
        assert_eq!(self.body["error"]["type"], kind, "{self:?}");
        let message = self.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message:?} lacks {says:?}");
        assert!(self.took < PROMPT, "answered after {:?}", self.took);
    }

    /// An OpenAI error: status, `error.type`, a message containing `says`.
    pub fn openai_error(&self, status: u16, kind: &str, says: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["error"]["type"], kind, "{self:?}");
        let message = self.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message:?} lacks {says:?}");
        assert!(self.took < PROMPT, "answered after {:?}", self.took);
    }

    /// `retry-after` within `range` seconds.
    pub fn retry_after_in(&self, range: std::ops::RangeInclusive<u64>) {
        let secs = self
            .retry_after
            .unwrap_or_else(|| panic!("no retry-after: {self:?}"));
        assert!(range.contains(&secs), "retry-after {secs} not in {range:?}");
    }
}

/// Reports a finished request of stored key `id` that used `tokens` input tokens, as the chat
/// handler does when a reply ends.
pub fn record_tokens(h: &Harness, id: &str, tokens: u64) {
    let mut trace = Trace::start(&h.app.telemetry, "req_test", "anthropic", None);
    trace.set_key(&ClientIdentity::StoredKey {
        id: id.to_owned(),
        name: "test".to_owned(),
    });
    trace.reply(
        &Usage {
            input_tokens: tokens,
            ..Usage::default()
        },
        0.0,
    );
    trace.status(200);
    trace.complete();
}

/// The `GET /api/keys` view of key `id`.
pub async fn key_view(h: &Harness, id: &str) -> Value {
    let (status, list) = admin(h, "GET", "/keys", None).await;
    assert_eq!(status, 200);
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no key {id} in {list}"))
}
