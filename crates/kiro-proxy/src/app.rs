//! The running service: every long-lived part, built once from the configuration.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use dialects::models::ModelCatalogue;

use crate::accounts::{AccountRegistry, Pool, TokenConfig, TokenManager};
use crate::admin::{self, AdminChanges, AdminState, ChangeKind};
use crate::client_auth::ClientAuth;
use crate::config::Config;
use crate::crypto::{Crypto, CryptoError};
use crate::store::{Store, StoreError};
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
        let admin = AdminState::new(store.clone(), token, client_auth.clone(), changes, &config);

        let u = &config.upstream;
        let upstream = UpstreamClient::new(
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
        )?;
        let registry = Arc::new(AccountRegistry::new());
        registry.load(store.list_accounts().await?.into_iter().map(|r| r.account));
        let tokens = Arc::new(TokenManager::new(
            registry.clone(),
            upstream.clone(),
            Arc::new(store.clone()),
            TokenConfig {
                refresh_window: config.accounts.refresh_margin,
                ..TokenConfig::default()
            },
        ));
        let mapping = admin::effective_model_mapping(&store, &config.models.mapping).await?;
        Ok(Arc::new(App {
            pool: Pool::new(registry),
            config,
            store,
            client_auth,
            upstream,
            tokens,
            admin,
            mapping: RwLock::new(Arc::new(mapping)),
            catalogue: RwLock::new(Arc::new(ModelCatalogue::builtin())),
        }))
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

    /// Re-reads the accounts from the store into the pool (after an admin change).
    pub async fn reload_accounts(&self) -> Result<(), StoreError> {
        let records = self.store.list_accounts().await?;
        let known = self.tokens.registry().ids();
        for id in &known {
            if !records.iter().any(|r| &r.account.id == id) {
                self.tokens.remove_account(id).await;
                self.pool.reset(id);
            }
        }
        for record in records {
            let id = record.account.id.clone();
            let changed = self
                .tokens
                .registry()
                .with(&id, |a| a.enabled != record.account.enabled)
                .unwrap_or(true);
            if changed || !known.contains(&id) {
                self.pool.reset(&id);
            }
            self.tokens.replace_account(record.account).await;
        }
        Ok(())
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

    /// Starts the tasks that follow admin changes. They end when the process does.
    pub fn spawn_background(self: &Arc<Self>) {
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
}
