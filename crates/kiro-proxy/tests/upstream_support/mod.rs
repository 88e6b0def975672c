//! Shared helpers of the upstream and refresh tests: a simulator, a client pointed at it,
//! accounts built from the simulator's credentials, and a recording credential sink.

// Helpers are test code outside `#[test]` functions, where clippy.toml's test allowances do not
// reach; a failed setup should panic loudly.
#![expect(clippy::unwrap_used, reason = "test helpers: a failed setup panics")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use kiro_proxy::accounts::{
    Account, AccountRegistry, AuthMethod, CredentialSink, Credentials, SinkError, TokenConfig,
    TokenManager,
};
use kiro_proxy::upstream::{
    AccountAuth, AccountHeaders, Fingerprint, FingerprintDefaults, UpstreamClient, UpstreamConfig,
    UpstreamUrls,
};
use kiro_sim::{AccountKind, AccountSecrets, CreateAccount, SimConfig, SimHandle};
use kiro_wire::types::Secret;

pub const MACHINE_ID: &str = "5f1c0e8a9b7d6c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";

pub async fn sim() -> SimHandle {
    kiro_sim::start(SimConfig::default()).await.unwrap()
}

pub fn client(sim: &SimHandle) -> UpstreamClient {
    client_with(sim, UpstreamConfig::default())
}

pub fn client_with(sim: &SimHandle, config: UpstreamConfig) -> UpstreamClient {
    UpstreamClient::new(UpstreamUrls::single(sim.base_url()), config).unwrap()
}

pub fn headers(machine_id: &str) -> Arc<AccountHeaders> {
    Arc::new(
        AccountHeaders::new(Fingerprint::new(
            machine_id,
            &FingerprintDefaults::default(),
        ))
        .unwrap(),
    )
}

pub fn create(sim: &SimHandle, req: CreateAccount) -> AccountSecrets {
    sim.state().create_account(&req).unwrap()
}

pub fn create_kind(sim: &SimHandle, kind: AccountKind) -> AccountSecrets {
    create(
        sim,
        CreateAccount {
            kind: Some(kind),
            ..Default::default()
        },
    )
}

fn method(kind: AccountKind) -> AuthMethod {
    match kind {
        AccountKind::Social => AuthMethod::Social,
        AccountKind::Idc => AuthMethod::Idc,
        AccountKind::ApiKey => AuthMethod::ApiKey,
    }
}

/// An [`AccountAuth`] straight from the simulator's credentials.
pub fn auth(s: &AccountSecrets) -> AccountAuth {
    let m = method(s.account.kind);
    let secret = match m {
        AuthMethod::ApiKey => s.api_key.clone(),
        _ => s.access_token.clone(),
    }
    .unwrap();
    AccountAuth::new(
        s.account.id.as_str(),
        m,
        Secret::new(secret),
        s.account.api_region.as_str(),
        s.account.profile_arn.as_deref(),
        headers(MACHINE_ID),
    )
    .unwrap()
}

/// The proxy's view of a simulator account.
pub fn account(s: &AccountSecrets) -> Account {
    Account {
        id: s.account.id.clone(),
        auth_method: method(s.account.kind),
        label: None,
        enabled: true,
        api_region: s.account.api_region.clone(),
        auth_region: s.account.auth_region.clone(),
        profile_arn: s.account.profile_arn.clone(),
        start_url: s.account.start_url.clone(),
        machine_id: MACHINE_ID.to_owned(),
        proxy: None,
        credentials: Credentials {
            access_token: s.access_token.clone().map(Secret::new),
            expires_at: s.expires_at,
            refresh_token: s.refresh_token.clone().map(Secret::new),
            client_id: s.client_id.clone(),
            client_secret: s.client_secret.clone().map(Secret::new),
            client_secret_expires_at: s.client_secret_expires_at,
            api_key: s.api_key.clone().map(Secret::new),
        },
    }
}

/// A minimal valid `generateAssistantResponse` body.
pub fn chat_body(text: &str) -> Bytes {
    chat_body_arn(text, None)
}

pub fn chat_body_arn(text: &str, profile_arn: Option<&str>) -> Bytes {
    let mut body = serde_json::json!({
        "conversationState": {
            "conversationId": "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5",
            "chatTriggerType": "MANUAL",
            "currentMessage": {"userInputMessage": {
                "content": text, "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}}
        }
    });
    if let Some(arn) = profile_arn {
        body["profileArn"] = serde_json::Value::from(arn);
    }
    Bytes::from(serde_json::to_vec(&body).unwrap())
}

/// Queues a simulator behaviour given as control-API JSON.
pub fn queue(sim: &SimHandle, behaviour: serde_json::Value) {
    sim.state()
        .queue(serde_json::from_value(behaviour).unwrap());
}

/// Logged requests to `path`.
pub fn requests_to(sim: &SimHandle, path: &str) -> Vec<kiro_sim::log::RecordedRequest> {
    sim.state()
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// What happened, in order: saves (with the refresh and access tokens saved) and uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Save { access: String, refresh: String },
    SaveArn(String),
    Use(String),
}

/// A [`CredentialSink`] that records its saves, can be made to fail, and checks that nobody
/// could have seen the new access token before it was saved.
#[derive(Debug, Default)]
pub struct RecordingSink {
    pub log: Mutex<Vec<Step>>,
    pub fail: Mutex<bool>,
    pub registry: Mutex<Option<Arc<AccountRegistry>>>,
    /// Set when a save found its access token already in the registry.
    pub published_before_save: Mutex<bool>,
    pub delay: Mutex<Option<Duration>>,
}

impl RecordingSink {
    pub fn steps(&self) -> Vec<Step> {
        self.log.lock().unwrap().clone()
    }

    pub fn record_use(&self, token: &Secret) {
        self.log
            .lock()
            .unwrap()
            .push(Step::Use(token.expose().to_owned()));
    }

    pub fn saves(&self) -> usize {
        self.steps()
            .iter()
            .filter(|s| matches!(s, Step::Save { .. }))
            .count()
    }
}

impl CredentialSink for RecordingSink {
    async fn save_credentials(
        &self,
        account_id: &str,
        creds: &Credentials,
    ) -> Result<(), SinkError> {
        let delay = *self.delay.lock().unwrap();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if *self.fail.lock().unwrap() {
            return Err("disk full".into());
        }
        let access = creds.access_token.as_ref().unwrap().expose().to_owned();
        let registry = self.registry.lock().unwrap().clone();
        if let Some(r) = registry {
            let current = r
                .with(account_id, |a| a.credentials.access_token.clone())
                .flatten();
            if current.as_ref().map(Secret::expose) == Some(access.as_str()) {
                *self.published_before_save.lock().unwrap() = true;
            }
        }
        self.log.lock().unwrap().push(Step::Save {
            access,
            refresh: creds
                .refresh_token
                .as_ref()
                .map(|t| t.expose().to_owned())
                .unwrap_or_default(),
        });
        Ok(())
    }

    async fn save_profile_arn(
        &self,
        _account_id: &str,
        profile_arn: &str,
    ) -> Result<(), SinkError> {
        self.log
            .lock()
            .unwrap()
            .push(Step::SaveArn(profile_arn.to_owned()));
        Ok(())
    }
}

/// A token manager over simulator accounts.
#[derive(Debug)]
pub struct Managed {
    pub tokens: Arc<TokenManager>,
    pub registry: Arc<AccountRegistry>,
    pub sink: Arc<RecordingSink>,
}

pub fn manage(sim: &SimHandle, accounts: Vec<Account>, config: TokenConfig) -> Managed {
    let registry = Arc::new(AccountRegistry::new());
    registry.load(accounts);
    let sink = Arc::new(RecordingSink::default());
    *sink.registry.lock().unwrap() = Some(Arc::clone(&registry));
    let tokens = Arc::new(TokenManager::new(
        Arc::clone(&registry),
        client(sim),
        Arc::clone(&sink),
        config,
    ));
    Managed {
        tokens,
        registry,
        sink,
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
