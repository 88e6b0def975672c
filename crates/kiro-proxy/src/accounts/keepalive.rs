//! Keeping accounts alive in the background: the keep-alive pass (tokens refreshed ahead of
//! expiry, dead ones marked `needs_login`) and the quota task (`getUsageLimits` per account, as
//! scheduled by the pool). Neither runs on the request path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dialects::kiro::response::Reaction;
use futures::StreamExt;

use super::model::AuthMethod;
use super::pool::Pool;
use super::reaction::classify;
use super::tokens::TokenManager;
use crate::upstream::{AccountAuth, UpstreamError};

/// Longest sleep of the quota task between looks at its schedule (new accounts wake it at
/// once; this only bounds how long a missed wake-up could delay a fetch).
const QUOTA_IDLE: Duration = Duration::from_secs(60);
/// Quota fetches running at the same time.
const QUOTA_CONCURRENCY: usize = 4;

/// The background work of the pool.
#[derive(Clone)]
pub struct Maintenance {
    pool: Pool,
    tokens: Arc<TokenManager>,
    /// The token manager's refresh window (refresh when less than this is left).
    refresh_window: Duration,
}

impl std::fmt::Debug for Maintenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maintenance").finish_non_exhaustive()
    }
}

/// What one keep-alive pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub refreshed: Vec<String>,
    pub needs_login: Vec<String>,
    pub transient: Vec<String>,
    /// Accounts whose stale quota was scheduled for a fetch.
    pub stale_quota: usize,
}

impl Maintenance {
    pub fn new(pool: Pool, tokens: Arc<TokenManager>, refresh_window: Duration) -> Self {
        Self {
            pool,
            tokens,
            refresh_window,
        }
    }

    /// Runs the keep-alive pass now and then every `refresh_interval`, forever.
    pub async fn run_keepalive(self) {
        loop {
            let report = self.keepalive_pass().await;
            tracing::debug!(?report, "keep-alive pass done");
            // A new period (runtime settings) applies to the sleep under way: the next pass
            // comes the new period after the last one.
            let last = tokio::time::Instant::now();
            loop {
                let changed = self.pool.tuning_changed();
                let next = last + self.pool.config().refresh_interval;
                tokio::select! {
                    () = tokio::time::sleep_until(next) => break,
                    () = changed => {}
                }
            }
        }
    }

    /// One pass: refreshes every enabled OAuth account whose access token expires before the
    /// next pass would still find it fresh (refresh window + pass interval), a few at a time;
    /// marks permanent failures `needs_login`, logs transient ones; schedules a fetch of every
    /// stale quota.
    pub async fn keepalive_pass(&self) -> PassReport {
        let horizon = self.refresh_window + self.pool.config().refresh_interval;
        let now = crate::store::unix_now();
        let due: Vec<(String, bool)> = self
            .pool
            .registry()
            .snapshot()
            .into_iter()
            .filter(|a| a.enabled && a.auth_method != AuthMethod::ApiKey)
            .filter(|a| !self.pool.is_needs_login(&a.id))
            .filter_map(|a| {
                let left = a.credentials.expires_at.map_or(i64::MIN, |at| at - now);
                let horizon = i64::try_from(horizon.as_secs()).unwrap_or(i64::MAX);
                let window = i64::try_from(self.refresh_window.as_secs()).unwrap_or(i64::MAX);
                // Already inside the refresh window: `access` refreshes (and may keep the
                // current token on a transient failure); otherwise force it.
                (left < horizon).then_some((a.id, left < window))
            })
            .collect();
        let concurrency = self.pool.config().refresh_concurrency;
        let outcomes: Vec<(String, Result<(), super::TokenError>)> = futures::stream::iter(due)
            .map(|(id, stale)| async move {
                let result = if stale {
                    self.tokens.access(&id).await.map(drop)
                } else {
                    self.tokens.force_refresh(&id).await.map(drop)
                };
                (id, result)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut report = PassReport::default();
        for (id, result) in outcomes {
            match result {
                Ok(()) => report.refreshed.push(id),
                Err(e) if e.is_permanent() => {
                    self.pool.needs_login(&id, e.to_string());
                    report.needs_login.push(id);
                }
                Err(e) => {
                    tracing::warn!(account = %id, error = %e, "keep-alive refresh failed; will retry");
                    report.transient.push(id);
                }
            }
        }
        report.refreshed.sort();
        report.needs_login.sort();
        report.transient.sort();
        report.stale_quota = self.pool.mark_stale_quota_due();
        report
    }

    /// Fetches quotas as the pool schedules them, forever.
    pub async fn run_quota(self) {
        loop {
            let woken = self.pool.quota_schedule_changed();
            let (due, next) = self.pool.take_due_quota();
            if !due.is_empty() {
                let this = &self;
                futures::stream::iter(due)
                    .for_each_concurrent(QUOTA_CONCURRENCY, |id| async move {
                        this.refresh_quota(&id).await;
                    })
                    .await;
                continue;
            }
            let wait = next.map_or(QUOTA_IDLE, |at| {
                at.saturating_duration_since(Instant::now()).min(QUOTA_IDLE)
            });
            let _ = tokio::time::timeout(wait, woken).await;
        }
    }

    /// Fetches one account's quota into the pool. A rejected bearer is refreshed and the call
    /// retried once; a suspension marks the account `needs_login`; other failures are kept as
    /// the quota's last error.
    /// Looks up the profile of an account that has none, keeps it, and returns fresh credentials
    /// that carry it. `None` when there is no profile (normal for Builder ID) or the lookup
    /// failed; either way the caller goes on without one.
    async fn resolve_profile_arn(&self, id: &str, auth: &AccountAuth) -> Option<AccountAuth> {
        let list = match self.tokens.client().list_profiles(auth).await {
            Ok(list) => list,
            Err(e) => {
                tracing::debug!(account = id, error = %e, "ListAvailableProfiles failed");
                return None;
            }
        };
        let arn = kiro_wire::types::profiles::pick_profile(&list.profiles, auth.api_region())?
            .arn
            .clone();
        if let Err(e) = self.tokens.adopt_profile_arn(id, &arn).await {
            tracing::warn!(account = id, error = %e, "could not keep the resolved profile ARN");
            return None;
        }
        tracing::info!(account = id, profile_arn = %arn, "profile ARN resolved");
        self.tokens.access(id).await.ok()
    }

    pub async fn refresh_quota(&self, id: &str) {
        let mut auth = match self.tokens.access(id).await {
            Ok(auth) => auth,
            Err(e) => {
                if e.is_permanent() {
                    self.pool.needs_login(id, e.to_string());
                }
                self.pool.quota_failed(id, format!("no usable token: {e}"));
                return;
            }
        };
        let client = self.tokens.client();
        if auth.profile_arn().is_none() && !auth.is_api_key() {
            // getUsageLimits needs the account's own ARN (spec §3.6); IdC Enterprise accounts
            // imported from the IDE arrive without one (spec §3.8).
            if let Some(fresh) = self.resolve_profile_arn(id, &auth).await {
                auth = fresh;
            }
        }
        let mut retried = false;
        loop {
            let arn = auth.profile_arn().map(str::to_owned);
            match client.get_usage_limits(&auth, arn.as_deref()).await {
                Ok(resp) => {
                    self.pool.quota_fetched(id, &resp);
                    return;
                }
                Err(e) => {
                    let fault = classify(&e);
                    if fault.reaction == Reaction::RefreshAndRetryOnce && !retried {
                        retried = true;
                        match self.tokens.refresh_rejected(&auth).await {
                            Ok(fresh) => {
                                auth = fresh;
                                continue;
                            }
                            Err(te) => {
                                if te.is_permanent() {
                                    self.pool.needs_login(id, te.to_string());
                                }
                                self.pool.quota_failed(id, describe(&e, fault.label));
                                return;
                            }
                        }
                    }
                    if fault.label == "suspended" {
                        self.pool.needs_login(id, fault.label);
                    }
                    self.pool.quota_failed(id, describe(&e, fault.label));
                    return;
                }
            }
        }
    }
}

fn describe(e: &UpstreamError, label: &str) -> String {
    format!("{label}: {e}")
}
