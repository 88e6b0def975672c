//! Shared helpers for the kiro-sim integration tests.

use bytes::Bytes;
use kiro_sim::accounts::{AccountKind, AccountSecrets, CreateAccount};
use kiro_sim::{SimConfig, SimHandle};
use kiro_wire::Event;
use serde_json::{Value, json};

pub const CONVERSATION: &str = "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5";
pub const MACHINE: &str = "5f1b8c0e2a9d4f7b8c6e1d3a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        Self::start_with(SimConfig {
            seed: Some(42),
            ..SimConfig::default()
        })
        .await
    }

    pub async fn start_with(config: SimConfig) -> Sim {
        let handle = kiro_sim::start(config).await.expect("start");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Sim { handle, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.handle.base_url(), path)
    }

    pub fn account(&self, kind: AccountKind) -> AccountSecrets {
        self.account_with(CreateAccount {
            kind: Some(kind),
            ..CreateAccount::default()
        })
    }

    pub fn account_with(&self, req: CreateAccount) -> AccountSecrets {
        self.handle.state().create_account(&req).expect("account")
    }

    /// POSTs JSON to the control API.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, self.url(&format!("/_sim{path}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "control {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap()
    }

    pub async fn queue(&self, behaviour: Value) -> Value {
        self.control(reqwest::Method::POST, "/behaviours", behaviour)
            .await
    }

    pub async fn queue_script(&self, script: Value) -> Value {
        self.queue(json!({"type": "script", "script": script}))
            .await
    }

    /// A chat request with IDE-like headers.
    pub fn chat_request(&self, secrets: &AccountSecrets, body: &Value) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .post(self.url("/generateAssistantResponse"))
            .header("content-type", "application/json")
            .header("accept", "*/*")
            .header("x-amzn-codewhisperer-optout", "true")
            .header("x-amzn-kiro-agent-mode", "vibe")
            .header(
                "x-amz-user-agent",
                format!("aws-sdk-js/1.0.34 KiroIDE-0.11.107-{MACHINE}"),
            )
            .header(
                "user-agent",
                format!("aws-sdk-js/1.0.34 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.22.0 api/codewhispererstreaming#1.0.34 m/E KiroIDE-0.11.107-{MACHINE}"),
            )
            .header("amz-sdk-invocation-id", uuid::Uuid::new_v4().to_string())
            .header("amz-sdk-request", "attempt=1; max=3")
            .body(body.to_string());
        match (&secrets.api_key, &secrets.access_token) {
            (Some(k), _) => {
                rb = rb
                    .header("authorization", format!("Bearer {k}"))
                    .header("tokentype", "API_KEY");
            }
            (None, Some(t)) => rb = rb.header("authorization", format!("Bearer {t}")),
            _ => {}
        }
        rb
    }

    /// Sends a chat and returns (status, content-type, body bytes).
    pub async fn chat(&self, secrets: &AccountSecrets, text: &str) -> (u16, String, Bytes) {
        self.chat_body(secrets, &chat_body(text, "claude-sonnet-4.5"))
            .await
    }

    pub async fn chat_body(&self, secrets: &AccountSecrets, body: &Value) -> (u16, String, Bytes) {
        let resp = self.chat_request(secrets, body).send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp.bytes().await.unwrap();
        (status, ct, bytes)
    }

    /// Queues `script` and chats once; returns the decoded events.
    pub async fn scripted(&self, secrets: &AccountSecrets, script: Value) -> Vec<Event> {
        self.queue_script(script).await;
        let (status, _, bytes) = self.chat(secrets, "hello").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        events(&bytes)
    }
}

pub fn chat_body(text: &str, model: &str) -> Value {
    json!({
        "conversationState": {
            "conversationId": CONVERSATION,
            "agentContinuationId": "98f46eab-3f14-46cb-ba52-0d42afffc718",
            "agentTaskType": "vibe",
            "chatTriggerType": "MANUAL",
            "currentMessage": {"userInputMessage": {
                "content": text, "modelId": model, "origin": "AI_EDITOR"
            }}
        }
    })
}

/// A second-turn body: the assistant called `Bash`, the current message carries its result.
pub fn tool_result_body(text: &str) -> Value {
    json!({
        "conversationState": {
            "conversationId": CONVERSATION,
            "chatTriggerType": "MANUAL",
            "history": [
                {"userInputMessage": {"content": "run it", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}},
                {"assistantResponseMessage": {"content": "", "toolUses": [
                    {"toolUseId": "tooluse_abc", "name": "Bash", "input": {"command": "ls"}}
                ]}}
            ],
            "currentMessage": {"userInputMessage": {
                "content": text, "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR",
                "userInputMessageContext": {
                    "tools": [{"toolSpecification": {"name": "Bash", "description": "Run a command.",
                        "inputSchema": {"json": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}}],
                    "toolResults": [{"toolUseId": "tooluse_abc", "status": "success", "content": [{"text": "file.txt"}]}]
                }
            }}
        }
    })
}

pub fn frames(bytes: &[u8]) -> Vec<kiro_wire::Frame> {
    kiro_wire::decode_all(bytes).expect("valid eventstream")
}

pub fn events(bytes: &[u8]) -> Vec<Event> {
    frames(bytes)
        .iter()
        .map(|f| Event::from_frame(f).expect("event"))
        .collect()
}

pub fn text_of(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AssistantResponse(a) => Some(a.content.as_str()),
            _ => None,
        })
        .collect()
}

pub fn event_types(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Error(_) => "error".to_owned(),
            Event::Exception(x) => format!("exception:{}", x.exception_type),
            other => other.event_type().unwrap_or("").to_owned(),
        })
        .collect()
}

/// Reads a streamed body until it ends or fails: (bytes received, error if any).
pub async fn read_until_error(resp: reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    use futures::StreamExt as _;
    let mut got = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => got.extend_from_slice(&b),
            Err(e) => return (got, Some(e)),
        }
    }
    (got, None)
}
