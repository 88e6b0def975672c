//! Which account serves the next attempt, and what upstream failures do to an account.
//!
//! Selection here is deliberately simple (round robin over usable accounts); the health model
//! is what matters for correctness: one selection per attempt, accounts that failed in a way
//! another account can avoid are skipped until their cooldown ends, and accounts that need an
//! operator stay out of rotation.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::registry::AccountRegistry;

/// Why an account is out of rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Throttled or failing: back after the instant.
    Cooldown { until: Instant, reason: String },
    /// Monthly credits used up: back after the instant (the reset date).
    Exhausted { until: Instant, reason: String },
    /// Refresh token dead, account suspended, or access denied: an operator must act.
    NeedsLogin { reason: String },
}

/// Health of the pool's accounts, keyed by account id.
#[derive(Debug)]
pub struct Pool {
    registry: Arc<AccountRegistry>,
    health: std::sync::Mutex<HashMap<String, Unavailable>>,
    cursor: AtomicUsize,
}

impl Pool {
    pub fn new(registry: Arc<AccountRegistry>) -> Self {
        Pool {
            registry,
            health: std::sync::Mutex::new(HashMap::new()),
            cursor: AtomicUsize::new(0),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, HashMap<String, Unavailable>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still usable.
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `id` may serve now (enabled and not out of rotation).
    fn usable(&self, id: &str, enabled: bool, now: Instant) -> bool {
        if !enabled {
            return false;
        }
        match self.health().get(id) {
            None => true,
            Some(Unavailable::Cooldown { until, .. } | Unavailable::Exhausted { until, .. }) => {
                *until <= now
            }
            Some(Unavailable::NeedsLogin { .. }) => false,
        }
    }

    /// Picks the next usable account not in `tried`, rotating so that load spreads evenly.
    pub fn pick(&self, tried: &[String]) -> Option<String> {
        let now = Instant::now();
        let mut accounts: Vec<(String, bool)> = self
            .registry
            .snapshot()
            .into_iter()
            .map(|a| (a.id, a.enabled))
            .collect();
        if accounts.is_empty() {
            return None;
        }
        // A stable order, so the rotation cursor means the same thing on every call.
        accounts.sort_by(|a, b| a.0.cmp(&b.0));
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        let n = accounts.len();
        (0..n)
            .map(|i| &accounts[(start + i) % n])
            .find(|(id, enabled)| !tried.contains(id) && self.usable(id, *enabled, now))
            .map(|(id, _)| id.clone())
    }

    /// Number of accounts that could serve a request now.
    pub fn usable_count(&self) -> usize {
        let now = Instant::now();
        self.registry
            .snapshot()
            .iter()
            .filter(|a| self.usable(&a.id, a.enabled, now))
            .count()
    }

    /// Number of accounts in the pool.
    pub fn len(&self) -> usize {
        self.registry.len()
    }

    pub fn is_empty(&self) -> bool {
        self.registry.is_empty()
    }

    /// The earliest moment an account out of rotation comes back, if any will by itself.
    pub fn next_available_in(&self) -> Option<Duration> {
        let now = Instant::now();
        self.health()
            .values()
            .filter_map(|u| match u {
                Unavailable::Cooldown { until, .. } | Unavailable::Exhausted { until, .. } => {
                    Some(until.saturating_duration_since(now))
                }
                Unavailable::NeedsLogin { .. } => None,
            })
            .min()
    }

    pub fn cooldown(&self, id: &str, dur: Duration, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(account = id, secs = dur.as_secs(), %reason, "account cooling down");
        self.health().insert(
            id.to_owned(),
            Unavailable::Cooldown {
                until: Instant::now() + dur,
                reason,
            },
        );
    }

    pub fn exhausted(&self, id: &str, dur: Duration, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(account = id, secs = dur.as_secs(), %reason, "account out of credits");
        self.health().insert(
            id.to_owned(),
            Unavailable::Exhausted {
                until: Instant::now() + dur,
                reason,
            },
        );
    }

    pub fn needs_login(&self, id: &str, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::error!(account = id, %reason, "account needs an operator (re-login or unlock)");
        self.health()
            .insert(id.to_owned(), Unavailable::NeedsLogin { reason });
    }

    /// The account served a request: it is healthy again.
    pub fn succeeded(&self, id: &str) {
        let mut health = self.health();
        if matches!(health.get(id), Some(Unavailable::Cooldown { .. })) {
            health.remove(id);
        }
    }

    /// Forget an account's health (it was replaced or re-imported).
    pub fn reset(&self, id: &str) {
        self.health().remove(id);
    }

    /// Current out-of-rotation state of an account.
    pub fn state(&self, id: &str) -> Option<Unavailable> {
        self.health().get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Account, AuthMethod, Credentials};

    fn account(id: &str, enabled: bool) -> Account {
        Account {
            id: id.into(),
            auth_method: AuthMethod::ApiKey,
            label: None,
            enabled,
            api_region: "us-east-1".into(),
            auth_region: "us-east-1".into(),
            profile_arn: None,
            start_url: None,
            machine_id: "0".repeat(64),
            credentials: Credentials::default(),
        }
    }

    fn pool(accounts: &[(&str, bool)]) -> Pool {
        let registry = Arc::new(AccountRegistry::new());
        registry.load(accounts.iter().map(|(id, en)| account(id, *en)));
        Pool::new(registry)
    }

    #[test]
    fn rotates_over_usable_accounts_and_skips_tried() {
        let p = pool(&[("a", true), ("b", true), ("c", false)]);
        let first = p.pick(&[]).unwrap();
        let second = p.pick(&[]).unwrap();
        assert_ne!(first, second);
        assert!(["a", "b"].contains(&first.as_str()));
        assert_eq!(p.pick(&["a".into()]).as_deref(), Some("b"));
        assert_eq!(p.pick(&["a".into(), "b".into()]), None);
        assert_eq!(p.usable_count(), 2);
    }

    #[test]
    fn cooldown_and_login_take_accounts_out() {
        let p = pool(&[("a", true), ("b", true)]);
        p.cooldown("a", Duration::from_secs(60), "429");
        p.needs_login("b", "invalid_grant");
        assert_eq!(p.pick(&[]), None);
        assert_eq!(p.usable_count(), 0);
        assert!(p.next_available_in().unwrap() <= Duration::from_secs(60));
        p.cooldown("a", Duration::ZERO, "expired");
        assert_eq!(p.pick(&[]).as_deref(), Some("a"));
        p.succeeded("a");
        assert_eq!(p.state("a"), None);
        assert!(matches!(p.state("b"), Some(Unavailable::NeedsLogin { .. })));
    }
}
