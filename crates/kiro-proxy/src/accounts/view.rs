//! [`PoolAccountView`]: what the pool knows about one account, for `GET /api/accounts`. Times
//! are epoch seconds; nothing here is secret.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::circuit::{CircuitConfig, CircuitState};
use super::pool::{Health, Pool, Slot};
use super::quota::Quota;
use super::stats::AccountStats;

/// The pool's state of one account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolAccountView {
    pub id: String,
    /// One word: `active`, `disabled`, `drained` (weight 0), `needs_login`, `exhausted`,
    /// `cooldown`, `circuit_open`, `half_open` or `busy` (at its concurrency cap).
    pub state: &'static str,
    pub enabled: bool,
    pub weight: u32,
    pub cooldown: Option<Until>,
    pub exhausted: Option<Until>,
    /// Why an operator must act, when one must.
    pub needs_login: Option<String>,
    pub circuit: CircuitView,
    pub quota: QuotaView,
    pub concurrency: ConcurrencyView,
    pub stats: AccountStats,
}

/// A state that ends by itself.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Until {
    /// Epoch seconds.
    pub until: i64,
    pub remaining_secs: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitView {
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    /// Outcomes and failures in the failure-rate window.
    pub window_requests: u32,
    pub window_failures: u32,
    /// Epoch seconds when an open circuit lets probes through.
    pub open_until: Option<i64>,
    pub probes_in_flight: u32,
    /// Times it opened since the process started.
    pub opened_total: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaView {
    /// The last answer (with the credits metered since already deducted), if any.
    #[serde(flatten)]
    pub figures: Option<Quota>,
    /// `limit − used`, never negative.
    pub remaining: Option<f64>,
    /// Epoch seconds of the answer, and its age.
    pub fetched_at: Option<i64>,
    pub age_secs: Option<u64>,
    /// Older than the refresh interval (or never fetched).
    pub stale: bool,
    /// Credits metered since the answer.
    pub deducted_since_fetch: f64,
    /// The last failed fetch (kept until one succeeds).
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// Seconds until the next scheduled fetch.
    pub next_fetch_in_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConcurrencyView {
    pub in_flight: u32,
    pub limit: u32,
}

/// `at` (monotonic) as epoch seconds.
fn epoch(at: Instant, now: Instant, now_unix: i64) -> i64 {
    let ahead = at.saturating_duration_since(now).as_secs_f64().ceil();
    now_unix + ahead as i64
}

fn until(at: Instant, reason: &str, now: Instant, now_unix: i64) -> Until {
    Until {
        until: epoch(at, now, now_unix),
        remaining_secs: at.saturating_duration_since(now).as_secs_f64().ceil() as u64,
        reason: reason.to_owned(),
    }
}

impl Pool {
    /// The pool's view of account `id` (also of an account the pool has not seen yet: a fresh
    /// state). `None` when the account is not in the pool.
    pub fn view(&self, id: &str) -> Option<PoolAccountView> {
        let enabled = self.shared.registry.with(id, |a| a.enabled)?;
        let now = Instant::now();
        let now_unix = crate::store::unix_now();
        let tuning = self.tuning();
        let limits = Limits {
            max_concurrency: tuning.pool.max_concurrency,
            quota_interval: tuning.pool.quota_interval,
            circuit: &tuning.circuit,
        };
        let mut state = self.lock();
        let slot = state.slot(id, now);
        Some(build(id, slot, enabled, &limits, now, now_unix))
    }

    /// Views of every account, by id.
    pub fn views(&self) -> Vec<PoolAccountView> {
        let mut ids = self.shared.registry.ids();
        ids.sort();
        ids.iter().filter_map(|id| self.view(id)).collect()
    }
}

/// The configuration a view is read against.
struct Limits<'a> {
    max_concurrency: u32,
    quota_interval: Duration,
    circuit: &'a CircuitConfig,
}

fn build(
    id: &str,
    slot: &Slot,
    enabled: bool,
    limits: &Limits<'_>,
    now: Instant,
    now_unix: i64,
) -> PoolAccountView {
    let max_concurrency = limits.max_concurrency;
    let (mut cooldown, mut exhausted, mut needs_login) = (None, None, None);
    match &slot.health {
        Some(Health::Cooldown { until: at, reason }) if *at > now => {
            cooldown = Some(until(*at, reason, now, now_unix));
        }
        Some(Health::Exhausted {
            until: at, reason, ..
        }) if slot.exhausted_until(now).is_some() => {
            exhausted = Some(until(*at, reason, now, now_unix));
        }
        Some(Health::NeedsLogin { reason }) => needs_login = Some(reason.clone()),
        _ => {}
    }
    let circuit_state = slot.circuit.state(now);
    let (window_requests, window_failures) = slot.circuit.window_counts(now, limits.circuit);
    let circuit = CircuitView {
        state: match circuit_state {
            CircuitState::Closed => "closed",
            CircuitState::Open { .. } => "open",
            CircuitState::HalfOpen { .. } => "half_open",
        },
        consecutive_failures: slot.circuit.consecutive_failures(),
        window_requests,
        window_failures,
        open_until: slot
            .circuit
            .open_until(now)
            .map(|at| epoch(at, now, now_unix)),
        probes_in_flight: match circuit_state {
            CircuitState::HalfOpen { in_flight, .. } => in_flight,
            _ => 0,
        },
        opened_total: slot.circuit.opened_total(),
    };
    let q = &slot.quota;
    let quota = QuotaView {
        remaining: q.quota.as_ref().filter(|q| q.metered).map(Quota::remaining),
        figures: q.quota.clone(),
        fetched_at: q.fetched.map(|(_, unix)| unix),
        age_secs: q.age(now).map(|a| a.as_secs()),
        stale: q.is_stale(now, limits.quota_interval),
        deducted_since_fetch: q.deducted,
        last_error: q.last_error.as_ref().map(|(e, _)| e.clone()),
        last_error_at: q.last_error.as_ref().map(|(_, at)| *at),
        next_fetch_in_secs: q.due.map(|d| d.saturating_duration_since(now).as_secs()),
    };
    let state = if !enabled {
        "disabled"
    } else if needs_login.is_some() {
        "needs_login"
    } else if exhausted.is_some() {
        "exhausted"
    } else if cooldown.is_some() {
        "cooldown"
    } else if slot.weight == 0 {
        "drained"
    } else {
        match circuit_state {
            CircuitState::Open { .. } => "circuit_open",
            CircuitState::HalfOpen { .. } => "half_open",
            CircuitState::Closed if slot.in_flight >= max_concurrency => "busy",
            CircuitState::Closed => "active",
        }
    };
    PoolAccountView {
        id: id.to_owned(),
        state,
        enabled,
        weight: slot.weight,
        cooldown,
        exhausted,
        needs_login,
        circuit,
        quota,
        concurrency: ConcurrencyView {
            in_flight: slot.in_flight,
            limit: max_concurrency,
        },
        stats: slot.stats.clone(),
    }
}
