//! The running service: every long-lived part, built once from the configuration.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use dialects::models::ModelCatalogue;

use crate::accounts::{Account, AccountRegistry, Maintenance, Pool, TokenConfig, TokenManager};
use crate::admin::{self, AdminChanges, AdminState, ChangeKind};
use crate::client_auth::ClientAuth;
use crate::config::Config;
use crate::crypto::{Crypto, CryptoError};
use crate::limits::Limits;
use crate::metrics::{Metrics, MetricsError};
use crate::settings::RuntimeSettings;
use crate::stats::Stats;
use crate::store::{Store, StoreError};
use crate::telemetry::Telemetry;
use crate::upstream::{UpstreamClient, UpstreamConfig, UpstreamError, UpstreamUrls};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("upstream client: {0}")]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Shared state of every handler.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub client_auth: ClientAuth,
    pub upstream: UpstreamClient,
    pub tokens: Arc<TokenManager>,
    pub pool: Pool,
    pub admin: AdminState,
    /// Where finished requests are reported (request log, statistics, metrics, limits).
    pub telemetry: Telemetry,
    /// The request log and the statistics aggregates (written in the background).
    pub stats: Stats,
    /// `/metrics` (fed by the telemetry, the pool and the HTTP layer).
    pub metrics: Arc<Metrics>,
    /// Settings changed at runtime through `/api/settings` (reply rewrites, notice, logs).
    pub settings: RuntimeSettings,
    /// Traffic controls and per-key limits (the client routes' middleware).
    pub limits: Limits,
    mapping: RwLock<Arc<BTreeMap<String, String>>>,
    catalogue: RwLock<Arc<ModelCatalogue>>,
}

pub type AppState = Arc<App>;

impl App {
    /// Opens storage, loads the accounts and builds every part. Starts no background task.
    pub async fn build(config: Config) -> Result<AppState, StartupError> {
        let crypto = Crypto::load(&config.data_dir, config.master_key.as_ref())?;
        let store = Store::open(&config.data_dir, &crypto).await?;
        let (token, _origin) = admin::init_admin_token(&store, config.admin_token.as_ref()).await?;
        let client_auth = ClientAuth::new(&config.api_keys, store.clone()).await?;
        let changes = AdminChanges::new();

        let upstream = upstream_client(&config)?;
        let admin = AdminState::new(
            store.clone(),
            token,
            client_auth.clone(),
            changes,
            upstream.clone(),
            &config,
        );
        let (pool, tokens) = load_pool(&config, &store, &upstream).await?;
        let pool_for_views = pool.clone();
        admin.set_pool_view(Box::new(move |id| {
            pool_for_views
                .view(id)
                .and_then(|v| serde_json::to_value(v).ok())
        }));
        let mapping = admin::effective_model_mapping(&store, &config.models.mapping).await?;
        let settings = RuntimeSettings::load(&store, &config).await;
        admin.set_runtime_settings(settings.clone());
        let metrics = Arc::new(Metrics::new()?);
        let telemetry = Telemetry::new();
        telemetry.subscribe(metrics.clone());
        let stats = Stats::new(store.clone(), &config.stats);
        settings.attach_stats(stats.clone());
        settings.attach_pool(pool.clone());
        telemetry.subscribe(Arc::new(stats.clone()));
        let limits = Limits::load(&config, store.clone(), client_auth.clone()).await?;
        telemetry.subscribe(Arc::new(limits.clone()));
        admin.set_limits(limits.clone());
        let app = Arc::new(App {
            pool,
            config,
            store,
            client_auth,
            upstream,
            tokens,
            admin,
            telemetry,
            stats,
            metrics,
            settings,
            limits,
            mapping: RwLock::new(Arc::new(mapping)),
            catalogue: RwLock::new(Arc::new(ModelCatalogue::builtin())),
        });
        app.admin.set_refresher(admin::AccountRefresher::new(
            app.pool.clone(),
            app.tokens.clone(),
            app.maintenance(),
        ));
        app.admin.set_tools(admin::UpstreamTools::new(
            app.pool.clone(),
            app.tokens.clone(),
            app.upstream.clone(),
        ));
        let weak = Arc::downgrade(&app);
        app.admin.set_models_view(Box::new(move || {
            weak.upgrade()
                .map(|app| models_json(&app.catalogue()))
                .unwrap_or_else(|| serde_json::json!([]))
        }));
        Ok(app)
    }

    /// The operator's model mapping in effect.
    pub fn mapping(&self) -> Arc<BTreeMap<String, String>> {
        self.mapping
            .read()
            .map(|m| m.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The model catalogue in effect (built in, refined by the upstream's listing).
    pub fn catalogue(&self) -> Arc<ModelCatalogue> {
        self.catalogue
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Re-reads the accounts from the store into the pool (after an admin change). An account
    /// that is new, was enabled or disabled, got new credentials, or whose stored status went
    /// back to `active` (the operator's reset) starts with a clean health and circuit.
    pub async fn reload_accounts(&self) -> Result<(), StoreError> {
        let records = self.store.list_accounts().await?;
        let registry = self.tokens.registry();
        let known = registry.ids();
        for id in &known {
            if !records.iter().any(|r| &r.account.id == id) {
                self.tokens.remove_account(id).await;
                self.pool.forget(id);
            }
        }
        for record in records {
            let a = &record.account;
            let id = a.id.clone();
            let (same, changed) = registry
                .with(&id, |cur| {
                    let (old, new) = (&cur.credentials, &a.credentials);
                    let renewed = cur.enabled != a.enabled
                        || old.refresh_token != new.refresh_token
                        || old.api_key != new.api_key
                        || old.client_secret != new.client_secret;
                    (same_account(cur, a), renewed)
                })
                .unwrap_or((false, true));
            let reset_by_operator = self.pool.sync_record(
                &id,
                &record.status,
                record.status_reason.as_deref(),
                record.weight,
            );
            if changed && !reset_by_operator {
                self.pool.reset(&id);
            }
            // Replacing resets the account's refresh state (a dead refresh token is tried
            // again): for accounts that changed, and for an operator's reset.
            if !same || reset_by_operator {
                self.tokens.replace_account(record.account).await;
            }
        }
        Ok(())
    }

    /// The last work of a graceful shutdown, once the server stopped: statistics flushed,
    /// storage closed.
    pub async fn shutdown(&self) {
        self.stats.flush().await;
        if let Err(e) = self.limits.flush().await {
            tracing::error!(error = %e, "could not write the keys' monthly token use");
        }
        self.store.close().await;
    }

    /// The pool's background work (keep-alive pass, quota fetches), for this app's accounts.
    pub fn maintenance(&self) -> Maintenance {
        Maintenance::new(
            self.pool.clone(),
            self.tokens.clone(),
            self.config.accounts.refresh_margin,
        )
    }

    async fn reload_mapping(&self) -> Result<(), StoreError> {
        let mapping =
            admin::effective_model_mapping(&self.store, &self.config.models.mapping).await?;
        match self.mapping.write() {
            Ok(mut m) => *m = Arc::new(mapping),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(mapping),
        }
        Ok(())
    }

    /// Starts the background tasks: following admin changes, the keep-alive pass, quota
    /// fetches and the pool's status writes. They end when the process does.
    pub fn spawn_background(self: &Arc<Self>) {
        self.stats.spawn_writer();
        tokio::spawn(self.limits.clone().run_maintenance());
        tokio::spawn(self.maintenance().run_keepalive());
        tokio::spawn(self.maintenance().run_quota());
        let app = self.clone();
        tokio::spawn(async move { app.write_statuses().await });
        let mut accounts = self.admin.changes().subscribe(ChangeKind::Accounts);
        let app = self.clone();
        tokio::spawn(async move {
            while accounts.changed().await.is_ok() {
                if let Err(e) = app.reload_accounts().await {
                    tracing::error!(error = %e, "could not reload accounts");
                }
            }
        });
        let mut mapping = self.admin.changes().subscribe(ChangeKind::ModelMapping);
        let app = self.clone();
        tokio::spawn(async move {
            while mapping.changed().await.is_ok() {
                if let Err(e) = app.reload_mapping().await {
                    tracing::error!(error = %e, "could not reload the model mapping");
                }
            }
        });
    }

    /// Writes the pool's account health to the store's `status` column as it changes (see
    /// `accounts::status_sync`), forever. Also looks every few seconds: a cooldown or an open
    /// circuit ends by itself.
    async fn write_statuses(&self) {
        const LOOK_AGAIN: Duration = Duration::from_secs(5);
        loop {
            let changed = self.pool.status_changed();
            for change in self.pool.pending_statuses() {
                let written = self
                    .store
                    .set_account_status(&change.account_id, change.status, change.reason.as_deref())
                    .await;
                match written {
                    Ok(()) => self.pool.note_persisted(&change.account_id, change.status),
                    Err(e) => tracing::warn!(
                        account = %change.account_id,
                        status = change.status,
                        error = %e,
                        "could not record the account status"
                    ),
                }
            }
            let _ = tokio::time::timeout(LOOK_AGAIN, changed).await;
        }
    }
}

/// True when two versions of an account hold the same settings and credentials.
fn same_account(a: &Account, b: &Account) -> bool {
    let (x, y) = (&a.credentials, &b.credentials);
    a.auth_method == b.auth_method
        && a.label == b.label
        && a.enabled == b.enabled
        && a.api_region == b.api_region
        && a.auth_region == b.auth_region
        && a.profile_arn == b.profile_arn
        && a.start_url == b.start_url
        && a.machine_id == b.machine_id
        && a.proxy == b.proxy
        && x.access_token == y.access_token
        && x.expires_at == y.expires_at
        && x.refresh_token == y.refresh_token
        && x.client_id == y.client_id
        && x.client_secret == y.client_secret
        && x.client_secret_expires_at == y.client_secret_expires_at
        && x.api_key == y.api_key
}

/// The catalogue as `/api/models` shows it.
fn models_json(catalogue: &ModelCatalogue) -> serde_json::Value {
    use dialects::models::ThinkingSupport;
    catalogue
        .models()
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "contextWindow": m.context_window,
                "maxOutputTokens": m.max_output_tokens,
                "creditMultiplier": m.credit_multiplier,
                "images": m.images,
                "thinking": match m.thinking {
                    ThinkingSupport::Native { .. } => "native",
                    ThinkingSupport::Tags => "tags",
                    ThinkingSupport::None => "none",
                },
                "thinkingByDefault": m.thinking_by_default,
            })
        })
        .collect()
}

/// The upstream client `config` describes (URLs and timeouts): the server's and the CLI's.
pub fn upstream_client(config: &Config) -> Result<UpstreamClient, UpstreamError> {
    let u = &config.upstream;
    UpstreamClient::new(
        UpstreamUrls::new(
            &u.q_url,
            &u.codewhisperer_url,
            &u.social_auth_url,
            &u.oidc_url,
        ),
        UpstreamConfig {
            connect_timeout: u.connect_timeout,
            response_headers_timeout: u.response_header_timeout,
            first_event_timeout: u.first_event_timeout,
            idle_timeout: u.idle_timeout,
            ..UpstreamConfig::default()
        },
    )
}

/// The accounts stored in `store`, loaded into a pool as the server runs them (weights, a
/// stored needs-login kept out) and a token manager that saves refreshed tokens to `store`.
pub async fn load_pool(
    config: &Config,
    store: &Store,
    upstream: &UpstreamClient,
) -> Result<(Pool, Arc<TokenManager>), StoreError> {
    let registry = Arc::new(AccountRegistry::new());
    let records = store.list_accounts().await?;
    registry.load(records.iter().map(|r| r.account.clone()));
    let pool = Pool::new(registry.clone(), config.pool.clone());
    for r in &records {
        pool.sync_record(
            &r.account.id,
            &r.status,
            r.status_reason.as_deref(),
            r.weight,
        );
    }
    let tokens = Arc::new(TokenManager::new(
        registry,
        upstream.clone(),
        Arc::new(store.clone()),
        TokenConfig {
            refresh_window: config.accounts.refresh_margin,
            ..TokenConfig::default()
        },
    ));
    Ok((pool, tokens))
}
