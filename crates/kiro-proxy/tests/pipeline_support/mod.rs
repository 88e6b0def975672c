//! Shared harness of the `pipeline_*` tests: kiro-sim in process, the real service (`App` +
//! `kiro_proxy::serve`) on 127.0.0.1:0 pointed at it, accounts added through the admin API, a
//! reqwest client, and readers that turn SSE into timed events and fold them back into the
//! shape of a non-streaming reply.

// Every including test file is `#![cfg(test)]`, so clippy's test allowances (unwrap, expect:
// a failed setup panics loudly) reach these helpers too.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kiro_proxy::{App, AppState, Config, ServeArgs};
use kiro_sim::log::RecordedRequest;
use kiro_sim::{AccountKind, AccountSecrets, CreateAccount, SimConfig, SimHandle};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "pipeline-admin-token-0123456789";
pub const CLIENT_KEY: &str = "sk-pipeline-client-key-0123456789";
pub const CHAT_PATH: &str = "/generateAssistantResponse";
pub const USAGE_PATH: &str = "/getUsageLimits";

/// A running simulator and proxy.
#[derive(Debug)]
pub struct Harness {
    pub sim: SimHandle,
    pub app: AppState,
    /// `http://127.0.0.1:PORT` of the proxy.
    pub url: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

/// An account known to both sides.
#[derive(Debug, Clone)]
pub struct Acct {
    /// The proxy's id (`POST /api/accounts`).
    pub id: String,
    /// The simulator's id (its request log's `account`).
    pub sim_id: String,
    pub secrets: AccountSecrets,
}

/// The configuration every test starts from: all four upstream URLs at `upstream`, short
/// timeouts, a fixed admin token and client key, a temporary data directory.
pub fn config(upstream: &str, data_dir: &std::path::Path) -> Config {
    let env: HashMap<&str, String> = [
        ("KIRO_Q_URL", upstream.to_owned()),
        ("KIRO_CODEWHISPERER_URL", upstream.to_owned()),
        ("KIRO_SOCIAL_AUTH_URL", upstream.to_owned()),
        ("KIRO_OIDC_URL", upstream.to_owned()),
        ("KIRO_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("KIRO_API_KEYS", CLIENT_KEY.to_owned()),
        ("KIRO_CONNECT_TIMEOUT", "2s".to_owned()),
        ("KIRO_RESPONSE_HEADER_TIMEOUT", "3s".to_owned()),
        ("KIRO_FIRST_EVENT_TIMEOUT", "3s".to_owned()),
        ("KIRO_IDLE_TIMEOUT", "3s".to_owned()),
        // A master key from the environment skips writing a key file.
        (
            "KIRO_MASTER_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        ),
    ]
    .into_iter()
    .collect();
    let args = ServeArgs {
        host: Some("127.0.0.1".into()),
        port: Some(0),
        data_dir: Some(data_dir.to_path_buf()),
        ..ServeArgs::default()
    };
    Config::load_from(&args, |name| env.get(name).cloned()).unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with `tweak` applied to the configuration.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let sim = kiro_sim::start(SimConfig::default()).await.unwrap();
        Self::start_on(sim, None, tweak).await
    }

    /// Starts against `sim`, with the upstream URLs at `upstream` (default: the simulator).
    pub async fn start_on(
        sim: SimHandle,
        upstream: Option<String>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(&upstream.unwrap_or_else(|| sim.base_url()), dir.path());
        tweak(&mut config);
        let app = App::build(config).await.unwrap();
        app.spawn_background();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            let _ = kiro_proxy::serve(listener, served, async {
                let _ = stopped.await;
            })
            .await;
        });
        Harness {
            sim,
            app,
            url,
            http: client(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// A social account in the simulator, added to the proxy with `POST /api/accounts`; waits
    /// until the pool has it.
    pub async fn add_account(&self) -> Acct {
        self.add(CreateAccount {
            kind: Some(AccountKind::Social),
            ..Default::default()
        })
        .await
    }

    pub async fn add(&self, req: CreateAccount) -> Acct {
        let secrets = self.sim.state().create_account(&req).unwrap();
        let body = json!({
            "authMethod": "social",
            "refreshToken": secrets.refresh_token,
            "accessToken": secrets.access_token,
            "expiresAt": secrets.expires_at,
            "profileArn": secrets.account.profile_arn,
            "label": secrets.account.id,
        });
        let before = self.app.pool.len();
        let resp = self
            .http
            .post(format!("{}/api/accounts", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let view: Value = resp.json().await.unwrap();
        let id = view["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.app.pool.len() <= before {
            assert!(Instant::now() < deadline, "the pool never saw account {id}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The pool fetches a new account's quota at once (getUsageLimits); wait for that
        // answer so that it cannot race what the test does next.
        while !self
            .app
            .pool
            .view(&id)
            .is_some_and(|v| v.quota.fetched_at.is_some() || v.quota.last_error.is_some())
        {
            assert!(Instant::now() < deadline, "no quota fetch for account {id}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Acct {
            id,
            sim_id: secrets.account.id.clone(),
            secrets,
        }
    }

    /// Queues a simulator behaviour (JSON as `POST /_sim/behaviours` takes it).
    pub fn queue(&self, behaviour: Value) -> u64 {
        self.sim
            .state()
            .queue(serde_json::from_value(behaviour).unwrap())
    }

    /// Queues a script for the next chat request.
    pub fn script(&self, script: Value) -> u64 {
        self.queue(json!({"type": "script", "script": script}))
    }

    /// Every logged request to the chat endpoint, oldest first.
    pub fn chats(&self) -> Vec<RecordedRequest> {
        self.sim
            .state()
            .requests()
            .into_iter()
            .filter(|r| r.path == CHAT_PATH)
            .collect()
    }

    /// Every logged request, oldest first.
    pub fn upstream_log(&self) -> Vec<RecordedRequest> {
        self.sim.state().requests()
    }

    /// Every logged request except the pool's own quota polls (`/getUsageLimits`), oldest
    /// first.
    pub fn upstream_log_without_quota(&self) -> Vec<RecordedRequest> {
        self.upstream_log()
            .into_iter()
            .filter(|r| r.path != USAGE_PATH)
            .collect()
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .header("x-api-key", CLIENT_KEY)
            .header("anthropic-version", "2023-06-01")
    }

    pub async fn anthropic(&self, body: &Value) -> reqwest::Response {
        self.post("/v1/messages").json(body).send().await.unwrap()
    }

    pub async fn openai(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/chat/completions", self.url))
            .bearer_auth(CLIENT_KEY)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(CLIENT_KEY)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A minimal Anthropic request.
pub fn anthropic_body(model: &str, text: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    })
}

/// A minimal OpenAI request.
pub fn openai_body(model: &str, text: &str, stream: bool) -> Value {
    let mut body = json!({
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    });
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

// ---------------------------------------------------------------------------------------------
// SSE

/// One SSE event (or comment) and when it arrived, from the start of the read.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: Option<String>,
    pub data: String,
    /// A `:` comment line block (keep-alive).
    pub comment: bool,
    pub at: Duration,
}

impl Sse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {:?}", self.data))
    }

    pub fn name(&self) -> &str {
        self.event.as_deref().unwrap_or("")
    }
}

/// Parses one event block (the text between blank lines); panics on a malformed line.
fn parse_block(block: &str, at: Duration) -> Sse {
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    let mut comment = false;
    for line in block.split('\n') {
        if let Some(rest) = line.strip_prefix("event: ") {
            assert!(event.is_none(), "two event lines in {block:?}");
            event = Some(rest.to_owned());
        } else if let Some(rest) = line.strip_prefix("data: ") {
            data.push(rest);
        } else if line.starts_with(':') {
            comment = true;
        } else {
            panic!("malformed SSE line {line:?} in block {block:?}");
        }
    }
    Sse {
        event,
        data: data.join("\n"),
        comment: comment && data.is_empty(),
        at,
    }
}

/// Parses a whole SSE body; panics when it does not end with a blank line.
pub fn parse_sse(text: &str) -> Vec<Sse> {
    assert!(
        text.is_empty() || text.ends_with("\n\n"),
        "SSE body does not end with a blank line: {text:?}"
    );
    text.split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|b| parse_block(b, Duration::ZERO))
        .collect()
}

/// Reads an SSE response body chunk by chunk, timing each event's arrival from `start`.
pub async fn read_sse_from(mut resp: reqwest::Response, start: Instant) -> Vec<Sse> {
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ctype.starts_with("text/event-stream"),
        "content-type {ctype}"
    );
    let mut buf = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        let at = start.elapsed();
        buf.push_str(std::str::from_utf8(&chunk).expect("SSE chunk is UTF-8"));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            events.push(parse_block(block.trim_end_matches('\n'), at));
        }
    }
    assert!(buf.is_empty(), "SSE body ended inside an event: {buf:?}");
    events
}

pub async fn read_sse(resp: reqwest::Response) -> Vec<Sse> {
    read_sse_from(resp, Instant::now()).await
}

/// Checks the Anthropic event grammar: `message_start`, an early `ping`, well-nested content
/// blocks with increasing indices, then `message_delta` + `message_stop`, or a final `error`.
/// Every `event:` name equals its data's `type`. Returns whether it ended with an error.
pub fn check_anthropic_sse(events: &[Sse]) -> bool {
    assert!(!events.is_empty());
    for e in events {
        assert!(
            !e.comment,
            "Anthropic streams use ping events, not comments"
        );
        let data = e.json();
        assert_eq!(data["type"].as_str(), e.event.as_deref(), "{e:?}");
    }
    assert_eq!(events[0].name(), "message_start");
    assert_eq!(
        events[1].name(),
        "ping",
        "an early ping follows message_start"
    );
    let mut open: Option<u64> = None;
    let mut next_index = 0u64;
    let mut ended = false;
    let mut errored = false;
    for e in &events[1..] {
        assert!(!ended && !errored, "event after the end: {e:?}");
        let d = e.json();
        match e.name() {
            "ping" => {}
            "content_block_start" => {
                assert_eq!(open, None, "block started inside another: {e:?}");
                assert_eq!(d["index"].as_u64(), Some(next_index), "{e:?}");
                open = Some(next_index);
                next_index += 1;
            }
            "content_block_delta" => assert_eq!(d["index"].as_u64(), open, "{e:?}"),
            "content_block_stop" => {
                assert_eq!(d["index"].as_u64(), open, "{e:?}");
                open = None;
            }
            "message_delta" => {
                assert_eq!(open, None, "message_delta inside a block");
                assert!(d["delta"]["stop_reason"].is_string(), "{e:?}");
                assert!(d["usage"]["output_tokens"].is_u64(), "{e:?}");
            }
            "message_stop" => ended = true,
            "error" => errored = true,
            other => panic!("unexpected event {other}"),
        }
    }
    assert!(
        ended || errored,
        "stream ended without message_stop or error"
    );
    if ended {
        let n = events.len();
        assert_eq!(events[n - 2].name(), "message_delta");
    }
    errored
}

/// Rebuilds the non-streaming message from an Anthropic stream: `content` (tool inputs parsed
/// from their `input_json_delta` fragments), `stop_reason`, `stop_sequence`, `usage` (start
/// figures overlaid by the final ones).
pub fn fold_anthropic(events: &[Sse]) -> Value {
    let mut message = Value::Null;
    let mut content: Vec<Value> = Vec::new();
    let mut partial: HashMap<usize, String> = HashMap::new();
    for e in events {
        let d = e.json();
        match e.name() {
            "message_start" => message = d["message"].clone(),
            "content_block_start" => {
                let mut block = d["content_block"].clone();
                if block["type"] == "tool_use" {
                    assert_eq!(
                        block["input"],
                        json!({}),
                        "tool input must stream as input_json_delta"
                    );
                }
                content.push(block.take());
            }
            "content_block_delta" => {
                let i = usize::try_from(d["index"].as_u64().unwrap()).unwrap();
                let block = &mut content[i];
                let delta = &d["delta"];
                let append = |field: &str, block: &mut Value, s: &str| {
                    let cur = block[field].as_str().unwrap_or("").to_owned();
                    block[field] = Value::String(cur + s);
                };
                match delta["type"].as_str().unwrap() {
                    "text_delta" => append("text", block, delta["text"].as_str().unwrap()),
                    "thinking_delta" => {
                        append("thinking", block, delta["thinking"].as_str().unwrap());
                    }
                    "signature_delta" => {
                        append("signature", block, delta["signature"].as_str().unwrap());
                    }
                    "input_json_delta" => partial
                        .entry(i)
                        .or_default()
                        .push_str(delta["partial_json"].as_str().unwrap()),
                    other => panic!("unknown delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = usize::try_from(d["index"].as_u64().unwrap()).unwrap();
                if let Some(json) = partial.remove(&i) {
                    content[i]["input"] = serde_json::from_str(&json)
                        .unwrap_or_else(|e| panic!("tool input {json:?} is not JSON: {e}"));
                }
            }
            "message_delta" => {
                message["stop_reason"] = d["delta"]["stop_reason"].clone();
                message["stop_sequence"] = d["delta"]["stop_sequence"].clone();
                if let Some(u) = d["usage"].as_object() {
                    for (k, v) in u {
                        message["usage"][k] = v.clone();
                    }
                }
            }
            _ => {}
        }
    }
    message["content"] = Value::Array(content);
    message
}

/// Checks an OpenAI stream: every data line JSON (or the final `[DONE]`), every chunk a
/// `chat.completion.chunk` with one choice, every tool call delta with an `index`. Returns
/// whether it ended with an error chunk (then no `[DONE]`).
pub fn check_openai_sse(events: &[Sse]) -> bool {
    assert!(!events.is_empty());
    let data: Vec<&Sse> = events.iter().filter(|e| !e.comment).collect();
    let last = data.last().unwrap();
    for (i, e) in data.iter().enumerate() {
        assert!(e.event.is_none(), "OpenAI streams have no event names");
        if e.data == "[DONE]" {
            assert_eq!(i, data.len() - 1, "[DONE] is last");
            continue;
        }
        let d = e.json();
        if d.get("error").is_some() {
            assert_eq!(i, data.len() - 1, "the error chunk is last");
            return true;
        }
        assert_eq!(d["object"], "chat.completion.chunk", "{d}");
        let choices = d["choices"].as_array().unwrap();
        if choices.is_empty() {
            assert!(
                d["usage"].is_object(),
                "a choice-less chunk carries usage: {d}"
            );
        }
        for c in choices {
            assert_eq!(c["index"], 0);
            if let Some(calls) = c["delta"]["tool_calls"].as_array() {
                for call in calls {
                    assert!(
                        call["index"].is_u64(),
                        "tool call delta without index: {call}"
                    );
                }
            }
        }
    }
    assert_eq!(last.data, "[DONE]", "stream must end with [DONE]");
    false
}

/// Rebuilds `choices[0].message` (+ `finish_reason`, `usage`) from an OpenAI stream.
pub fn fold_openai(events: &[Sse]) -> Value {
    let mut content = String::new();
    let mut reasoning = String::new();
    let mut calls: Vec<Value> = Vec::new();
    let mut finish = Value::Null;
    let mut usage = Value::Null;
    for e in events.iter().filter(|e| !e.comment && e.data != "[DONE]") {
        let d = e.json();
        if d.get("error").is_some() {
            continue;
        }
        if d["usage"].is_object() {
            usage = d["usage"].clone();
        }
        for c in d["choices"].as_array().unwrap() {
            let delta = &c["delta"];
            if let Some(s) = delta["content"].as_str() {
                content.push_str(s);
            }
            if let Some(s) = delta["reasoning_content"].as_str() {
                reasoning.push_str(s);
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let i = usize::try_from(call["index"].as_u64().unwrap()).unwrap();
                if calls.len() <= i {
                    calls.resize(i + 1, Value::Null);
                }
                let slot = &mut calls[i];
                if slot.is_null() {
                    *slot = json!({"id": call["id"], "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""}});
                }
                if let Some(a) = call["function"]["arguments"].as_str() {
                    let cur = slot["function"]["arguments"].as_str().unwrap().to_owned();
                    slot["function"]["arguments"] = Value::String(cur + a);
                }
            }
            if !c["finish_reason"].is_null() {
                finish = c["finish_reason"].clone();
            }
        }
    }
    json!({
        "content": content,
        "reasoning_content": reasoning,
        "tool_calls": calls,
        "finish_reason": finish,
        "usage": usage,
    })
}

/// The content blocks of a message with tool-use ids blanked (ids are per request).
pub fn without_ids(content: &Value) -> Value {
    let mut c = content.clone();
    for b in c.as_array_mut().into_iter().flatten() {
        if b.get("id").is_some() {
            b["id"] = Value::Null;
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Upstream log

/// The decoded frames the simulator served for `req`.
pub fn served_events(req: &RecordedRequest) -> Vec<kiro_wire::Event> {
    let bytes = req.stream_bytes().expect("a streamed answer");
    kiro_wire::decode::decode_all(&bytes)
        .unwrap()
        .iter()
        .map(|f| kiro_wire::Event::from_frame(f).unwrap())
        .collect()
}

/// The `authorization` header of a logged request.
pub fn bearer(req: &RecordedRequest) -> String {
    req.header("authorization").unwrap_or("").to_owned()
}

/// `conversationState.currentMessage.userInputMessage` of a logged chat request.
pub fn current_message(req: &RecordedRequest) -> Value {
    req.body_json().unwrap()["conversationState"]["currentMessage"]["userInputMessage"].clone()
}

/// Waits (polling) until `cond` holds or `within` passes.
pub async fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// TCP relay

/// A TCP relay in front of the simulator that notes when the proxy closes an upstream
/// connection (its side reads EOF or fails), to see a cancelled upstream request.
#[derive(Debug)]
pub struct Relay {
    pub url: String,
    closed: std::sync::Arc<std::sync::Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let closed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let noted = closed.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let noted = noted.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(up) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = down.set_nodelay(true);
                    let _ = up.set_nodelay(true);
                    let (mut down_r, mut down_w) = down.split();
                    let (mut up_r, mut up_w) = tokio::io::split(up);
                    let requests = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            match down_r.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if up_w.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        noted.lock().unwrap().push(Instant::now());
                    };
                    let answers = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            match up_r.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if down_w.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                    };
                    // Either side ending ends the relay of this connection (dropping both).
                    tokio::select! {
                        () = requests => {},
                        () = answers => {},
                    }
                });
            }
        });
        Relay { url, closed, task }
    }

    /// When the proxy closed upstream connections, in order.
    pub fn closed(&self) -> Vec<Instant> {
        self.closed.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
