//! [`TokenManager`]: a valid upstream credential for an account, refreshed ahead of expiry.
//!
//! - **Fast path**: a short read of the registry; a token with more than the refresh window
//!   left (or an API key) is handed out at once, with no lock held across an `.await`.
//! - **Refresh**: single-flight per account. One `tokio::sync::Mutex` per account: the first
//!   caller refreshes, the callers queued behind it reuse its outcome (success or failure) and
//!   do not call the upstream again.
//! - **Durability**: the refreshed pair (a rotated refresh token included) is saved through the
//!   [`CredentialSink`] before the registry, and so any caller, sees the new access token. A
//!   failed save keeps the refreshed pair aside and retries the save on the next refresh, never
//!   refreshing again with a refresh token that rotation may already have revoked.
//! - **Failures** are typed permanent (re-login needed) or transient; on a transient failure the
//!   current token is kept while it has more than the grace period left (spec §8.3).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiro_wire::types::Secret;

use super::failure::{TokenError, classify};
use super::model::{Account, AuthMethod, Credentials};
use super::registry::AccountRegistry;
use super::sink::{CredentialSink, DynSink, SinkError};
use crate::upstream::{
    AccountAuth, AccountHeaders, Fingerprint, FingerprintDefaults, RefreshedTokens, UpstreamClient,
    UpstreamError,
};

/// Refresh timing and the fingerprint defaults of the accounts' headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// Refresh when less than this is left (spec §2.2: 5–10 min).
    pub refresh_window: Duration,
    /// After a transient refresh failure, keep using the current token while it has more than
    /// this left (spec §8.3: 2 min).
    pub transient_grace: Duration,
    /// Lifetime assumed when a refresh answer has no `expiresIn`.
    pub default_expires_in: Duration,
    pub fingerprint: FingerprintDefaults,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            refresh_window: Duration::from_secs(300),
            transient_grace: Duration::from_secs(120),
            default_expires_in: Duration::from_secs(3600),
            fingerprint: FingerprintDefaults::default(),
        }
    }
}

/// Gives out valid upstream credentials for the accounts of a registry.
pub struct TokenManager {
    registry: Arc<AccountRegistry>,
    client: UpstreamClient,
    sink: Arc<dyn DynSink>,
    config: TokenConfig,
    slots: std::sync::Mutex<HashMap<String, Arc<Slot>>>,
    headers: RwLock<HashMap<String, Arc<AccountHeaders>>>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Per-account refresh state.
#[derive(Default)]
struct Slot {
    /// Finished refresh attempts. Read before queueing on `state`: a change means another
    /// caller's attempt finished meanwhile, and its outcome is to be shared.
    attempts: AtomicU64,
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    last: Option<Outcome>,
    /// A permanent failure and the refresh token it happened with: not retried until the
    /// account's refresh token changes.
    dead: Option<(Secret, TokenError)>,
    /// A refresh whose save failed: saved (and only then used) on the next refresh.
    unsaved: Option<Refreshed>,
}

enum Outcome {
    Refreshed,
    /// A transient failure while the current token still had time left: it was kept (for
    /// callers who only wanted a fresh token; a forced refresh gets the error).
    KeptCurrent(TokenError),
    Failed(TokenError),
}

/// A successful refresh, ready to save.
struct Refreshed {
    credentials: Credentials,
    /// Set only when it changed.
    profile_arn: Option<String>,
}

#[derive(Clone, Copy)]
enum Mode<'a> {
    /// Refresh only if still stale once the lock is held.
    IfStale,
    /// Refresh even if the token looks valid, unless another refresh finished while waiting.
    Force,
    /// Refresh unless the account's token is no longer this rejected one.
    Rejected(&'a Secret),
}

impl Mode<'_> {
    /// Whether a transient failure may fall back to the current token.
    fn keeps_current(self) -> bool {
        matches!(self, Mode::IfStale)
    }
}

/// What the registry says about an account's current credential.
enum Current {
    /// Usable for longer than the refresh window (or an API key).
    Fresh(AccountAuth),
    /// Missing, expired or within the refresh window.
    Stale,
}

/// Fields of an account a refresh needs, copied out of the registry lock.
struct RefreshInput {
    method: AuthMethod,
    auth_region: String,
    machine_id: String,
    profile_arn: Option<String>,
    proxy: Option<String>,
    credentials: Credentials,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl TokenManager {
    pub fn new<S: CredentialSink>(
        registry: Arc<AccountRegistry>,
        client: UpstreamClient,
        sink: Arc<S>,
        config: TokenConfig,
    ) -> Self {
        Self {
            registry,
            client,
            sink,
            config,
            slots: std::sync::Mutex::new(HashMap::new()),
            headers: RwLock::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &Arc<AccountRegistry> {
        &self.registry
    }

    pub fn client(&self) -> &UpstreamClient {
        &self.client
    }

    /// A credential for `account_id` valid for longer than the refresh window: the API key, the
    /// current access token, or a freshly refreshed (and already saved) one.
    pub async fn access(&self, account_id: &str) -> Result<AccountAuth, TokenError> {
        match self.current(account_id)? {
            Current::Fresh(auth) => Ok(auth),
            Current::Stale => self.refresh(account_id, Mode::IfStale).await,
        }
    }

    /// Refreshes even though the token looks valid: for `403 bearer token invalid` →
    /// refresh-and-retry-once. Callers that queued behind another refresh of the same account
    /// reuse its outcome instead of refreshing again.
    pub async fn force_refresh(&self, account_id: &str) -> Result<AccountAuth, TokenError> {
        self.refresh(account_id, Mode::Force).await
    }

    /// Like [`force_refresh`](Self::force_refresh), but a no-op when the account's token is no
    /// longer the one the upstream rejected (someone refreshed it since): the usual entry point
    /// after a 401/403 on `rejected`.
    pub async fn refresh_rejected(
        &self,
        rejected: &AccountAuth,
    ) -> Result<AccountAuth, TokenError> {
        self.refresh(rejected.account_id(), Mode::Rejected(rejected.secret()))
            .await
    }

    /// Replaces an account (an import or a re-login) under its refresh lock, so that no refresh
    /// in flight overwrites the new credentials, and forgets its failures.
    pub async fn replace_account(&self, account: Account) {
        let slot = self.slot(&account.id);
        let mut state = slot.state.lock().await;
        *state = SlotState::default();
        self.registry.insert(account);
    }

    /// Removes an account and forgets its refresh state and headers.
    pub async fn remove_account(&self, account_id: &str) -> Option<Account> {
        let slot = self.slot(account_id);
        let _state = slot.state.lock().await;
        let removed = self.registry.remove(account_id);
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(account_id);
        self.headers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(account_id);
        removed
    }

    /// The account's current credential, without refreshing.
    fn current(&self, account_id: &str) -> Result<Current, TokenError> {
        let fresh_until = now_secs().saturating_add(secs(self.config.refresh_window));
        self.auth_if(account_id, |expires_at| expires_at > fresh_until)
    }

    /// The account's credential as [`Current::Fresh`] when `usable(expires_at)` holds (API keys
    /// always), else [`Current::Stale`].
    fn auth_if(
        &self,
        account_id: &str,
        usable: impl FnOnce(i64) -> bool,
    ) -> Result<Current, TokenError> {
        let found = self.registry.with(account_id, |a| {
            let secret = match a.auth_method {
                AuthMethod::ApiKey => a.credentials.api_key.clone().ok_or("API key"),
                AuthMethod::Social | AuthMethod::Idc => {
                    match (&a.credentials.access_token, a.credentials.expires_at) {
                        (Some(token), Some(at)) if !token.is_empty() && usable(at) => {
                            Ok(token.clone())
                        }
                        _ => return None,
                    }
                }
            };
            Some((
                secret,
                a.auth_method,
                a.api_region.clone(),
                a.profile_arn.clone(),
                a.machine_id.clone(),
                a.proxy.clone(),
            ))
        });
        let Some(found) = found else {
            return Err(TokenError::UnknownAccount(account_id.to_owned()));
        };
        let Some((secret, method, api_region, profile_arn, machine_id, proxy)) = found else {
            return Ok(Current::Stale);
        };
        let secret = secret.map_err(|missing| TokenError::MissingCredential {
            account_id: account_id.to_owned(),
            missing,
        })?;
        let headers = self.headers_for(account_id, &machine_id)?;
        let auth = AccountAuth::new(
            account_id,
            method,
            secret,
            api_region,
            profile_arn.as_deref(),
            headers,
        )
        .map_err(|_| TokenError::InvalidCredential {
            account_id: account_id.to_owned(),
        })?
        .with_proxy(proxy.as_deref());
        Ok(Current::Fresh(auth))
    }

    /// The account's pre-built headers, rebuilt when its machine id changed.
    fn headers_for(
        &self,
        account_id: &str,
        machine_id: &str,
    ) -> Result<Arc<AccountHeaders>, TokenError> {
        let cached = self
            .headers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account_id)
            .filter(|h| h.fingerprint().machine_id == machine_id)
            .cloned();
        if let Some(h) = cached {
            return Ok(h);
        }
        let fingerprint = Fingerprint::new(machine_id, &self.config.fingerprint);
        let built = Arc::new(AccountHeaders::new(fingerprint).map_err(|source| {
            TokenError::Fingerprint {
                account_id: account_id.to_owned(),
                source,
            }
        })?);
        self.headers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account_id.to_owned(), Arc::clone(&built));
        Ok(built)
    }

    fn slot(&self, account_id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(account_id.to_owned()).or_default())
    }

    /// The single-flight refresh.
    async fn refresh(&self, account_id: &str, mode: Mode<'_>) -> Result<AccountAuth, TokenError> {
        let slot = self.slot(account_id);
        let seen = slot.attempts.load(Ordering::Acquire);
        let mut state = slot.state.lock().await;

        // A refresh whose save failed: save it now rather than refresh with a refresh token
        // that rotation may have revoked.
        if let Some(pending) = state.unsaved.take() {
            let result = self.save_and_apply(account_id, &pending).await;
            if let Err(e) = result {
                state.unsaved = Some(pending);
                return Err(e);
            }
            state.last = Some(Outcome::Refreshed);
            slot.attempts.fetch_add(1, Ordering::Release);
            return self.usable_now(account_id);
        }

        // Another caller's attempt finished while this one queued: share its outcome.
        if slot.attempts.load(Ordering::Acquire) != seen {
            match &state.last {
                Some(Outcome::Failed(e)) => return Err(e.clone()),
                Some(Outcome::KeptCurrent(e)) if !mode.keeps_current() => return Err(e.clone()),
                _ => return self.usable_now(account_id),
            }
        }

        // Re-check under the lock: a refresh may have finished before `seen` was read.
        match mode {
            Mode::IfStale => {
                if let Current::Fresh(auth) = self.current(account_id)? {
                    return Ok(auth);
                }
            }
            Mode::Rejected(token) => {
                let replaced = self
                    .registry
                    .with(account_id, |a| {
                        a.credentials
                            .access_token
                            .as_ref()
                            .is_some_and(|t| t != token)
                    })
                    .unwrap_or(false);
                if replaced {
                    if let Ok(auth) = self.usable_now(account_id) {
                        return Ok(auth);
                    }
                }
            }
            Mode::Force => {}
        }

        let input = self.refresh_input(account_id)?;
        if input.method == AuthMethod::ApiKey {
            // Nothing to refresh; a rejected key is a key problem, reported by the caller.
            return self.usable_now(account_id);
        }
        let refresh_token = match &input.credentials.refresh_token {
            Some(t) if !t.is_empty() => t.clone(),
            _ => {
                return Err(TokenError::MissingCredential {
                    account_id: account_id.to_owned(),
                    missing: "refresh token",
                });
            }
        };
        if let Some((dead_token, e)) = &state.dead {
            if *dead_token == refresh_token {
                return Err(e.clone());
            }
        }

        let result = self.call_refresh(account_id, &input, &refresh_token).await;
        crate::metrics::refresh::count_refresh(result.is_ok());
        let outcome = match result {
            Ok(tokens) => {
                let pending = self.refreshed(&input, tokens);
                match self.save_and_apply(account_id, &pending).await {
                    Ok(()) => {
                        tracing::info!(account = account_id, "refreshed access token");
                        Ok(Outcome::Refreshed)
                    }
                    Err(e) => {
                        tracing::error!(account = account_id, error = %e, "refreshed credentials not saved; will retry the save");
                        state.unsaved = Some(pending);
                        Err(e)
                    }
                }
            }
            Err(e) => {
                let failure = if let TokenError::Refresh { failure, .. } = &e {
                    Some(failure.clone())
                } else {
                    None
                };
                match failure {
                    // A forced refresh follows a rejection of the current token: keeping it
                    // would only be rejected again.
                    Some(f)
                        if !f.is_permanent() && mode.keeps_current() && self.has_grace(&input) =>
                    {
                        tracing::warn!(account = account_id, error = %e, "transient refresh failure; keeping the current token");
                        Ok(Outcome::KeptCurrent(e))
                    }
                    _ => {
                        if e.is_permanent() {
                            tracing::warn!(account = account_id, error = %e, "refresh failed permanently; the account needs a new login");
                            state.dead = Some((refresh_token, e.clone()));
                        } else {
                            tracing::warn!(account = account_id, error = %e, "refresh failed");
                        }
                        Err(e)
                    }
                }
            }
        };
        slot.attempts.fetch_add(1, Ordering::Release);
        match outcome {
            Ok(o) => {
                state.last = Some(o);
                drop(state);
                self.usable_now(account_id)
            }
            Err(e) => {
                state.last = Some(Outcome::Failed(e.clone()));
                Err(e)
            }
        }
    }

    /// The current credential if it has not expired yet (after a refresh, or when a transient
    /// failure kept it), else a transient error.
    fn usable_now(&self, account_id: &str) -> Result<AccountAuth, TokenError> {
        let now = now_secs();
        match self.auth_if(account_id, |at| at > now)? {
            Current::Fresh(auth) => Ok(auth),
            Current::Stale => Err(TokenError::Expired {
                account_id: account_id.to_owned(),
            }),
        }
    }

    fn refresh_input(&self, account_id: &str) -> Result<RefreshInput, TokenError> {
        self.registry
            .with(account_id, |a| RefreshInput {
                method: a.auth_method,
                auth_region: a.auth_region.clone(),
                machine_id: a.machine_id.clone(),
                profile_arn: a.profile_arn.clone(),
                proxy: a.proxy.clone(),
                credentials: a.credentials.clone(),
            })
            .ok_or_else(|| TokenError::UnknownAccount(account_id.to_owned()))
    }

    /// The upstream refresh call, its failure classified.
    async fn call_refresh(
        &self,
        account_id: &str,
        input: &RefreshInput,
        refresh_token: &Secret,
    ) -> Result<RefreshedTokens, TokenError> {
        let headers = self.headers_for(account_id, &input.machine_id)?;
        // The refresh goes through the account's outbound proxy like its other calls.
        let client = match self.client.via_proxy(input.proxy.as_deref()) {
            Ok(client) => client,
            Err(source) => {
                return Err(TokenError::Refresh {
                    account_id: account_id.to_owned(),
                    failure: classify(input.method, &source),
                    source: Box::new(source),
                });
            }
        };
        let result = match input.method {
            AuthMethod::Social => {
                client
                    .refresh_social(&input.auth_region, &headers, refresh_token)
                    .await
            }
            AuthMethod::Idc => {
                let creds = &input.credentials;
                let (Some(client_id), Some(client_secret)) =
                    (creds.client_id.as_deref(), creds.client_secret.as_ref())
                else {
                    return Err(TokenError::MissingCredential {
                        account_id: account_id.to_owned(),
                        missing: "IdC client registration",
                    });
                };
                client
                    .refresh_idc(
                        &input.auth_region,
                        &headers,
                        client_id,
                        client_secret,
                        refresh_token,
                    )
                    .await
            }
            AuthMethod::ApiKey => {
                return Err(TokenError::MissingCredential {
                    account_id: account_id.to_owned(),
                    missing: "refresh token",
                });
            }
        };
        result.map_err(|source: UpstreamError| TokenError::Refresh {
            account_id: account_id.to_owned(),
            failure: classify(input.method, &source),
            source: Box::new(source),
        })
    }

    /// The credentials after a refresh: new access token and expiry, the rotated refresh token
    /// only when the answer had a non-empty one (spec §2.2).
    fn refreshed(&self, input: &RefreshInput, tokens: RefreshedTokens) -> Refreshed {
        let mut credentials = input.credentials.clone();
        let expires_in = tokens
            .expires_in
            .map_or(secs(self.config.default_expires_in), |s| {
                i64::try_from(s).unwrap_or(i64::MAX)
            });
        credentials.access_token = Some(tokens.access_token);
        credentials.expires_at = Some(now_secs().saturating_add(expires_in));
        if let Some(rotated) = tokens.refresh_token {
            credentials.refresh_token = Some(rotated);
        }
        let profile_arn = tokens
            .profile_arn
            .filter(|arn| input.profile_arn.as_deref() != Some(arn.as_str()));
        Refreshed {
            credentials,
            profile_arn,
        }
    }

    /// Saves durably, then publishes to the registry (and so to every caller).
    async fn save_and_apply(&self, account_id: &str, r: &Refreshed) -> Result<(), TokenError> {
        let persist = |e: SinkError| TokenError::Persist {
            account_id: account_id.to_owned(),
            detail: e.to_string(),
        };
        self.sink
            .save_credentials(account_id, &r.credentials)
            .await
            .map_err(persist)?;
        if let Some(arn) = &r.profile_arn {
            self.sink
                .save_profile_arn(account_id, arn)
                .await
                .map_err(persist)?;
        }
        if self
            .registry
            .set_credentials(account_id, r.credentials.clone(), r.profile_arn.clone())
        {
            Ok(())
        } else {
            Err(TokenError::UnknownAccount(account_id.to_owned()))
        }
    }

    /// Records a profile ARN found for an account that had none (spec §3.8): durably first,
    /// then in the registry, so the next [`access`](Self::access) carries it.
    pub async fn adopt_profile_arn(&self, account_id: &str, arn: &str) -> Result<(), TokenError> {
        self.sink
            .save_profile_arn(account_id, arn)
            .await
            .map_err(|e| TokenError::Persist {
                account_id: account_id.to_owned(),
                detail: e.to_string(),
            })?;
        self.registry
            .update(account_id, |a| a.profile_arn = Some(arn.to_owned()))
            .ok_or_else(|| TokenError::UnknownAccount(account_id.to_owned()))
    }

    /// True when the current access token has more than the transient grace left.
    fn has_grace(&self, input: &RefreshInput) -> bool {
        let until = now_secs().saturating_add(secs(self.config.transient_grace));
        input.credentials.access_token.is_some()
            && input.credentials.expires_at.is_some_and(|at| at > until)
    }
}
