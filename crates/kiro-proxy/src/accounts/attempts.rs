//! One call's attempts across the pool (spec §8.1), shared by every path that talks to the
//! upstream for a client or the operator (chat, MCP tools): which account next, what a failure
//! does to the account that met it, and whether another attempt follows.
//!
//! The caller owns what is its own (making the attempt, classifying its failure, logging,
//! tracing, the error its client finally hears); this type owns the bookkeeping: the failover
//! budget, the accounts already tried or refreshed, the lease kept for a same-account retry, the
//! account to avoid after a transient fault, and the backoff.

use std::time::Duration;

use dialects::kiro::response::{Reaction, UpstreamFault};

use super::TokenError;
use super::failover::Budget;
use super::lease::{Lease, Pick};
use super::pool::{Pool, Want};
use super::reaction::counts_against_account;
use super::tokens::TokenManager;
use crate::config::PoolConfig;
use crate::upstream::AccountAuth;

/// What [`Attempts::next`] found.
#[derive(Debug)]
pub enum Next {
    /// An account with usable credentials: make the attempt.
    Ready(Lease, AccountAuth),
    /// No further attempt may start (attempts or time spent).
    Spent,
    /// Every usable account is at its concurrency cap.
    Busy,
    /// No account can serve the call now (`plan_excluded`: how many were left out only
    /// because their plan lacks the model).
    Unavailable { plan_excluded: usize },
}

/// What follows a failed attempt.
#[derive(Debug)]
pub enum After {
    /// Another attempt (on the same account after a refresh, or on another one).
    Retry,
    /// The failure is the client's (spec: fail fast); the lease is handed back in case the
    /// caller has a repair of its own to try on the same account ([`Attempts::retry_same`]).
    ClientError(Lease),
}

/// The attempts of one call.
#[derive(Debug)]
pub struct Attempts {
    budget: Budget,
    default_cooldown: Duration,
    lease_wait: Duration,
    tried: Vec<String>,
    refreshed: Vec<String>,
    transient: u32,
    /// A same-account retry (after a refresh or a caller's repair) keeps its lease.
    again: Option<Lease>,
    /// After a transient fault, the next selection prefers another account.
    avoid: Option<String>,
}

impl Attempts {
    /// Attempts under `config` (the thresholds in effect when the call arrived).
    pub fn new(config: &PoolConfig) -> Self {
        Self {
            budget: Budget::new(config),
            default_cooldown: config.default_cooldown,
            lease_wait: config.lease_wait,
            tried: Vec::new(),
            refreshed: Vec::new(),
            transient: 0,
            again: None,
            avoid: None,
        }
    }

    /// Upstream attempts started so far.
    pub fn count(&self) -> u32 {
        self.budget.attempts()
    }

    /// The next account to try, with its credentials: the lease kept for a same-account retry,
    /// else a selection for `model` (sticky to `session`) that skips the accounts tried. An
    /// account whose credentials cannot be had is dealt with here (needs a login when that is
    /// permanent, else cools down) and skipped; `on_token_error` hears of each.
    pub async fn next(
        &mut self,
        pool: &Pool,
        tokens: &TokenManager,
        model: &str,
        session: Option<&str>,
        mut on_token_error: impl FnMut(&str, &TokenError),
    ) -> Next {
        loop {
            if self.budget.spent() {
                return Next::Spent;
            }
            let mut lease = match self.again.take() {
                Some(lease) => lease,
                None => {
                    let want = Want {
                        model,
                        session,
                        tried: &self.tried,
                        avoid: self.avoid.as_deref(),
                    };
                    let wait = self.lease_wait.min(self.budget.remaining());
                    match pool.acquire_or_wait(&want, wait).await {
                        Pick::Leased(lease) => lease,
                        Pick::Busy => return Next::Busy,
                        Pick::Unavailable { plan_excluded } => {
                            return Next::Unavailable { plan_excluded };
                        }
                    }
                }
            };
            let account_id = lease.account_id().to_owned();
            match tokens.access(&account_id).await {
                Ok(auth) => {
                    self.budget.note_attempt();
                    return Next::Ready(lease, auth);
                }
                Err(e) => {
                    on_token_error(&account_id, &e);
                    lease.failed(e.label(), &e.to_string(), false);
                    if e.is_permanent() {
                        pool.needs_login(&account_id, e.to_string());
                    } else {
                        pool.cooldown(&account_id, self.default_cooldown, e.to_string());
                    }
                    self.tried.push(account_id);
                }
            }
        }
    }

    /// The next attempt goes to the same account, on `lease` (a caller's repair of the request).
    pub fn retry_same(&mut self, lease: Lease) {
        self.again = Some(lease);
    }

    /// Applies a failed attempt on `lease` (made with `auth`): the fault's effect on the
    /// account, then the retry plan — a forced refresh and the same account once after a
    /// rejected token (a second rejection: the account needs a login), a pause and preferably
    /// another account after a transient fault, another account after throttling, exhaustion,
    /// a dead login or an unknown model.
    pub async fn failed(
        &mut self,
        mut lease: Lease,
        fault: &UpstreamFault,
        auth: &AccountAuth,
        pool: &Pool,
        tokens: &TokenManager,
    ) -> After {
        account_effect(pool, &mut lease, fault, self.default_cooldown);
        let account_id = lease.account_id().to_owned();
        match fault.reaction {
            Reaction::FailFastClientError => return After::ClientError(lease),
            Reaction::RefreshAndRetryOnce => {
                if self.refreshed.contains(&account_id) {
                    // Rejected again after a refresh (or an API key rejected twice).
                    lease.failed(fault.label, &fault.message, false);
                    pool.needs_login(&account_id, fault.label);
                    self.tried.push(account_id);
                } else {
                    self.refreshed.push(account_id.clone());
                    match tokens.refresh_rejected(auth).await {
                        Ok(_) => self.again = Some(lease),
                        Err(e) => {
                            lease.failed(e.label(), &e.to_string(), false);
                            if e.is_permanent() {
                                pool.needs_login(&account_id, e.to_string());
                            }
                            self.tried.push(account_id);
                        }
                    }
                }
            }
            Reaction::TransientRetryWithBackoff => {
                self.transient += 1;
                // The slot is free while waiting; the next selection prefers another account.
                drop(lease);
                self.avoid = Some(account_id);
                tokio::time::sleep(self.budget.backoff(self.transient)).await;
            }
            Reaction::AccountCooldownAndSwitch { .. }
            | Reaction::AccountExhaustedUntilReset
            | Reaction::AccountDisabledNeedsRelogin
            | Reaction::InvalidModelTryOther => self.tried.push(account_id),
        }
        After::Retry
    }
}

/// A fault's effect on the account whose lease met it (spec §8.1): a client error frees the
/// slot without blame; throttling cools the account down (for the upstream's `Retry-After`, else
/// `default_cooldown`); exhaustion waits for the reset date; a dead login waits for an operator;
/// a transient fault or an unknown model counts against its circuit where it should.
pub fn account_effect(
    pool: &Pool,
    lease: &mut Lease,
    fault: &UpstreamFault,
    default_cooldown: Duration,
) {
    let id = lease.account_id().to_owned();
    match fault.reaction {
        Reaction::FailFastClientError => lease.client_error(),
        Reaction::RefreshAndRetryOnce => {}
        Reaction::InvalidModelTryOther | Reaction::TransientRetryWithBackoff => {
            lease.failed(fault.label, &fault.message, counts_against_account(fault));
        }
        Reaction::AccountCooldownAndSwitch { cooldown_secs } => {
            lease.failed(fault.label, &fault.message, counts_against_account(fault));
            let cooldown = cooldown_secs.map_or(default_cooldown, Duration::from_secs);
            pool.cooldown(&id, cooldown, fault.label);
        }
        Reaction::AccountExhaustedUntilReset => {
            lease.failed(fault.label, &fault.message, false);
            pool.exhausted_until_reset(&id, fault.label);
        }
        Reaction::AccountDisabledNeedsRelogin => {
            lease.failed(fault.label, &fault.message, false);
            pool.needs_login(&id, fault.label);
        }
    }
}
