//! Helpers of the `stats_*` tests, on top of the pipeline harness: a telemetry observer that
//! keeps every record, admin API reads, and a service started on a data directory the test
//! owns (to restart on the same one).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiro_proxy::telemetry::{RequestObserver, RequestRecord};
use kiro_proxy::{App, AppState, Config};
use serde_json::Value;

use super::pipeline_support::{ADMIN_TOKEN, CLIENT_KEY, client, config, eventually};

/// Keeps every record the telemetry reports.
#[derive(Debug, Default)]
pub struct Records(Mutex<Vec<RequestRecord>>);

impl RequestObserver for Records {
    fn observe(&self, record: &RequestRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

impl Records {
    pub fn subscribe(app: &AppState) -> Arc<Records> {
        let records = Arc::new(Records::default());
        app.telemetry.subscribe(records.clone());
        records
    }

    pub fn all(&self) -> Vec<RequestRecord> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until `n` records arrived, then a little longer to catch a duplicate; returns
    /// them all.
    pub async fn wait_for(&self, n: usize) -> Vec<RequestRecord> {
        assert!(
            eventually(Duration::from_secs(5), || self.0.lock().unwrap().len() >= n).await,
            "expected {n} records, got {:?}",
            self.all()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.all()
    }
}

/// `GET {url}/api{path}` with the admin token: status and JSON body.
pub async fn admin_get(url: &str, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{url}/api{path}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The service on a data directory the caller keeps (the pipeline harness owns its own).
#[derive(Debug)]
pub struct Service {
    pub app: AppState,
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<()>,
}

impl Service {
    pub async fn start(upstream: &str, dir: &Path, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = config(upstream, dir);
        tweak(&mut config);
        let app = App::build(config).await.unwrap();
        app.spawn_background();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app_served = app.clone();
        let served = tokio::spawn(async move {
            let _ = kiro_proxy::serve(listener, app_served, async {
                let _ = stopped.await;
            })
            .await;
        });
        Service {
            app,
            url,
            stop: Some(stop),
            served,
        }
    }

    /// A social account of `sim`, added with `POST /api/accounts`; waits until the pool has it.
    pub async fn add_account(&self, sim: &kiro_sim::SimHandle) {
        let secrets = sim
            .state()
            .create_account(&kiro_sim::CreateAccount {
                kind: Some(kiro_sim::AccountKind::Social),
                ..Default::default()
            })
            .unwrap();
        let before = self.app.pool.len();
        let resp = client()
            .post(format!("{}/api/accounts", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({
                "authMethod": "social",
                "refreshToken": secrets.refresh_token,
                "accessToken": secrets.access_token,
                "expiresAt": secrets.expires_at,
                "profileArn": secrets.account.profile_arn,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        assert!(eventually(Duration::from_secs(5), || self.app.pool.len() > before).await);
    }

    /// `POST /v1/messages` with the client key.
    pub async fn anthropic(&self, body: &Value) -> reqwest::Response {
        client()
            .post(format!("{}/v1/messages", self.url))
            .header("x-api-key", CLIENT_KEY)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Stops as a graceful shutdown does: the server first, then statistics flushed and the
    /// store closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.served).await;
        self.app.stats.flush().await;
        self.app.store.close().await;
    }
}
