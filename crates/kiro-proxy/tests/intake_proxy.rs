//! Per-account outbound proxies: an account whose `proxy` is set makes every upstream call
//! (refresh, chat, usage) through it; other accounts connect directly; a proxy that cannot be
//! reached fails the call instead of falling back to a direct connection. The proxies are
//! written here: an HTTP forward proxy (the simulator speaks plain HTTP, for which HTTP proxies
//! get absolute-form requests; CONNECT is for https upstreams) and a SOCKS5 one.
#![cfg(test)]

#[expect(
    dead_code,
    reason = "each intake test uses a subset of the shared helpers"
)]
mod intake_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use intake_support::*;
use kiro_proxy::accounts::{
    Account, AccountRegistry, AuthMethod, Credentials, TokenConfig, TokenManager,
};
use kiro_proxy::upstream::{
    TransportKind, UpstreamClient, UpstreamConfig, UpstreamError, UpstreamUrls,
};
use kiro_proxy::{App, AppState, Config, ServeArgs};
use kiro_sim::{AccountKind, SimHandle};
use kiro_wire::types::Secret;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ADMIN_TOKEN: &str = "intake-proxy-admin-token-0123";

/// An HTTP forward proxy that records the path of every request it relays.
struct ForwardProxy {
    url: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl ForwardProxy {
    async fn start() -> Self {
        let paths: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = paths.clone();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let app = Router::new().fallback(move |req: Request| {
            let client = client.clone();
            let seen = seen.clone();
            async move { forward(client, seen, req).await }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, paths }
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

async fn forward(client: reqwest::Client, seen: Arc<Mutex<Vec<String>>>, req: Request) -> Response {
    let uri = req.uri().clone();
    // A proxied request names its target in absolute form; a direct one would not.
    assert!(uri.scheme().is_some(), "not a proxy request: {uri}");
    seen.lock().unwrap().push(uri.path().to_owned());
    let method = req.method().clone();
    let mut headers = req.headers().clone();
    for hop in [
        "connection",
        "proxy-connection",
        "proxy-authorization",
        "content-length",
        "transfer-encoding",
    ] {
        headers.remove(hop);
    }
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    let resp = client
        .request(method, uri.to_string())
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let mut out = Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if !["connection", "content-length", "transfer-encoding"].contains(&name.as_str()) {
            out = out.header(name, value);
        }
    }
    let bytes = resp.bytes().await.unwrap();
    out.body(axum::body::Body::from(bytes)).unwrap()
}

/// A SOCKS5 proxy (no authentication, CONNECT only) that records each tunnel's target.
struct Socks5Proxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl Socks5Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = tunnels.clone();
        tokio::spawn(async move {
            loop {
                let (client, _) = listener.accept().await.unwrap();
                tokio::spawn(socks5_tunnel(client, seen.clone()));
            }
        });
        Self { addr, tunnels }
    }

    fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

async fn socks5_tunnel(mut client: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], 5, "not SOCKS5");
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await.unwrap();
    assert!(methods.contains(&0), "no-auth not offered");
    client.write_all(&[5, 0]).await.unwrap();
    let mut req = [0u8; 4];
    client.read_exact(&mut req).await.unwrap();
    assert_eq!(&req[..3], &[5, 1, 0], "only CONNECT");
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await.unwrap();
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let len = client.read_u8().await.unwrap();
            let mut name = vec![0u8; usize::from(len)];
            client.read_exact(&mut name).await.unwrap();
            String::from_utf8(name).unwrap()
        }
        other => panic!("address type {other}"),
    };
    let port = client.read_u16().await.unwrap();
    let target = format!("{host}:{port}");
    seen.lock().unwrap().push(target.clone());
    let mut upstream = TcpStream::connect(&target).await.unwrap();
    client
        .write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        .await
        .unwrap();
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

fn config(sim: &SimHandle, dir: &std::path::Path) -> Config {
    let env: HashMap<&str, String> = [
        ("KIRO_Q_URL", sim.base_url()),
        ("KIRO_CODEWHISPERER_URL", sim.base_url()),
        ("KIRO_SOCIAL_AUTH_URL", sim.base_url()),
        ("KIRO_OIDC_URL", sim.base_url()),
        ("KIRO_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
    ]
    .into_iter()
    .collect();
    let args = ServeArgs {
        data_dir: Some(dir.to_path_buf()),
        ..ServeArgs::default()
    };
    Config::load_from(&args, |k| env.get(k).cloned()).unwrap()
}

/// The service on a free port; returns its URL.
async fn serve(app: &AppState) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kiro_proxy::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    url
}

async fn admin(
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(method, format!("{url}/api{path}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn chat(url: &str) -> serde_json::Value {
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "claude-sonnet-4-5", "stream": false,
                      "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Waits until the pool sees the account's proxy as `expected`.
async fn wait_for_proxy(app: &AppState, id: &str, expected: Option<&str>) {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let proxy = app
            .tokens
            .registry()
            .with(id, |a| a.proxy.clone())
            .flatten();
        if proxy.as_deref() == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "pool never saw proxy {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sim_paths(sim: &SimHandle) -> Vec<String> {
    sim.state().requests().into_iter().map(|r| r.path).collect()
}

#[tokio::test]
async fn an_account_set_to_a_proxy_talks_through_it_end_to_end() {
    let sim = sim().await;
    let proxy = ForwardProxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = App::build(config(&sim, dir.path())).await.unwrap();
    app.spawn_background();
    let url = serve(&app).await;

    // A social account whose access token has expired, created with its proxy: every upstream
    // call for it (the refresh, the quota fetch the pool makes at once, the chat) goes through
    // the proxy from the first one.
    let social = sim_account(&sim, AccountKind::Social);
    let view = admin(
        &url,
        reqwest::Method::POST,
        "/accounts",
        json!({
            "authMethod": "social",
            "refreshToken": social.refresh_token,
            "accessToken": social.access_token,
            "expiresAt": "2020-01-01T00:00:00Z",
            "profileArn": social.account.profile_arn,
            "proxy": proxy.url,
        }),
    )
    .await;
    let id = view["id"].as_str().unwrap().to_owned();
    assert_eq!(view["proxy"], proxy.url.as_str());
    wait_for_proxy(&app, &id, Some(&proxy.url)).await;

    let reply = chat(&url).await;
    assert!(
        reply["choices"][0]["message"]["content"].is_string(),
        "{reply}"
    );
    let relayed = proxy.paths();
    assert!(relayed.contains(&"/refreshToken".to_owned()), "{relayed:?}");
    assert!(
        relayed.contains(&"/generateAssistantResponse".to_owned()),
        "{relayed:?}"
    );
    // Everything the simulator saw came through the proxy.
    assert_eq!(
        sim_paths(&sim).len(),
        relayed.len(),
        "{:?}",
        sim_paths(&sim)
    );

    // Proxy removed: the next chat goes direct.
    admin(
        &url,
        reqwest::Method::PATCH,
        &format!("/accounts/{id}"),
        json!({"proxy": null}),
    )
    .await;
    wait_for_proxy(&app, &id, None).await;
    chat(&url).await;
    assert_eq!(proxy.paths().len(), relayed.len(), "still proxied");
    assert_eq!(sim_paths(&sim).len(), relayed.len() + 1);
}

fn account(s: &kiro_sim::AccountSecrets, proxy: Option<String>) -> Account {
    Account {
        id: s.account.id.clone(),
        auth_method: AuthMethod::Social,
        label: None,
        enabled: true,
        api_region: s.account.api_region.clone(),
        auth_region: s.account.auth_region.clone(),
        profile_arn: s.account.profile_arn.clone(),
        start_url: None,
        machine_id: "ab".repeat(32),
        proxy,
        credentials: Credentials {
            access_token: s.access_token.clone().map(Secret::new),
            // Expired: the first access refreshes.
            expires_at: Some(1),
            refresh_token: s.refresh_token.clone().map(Secret::new),
            ..Credentials::default()
        },
    }
}

#[derive(Debug, Default)]
struct NoSink;

impl kiro_proxy::accounts::CredentialSink for NoSink {
    async fn save_credentials(
        &self,
        _: &str,
        _: &Credentials,
    ) -> Result<(), kiro_proxy::accounts::SinkError> {
        Ok(())
    }

    async fn save_profile_arn(
        &self,
        _: &str,
        _: &str,
    ) -> Result<(), kiro_proxy::accounts::SinkError> {
        Ok(())
    }
}

fn token_manager(base_url: &str, accounts: Vec<Account>) -> (TokenManager, UpstreamClient) {
    let client =
        UpstreamClient::new(UpstreamUrls::single(base_url), UpstreamConfig::default()).unwrap();
    let registry = Arc::new(AccountRegistry::new());
    registry.load(accounts);
    (
        TokenManager::new(
            registry,
            client.clone(),
            Arc::new(NoSink),
            TokenConfig::default(),
        ),
        client,
    )
}

#[tokio::test]
async fn socks5_and_socks5h_proxies_carry_refresh_and_usage() {
    let sim = sim().await;
    let socks = Socks5Proxy::start().await;
    let direct = sim_account(&sim, AccountKind::Social);
    let via_ip = sim_account(&sim, AccountKind::Social);
    let via_name = sim_account(&sim, AccountKind::Social);
    let sim_port = sim.addr().port();

    // socks5: names resolved here, the proxy gets the address.
    let (tokens, client) = token_manager(
        &sim.base_url(),
        vec![
            account(&direct, None),
            account(&via_ip, Some(format!("socks5://{}", socks.addr))),
        ],
    );
    let auth = tokens.access(&direct.account.id).await.unwrap();
    assert!(auth.proxy().is_none());
    client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap();
    assert!(
        socks.tunnels().is_empty(),
        "direct account went through the proxy"
    );

    // The refresh (expired token) and the usage call both tunnel through the proxy.
    let auth = tokens.access(&via_ip.account.id).await.unwrap();
    assert!(!socks.tunnels().is_empty(), "refresh not proxied");
    client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap();
    let tunnels = socks.tunnels();
    assert!(
        tunnels
            .iter()
            .all(|t| *t == format!("127.0.0.1:{sim_port}")),
        "{tunnels:?}"
    );
    let paths = sim_paths(&sim);
    assert_eq!(
        paths,
        [
            "/refreshToken",
            "/getUsageLimits",
            "/refreshToken",
            "/getUsageLimits"
        ],
        "{paths:?}"
    );

    // socks5h: the proxy resolves the upstream's name.
    let (tokens, client) = token_manager(
        &format!("http://localhost:{sim_port}"),
        vec![account(
            &via_name,
            Some(format!("socks5h://{}", socks.addr)),
        )],
    );
    let before = socks.tunnels().len();
    let auth = tokens.access(&via_name.account.id).await.unwrap();
    client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap();
    let tunnels = socks.tunnels();
    assert!(tunnels.len() > before);
    assert!(
        tunnels[before..]
            .iter()
            .all(|t| *t == format!("localhost:{sim_port}")),
        "{tunnels:?}"
    );
}

#[tokio::test]
async fn an_unreachable_proxy_fails_instead_of_going_direct() {
    let sim = sim().await;
    // A port with nothing listening. Port 1 is privileged, so no server of a test running in
    // parallel (they bind port 0, which never hands out ports below 1024) can take it, as could
    // happen with a port bound and released here.
    let dead = "127.0.0.1:1";
    let s = sim_account(&sim, AccountKind::Social);
    let mut a = account(&s, Some(format!("http://{dead}")));
    a.credentials.expires_at = Some(i64::MAX / 2);
    let (tokens, client) = token_manager(&sim.base_url(), vec![a]);
    let auth = tokens.access(&s.account.id).await.unwrap();
    let err = client
        .get_usage_limits(&auth, auth.profile_arn())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            UpstreamError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(sim_paths(&sim).is_empty(), "{:?}", sim_paths(&sim));
}
