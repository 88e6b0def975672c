//! The pool: which account serves the next attempt, and what happens to an account's health.
//!
//! One selection per attempt ([`Pool::acquire`]) yields a [`Lease`]: the attempt's outcome is
//! recorded through it (statistics, circuit breaker), and dropping it frees the account's
//! concurrency slot, however the reply ended. Candidates are the accounts that are enabled, have
//! a weight, do not need a login, are not cooling down or out of credits, whose circuit admits a
//! request, whose plan allows the model and that are under their concurrency cap. Among them a
//! smooth weighted round robin chooses (see `accounts::select`), weights being the operator's
//! weight × the remaining quota relative to the candidates' average (unknown quota counts as the
//! average). A client session sticks to its account while that account is a candidate.
//!
//! All state sits behind one `std` mutex held for short, synchronous sections (never across an
//! `.await`). Cooldowns, exhaustion and login problems are in `health.rs`, quota facts and
//! fetch scheduling in `quota_schedule.rs`, the persisted status in `status_sync.rs`, the admin
//! view in `view.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::circuit::{Admission, Circuit};
pub(super) use super::health::Health;
pub use super::health::Unavailable;
use super::lease::{Lease, Pick};
use super::quota::QuotaCache;
use super::registry::AccountRegistry;
use super::select::SmoothWeighted;
use super::stats::AccountStats;
use super::sticky::StickySessions;
use super::tuning::{Tuning, TuningCell};
use crate::config::PoolConfig;

/// The pool's state of one account.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) weight: u32,
    pub(super) health: Option<Health>,
    pub(super) circuit: Circuit,
    pub(super) quota: QuotaCache,
    pub(super) in_flight: u32,
    pub(super) stats: AccountStats,
    /// The status the store holds as far as this process knows (`None`: never read or written).
    pub(super) persisted: Option<String>,
}

impl Slot {
    fn new(now: Instant) -> Self {
        let mut quota = QuotaCache::default();
        quota.due_by(now);
        Self {
            weight: 1,
            health: None,
            circuit: Circuit::default(),
            quota,
            in_flight: 0,
            stats: AccountStats::default(),
            persisted: None,
        }
    }

    /// Sets a health state unless a higher-ranked one is in force; a cooldown or exhaustion
    /// never shortens a running one of the same kind.
    pub(super) fn set_health(&mut self, new: Health, now: Instant) {
        if let Some(cur) = &self.health {
            if cur.in_force(now) {
                if cur.rank() > new.rank() {
                    return;
                }
                if let (
                    Health::Cooldown { until: a, .. } | Health::Exhausted { until: a, .. },
                    Health::Cooldown { until: b, .. } | Health::Exhausted { until: b, .. },
                ) = (cur, &new)
                {
                    if cur.rank() == new.rank() && a > b {
                        return;
                    }
                }
            }
        }
        self.health = Some(new);
    }
}

/// What an account contributes to a pick.
pub(super) enum Verdict {
    Candidate {
        weight: f64,
    },
    /// Usable except for its concurrency cap.
    Busy,
    /// Usable except that its plan does not allow the model.
    Plan,
    Out,
}

pub(super) struct State {
    pub(super) accounts: HashMap<String, Slot>,
    swrr: SmoothWeighted,
    pub(super) sticky: StickySessions,
}

impl State {
    pub(super) fn slot(&mut self, id: &str, now: Instant) -> &mut Slot {
        self.accounts
            .entry(id.to_owned())
            .or_insert_with(|| Slot::new(now))
    }
}

pub(super) struct Shared {
    pub(super) registry: Arc<AccountRegistry>,
    /// The thresholds, changeable at runtime (see `accounts::tuning`).
    pub(super) tuning: TuningCell,
    pub(super) state: Mutex<State>,
    /// A lease ended: requests waiting for a free slot look again.
    pub(super) released: tokio::sync::Notify,
    /// A quota fetch became due earlier than the quota task expected.
    pub(super) quota_wake: tokio::sync::Notify,
    /// An account's health changed: its persisted status may need writing.
    pub(super) status_wake: tokio::sync::Notify,
    /// The thresholds changed.
    pub(super) tuning_changed: tokio::sync::Notify,
}

/// The pool's accounts and their health. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Pool {
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("accounts", &self.len())
            .finish_non_exhaustive()
    }
}

/// What one attempt asks of the pool.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// Upstream model id (for the plan check).
    pub model: &'a str,
    /// Client session key (stickiness), when the client sent one.
    pub session: Option<&'a str>,
    /// Accounts this request already gave up on.
    pub tried: &'a [String],
    /// An account to pass over when another candidate exists (the one a transient fault just
    /// hit: the retry goes elsewhere if it can).
    pub avoid: Option<&'a str>,
}

impl Pool {
    pub fn new(registry: Arc<AccountRegistry>, config: PoolConfig) -> Self {
        let sticky = StickySessions::new(config.sticky_ttl, config.sticky_max_sessions);
        Pool {
            shared: Arc::new(Shared {
                registry,
                tuning: TuningCell::new(config),
                state: Mutex::new(State {
                    accounts: HashMap::new(),
                    swrr: SmoothWeighted::default(),
                    sticky,
                }),
                released: tokio::sync::Notify::new(),
                quota_wake: tokio::sync::Notify::new(),
                status_wake: tokio::sync::Notify::new(),
                tuning_changed: tokio::sync::Notify::new(),
            }),
        }
    }

    pub fn registry(&self) -> &Arc<AccountRegistry> {
        &self.shared.registry
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves whole values behind: a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Accounts of the registry with their enabled flag, in a stable order (ids sorted), so the
    /// round robin's tie-breaks mean the same thing on every pick.
    fn roster(&self) -> Vec<(String, bool)> {
        let registry = &self.shared.registry;
        let mut ids = registry.ids();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| registry.with(&id, |a| a.enabled).map(|en| (id, en)))
            .collect()
    }

    /// How `slot` stands for a request for `model` at `now` (before the weight is normalised),
    /// under the thresholds `t`.
    fn verdict(
        t: &Tuning,
        slot: &Slot,
        enabled: bool,
        model: Option<&str>,
        now: Instant,
    ) -> Verdict {
        if !enabled || slot.weight == 0 {
            return Verdict::Out;
        }
        if slot.health_blocks(now) {
            return Verdict::Out;
        }
        if slot.circuit.would_admit(now, &t.circuit) == Admission::No {
            return Verdict::Out;
        }
        let quota = slot.quota.quota.as_ref();
        if let (Some(q), Some(m)) = (quota, model) {
            if !q.allows(m) {
                return Verdict::Plan;
            }
        }
        if slot.in_flight >= t.pool.max_concurrency {
            return Verdict::Busy;
        }
        let weight = f64::from(slot.weight);
        Verdict::Candidate { weight }
    }

    /// One selection for one attempt.
    pub fn acquire(&self, want: &Want<'_>) -> Pick {
        let now = Instant::now();
        let tuning = self.tuning();
        let roster = self.roster();
        let mut state = self.lock();
        let mut candidates: Vec<(&str, f64, Option<f64>)> = Vec::new();
        let (mut busy, mut plan) = (0usize, 0usize);
        for (id, enabled) in &roster {
            if want.tried.contains(id) {
                continue;
            }
            let slot = state.slot(id, now);
            match Self::verdict(&tuning, slot, *enabled, Some(want.model), now) {
                Verdict::Candidate { weight } => {
                    let spendable = slot
                        .quota
                        .quota
                        .as_ref()
                        .filter(|q| q.metered)
                        .map(super::quota::Quota::spendable);
                    candidates.push((id, weight, spendable));
                }
                Verdict::Busy => busy += 1,
                Verdict::Plan => plan += 1,
                Verdict::Out => {}
            }
        }
        // Passed over for a retry only: a session bound to it stays bound.
        let mut avoided = false;
        if candidates.len() > 1 {
            if let Some(avoid) = want.avoid {
                let before = candidates.len();
                candidates.retain(|c| c.0 != avoid);
                avoided = candidates.len() < before;
            }
        }
        if candidates.is_empty() {
            return if busy > 0 {
                Pick::Busy
            } else {
                Pick::Unavailable {
                    plan_excluded: plan,
                }
            };
        }
        // Effective weight: operator weight × remaining quota / the candidates' average; an
        // unknown quota counts as the average. A floor keeps a nearly empty account alive.
        let known: Vec<f64> = candidates.iter().filter_map(|c| c.2).collect();
        let mean = if known.is_empty() {
            0.0
        } else {
            known.iter().sum::<f64>() / known.len() as f64
        };
        let weighted: Vec<(&str, f64)> = candidates
            .iter()
            .map(|(id, w, spendable)| {
                let factor = match spendable {
                    Some(s) if mean > 0.0 => (s / mean).max(0.001),
                    _ => 1.0,
                };
                (*id, w * factor)
            })
            .collect();
        let session = want.session.filter(|_| tuning.pool.sticky_sessions);
        let bound = session
            .and_then(|s| state.sticky.get(s, now))
            .map(str::to_owned);
        let Some(i) = state.swrr.pick(&weighted, bound.as_deref()) else {
            return Pick::Unavailable { plan_excluded: 0 };
        };
        let id = weighted[i].0.to_owned();
        if let Some(s) = session {
            let keep = avoided && bound.is_some() && bound.as_deref() == want.avoid;
            if !keep {
                state.sticky.bind(s, &id, now);
            }
        }
        let circuit_config = &tuning.circuit;
        let slot = state.slot(&id, now);
        let admission = slot.circuit.admit(now, circuit_config);
        slot.in_flight += 1;
        slot.stats.requests += 1;
        slot.stats.last_used_at = Some(crate::store::unix_now());
        drop(state);
        Pick::Leased(Lease::new(self.clone(), id, admission))
    }

    /// [`Pool::acquire`], waiting up to `max_wait` for a free slot while every candidate is at
    /// its concurrency cap (`Pick::Busy` only when the wait ran out).
    pub async fn acquire_or_wait(&self, want: &Want<'_>, max_wait: Duration) -> Pick {
        let deadline = Instant::now() + max_wait;
        loop {
            // Created before the check, so a release between the check and the wait is seen.
            let released = self.shared.released.notified();
            match self.acquire(want) {
                Pick::Busy => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Pick::Busy;
                    }
                    let _ = tokio::time::timeout(left, released).await;
                }
                other => return other,
            }
        }
    }

    /// Number of accounts that could serve a request now (ignoring plans and concurrency).
    pub fn usable_count(&self) -> usize {
        let now = Instant::now();
        let tuning = self.tuning();
        let roster = self.roster();
        let mut state = self.lock();
        roster
            .iter()
            .filter(|(id, enabled)| {
                let slot = state.slot(id, now);
                matches!(
                    Self::verdict(&tuning, slot, *enabled, None, now),
                    Verdict::Candidate { .. } | Verdict::Busy
                )
            })
            .count()
    }

    /// Forgets an account entirely (removed from the pool).
    pub fn forget(&self, id: &str) {
        let mut state = self.lock();
        state.accounts.remove(id);
        state.swrr.forget(id);
        state.sticky.forget_account(id);
    }

    /// Number of accounts in the pool.
    pub fn len(&self) -> usize {
        self.shared.registry.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shared.registry.is_empty()
    }

    /// The earliest moment an enabled account out of rotation comes back by itself (cooldown,
    /// exhaustion or an open circuit ending), if any will.
    pub fn next_available_in(&self) -> Option<Duration> {
        let now = Instant::now();
        let roster = self.roster();
        let state = self.lock();
        roster
            .iter()
            .filter(|(_, enabled)| *enabled)
            .filter_map(|(id, _)| {
                let slot = state.accounts.get(id)?;
                if slot.weight == 0 {
                    return None;
                }
                let health = match &slot.health {
                    Some(Health::NeedsLogin { .. }) => return None,
                    Some(Health::Cooldown { until, .. }) if *until > now => Some(*until),
                    // Past its date and awaiting the verifying fetch: back very soon.
                    Some(Health::Exhausted { .. }) => slot.exhausted_until(now).map(|u| u.max(now)),
                    _ => None,
                };
                let circuit = slot.circuit.open_until(now);
                let back = match (health, circuit) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                }?;
                Some(back.saturating_duration_since(now))
            })
            .min()
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
            proxy: None,
            credentials: Credentials::default(),
        }
    }

    fn pool(accounts: &[(&str, bool)]) -> Pool {
        let registry = Arc::new(AccountRegistry::new());
        registry.load(accounts.iter().map(|(id, en)| account(id, *en)));
        Pool::new(registry, PoolConfig::default())
    }

    fn pick(p: &Pool, tried: &[String]) -> Option<Lease> {
        match p.acquire(&Want {
            model: "claude-sonnet-4.5",
            session: None,
            tried,
            avoid: None,
        }) {
            Pick::Leased(l) => Some(l),
            _ => None,
        }
    }

    #[test]
    fn rotates_over_usable_accounts_and_skips_tried() {
        let p = pool(&[("a", true), ("b", true), ("c", false)]);
        let first = pick(&p, &[]).unwrap().account_id().to_owned();
        let second = pick(&p, &[]).unwrap().account_id().to_owned();
        assert_ne!(first, second);
        assert!(["a", "b"].contains(&first.as_str()));
        assert_eq!(
            pick(&p, &["a".into()]).map(|l| l.account_id().to_owned()),
            Some("b".into())
        );
        assert!(pick(&p, &["a".into(), "b".into()]).is_none());
        assert_eq!(p.usable_count(), 2);
    }

    #[test]
    fn cooldown_and_login_take_accounts_out() {
        let p = pool(&[("a", true), ("b", true)]);
        p.cooldown("a", Duration::from_secs(60), "429");
        p.needs_login("b", "invalid_grant");
        assert!(pick(&p, &[]).is_none());
        assert_eq!(p.usable_count(), 0);
        assert!(p.next_available_in().unwrap() <= Duration::from_secs(60));
        // A login problem outranks a cooldown; a shorter cooldown does not shorten a longer one.
        p.cooldown("b", Duration::from_secs(1), "429");
        assert!(p.is_needs_login("b"));
        p.cooldown("a", Duration::from_secs(1), "429");
        assert!(p.next_available_in().unwrap() > Duration::from_secs(30));
        p.reset("a");
        assert_eq!(pick(&p, &[]).unwrap().account_id(), "a");
        p.succeeded("a");
        assert_eq!(p.state("a"), None);
        assert!(matches!(p.state("b"), Some(Unavailable::NeedsLogin { .. })));
    }

    #[test]
    fn concurrency_cap_and_lease_release() {
        let registry = Arc::new(AccountRegistry::new());
        registry.load([account("a", true)]);
        let p = Pool::new(
            registry,
            PoolConfig {
                max_concurrency: 2,
                ..PoolConfig::default()
            },
        );
        let l1 = pick(&p, &[]).unwrap();
        let _l2 = pick(&p, &[]).unwrap();
        assert!(matches!(
            p.acquire(&Want {
                model: "m",
                session: None,
                tried: &[],
                avoid: None,
            }),
            Pick::Busy
        ));
        drop(l1);
        assert!(pick(&p, &[]).is_some());
    }

    #[test]
    fn a_session_sticks_and_survives_a_retry_elsewhere() {
        let p = pool(&[("a", true), ("b", true), ("c", true)]);
        let want = |avoid| Want {
            model: "m",
            session: Some("s1"),
            tried: &[],
            avoid,
        };
        let first = match p.acquire(&want(None)) {
            Pick::Leased(l) => l.account_id().to_owned(),
            other => panic!("{other:?}"),
        };
        for _ in 0..3 {
            match p.acquire(&want(None)) {
                Pick::Leased(l) => assert_eq!(l.account_id(), first),
                other => panic!("{other:?}"),
            }
        }
        // A retry passes over it, without moving the session.
        match p.acquire(&want(Some(first.as_str()))) {
            Pick::Leased(l) => assert_ne!(l.account_id(), first),
            other => panic!("{other:?}"),
        }
        match p.acquire(&want(None)) {
            Pick::Leased(l) => assert_eq!(l.account_id(), first),
            other => panic!("{other:?}"),
        }
        // Out of rotation: the session moves for good.
        p.cooldown(&first, Duration::from_secs(60), "429");
        let moved = match p.acquire(&want(None)) {
            Pick::Leased(l) => l.account_id().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_ne!(moved, first);
        p.reset(&first);
        match p.acquire(&want(None)) {
            Pick::Leased(l) => assert_eq!(l.account_id(), moved),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn weight_zero_drains_an_account() {
        let p = pool(&[("a", true), ("b", true)]);
        p.set_weight("a", 0);
        for _ in 0..4 {
            assert_eq!(pick(&p, &[]).unwrap().account_id(), "b");
        }
    }
}
