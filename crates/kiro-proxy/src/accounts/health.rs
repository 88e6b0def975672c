//! An account's health between requests: cooldown, exhaustion, login problems (the circuit
//! breaker is `accounts::circuit`), and the pool's operations on it.

use std::time::{Duration, Instant};

use super::pool::{Pool, Slot};

/// Why an account is out of rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Throttled or failing: back after the instant.
    Cooldown { until: Instant, reason: String },
    /// Monthly credits used up: back after the instant (the reset date), verified with a fresh
    /// quota.
    Exhausted { until: Instant, reason: String },
    /// Refresh token dead, account suspended, or access denied: an operator must act.
    NeedsLogin { reason: String },
    /// Its circuit breaker is open: probes go through again after the instant.
    CircuitOpen { until: Instant },
}

/// The health an account carries between requests (the circuit is kept apart).
#[derive(Debug, Clone)]
pub(super) enum Health {
    Cooldown {
        until: Instant,
        reason: String,
    },
    Exhausted {
        until: Instant,
        reason: String,
        /// The reset date (epoch seconds) of the period that ran out, when known: a fresh
        /// quota with a later reset date proves a new period began even if the clocks of the
        /// proxy and the service disagree.
        period_reset: Option<i64>,
    },
    NeedsLogin {
        reason: String,
    },
}

impl Health {
    /// Rank: a state never replaces a higher-ranked one that is still in force.
    pub(super) fn rank(&self) -> u8 {
        match self {
            Health::Cooldown { .. } => 1,
            Health::Exhausted { .. } => 2,
            Health::NeedsLogin { .. } => 3,
        }
    }

    /// Still keeping the account out at `now`.
    pub(super) fn in_force(&self, now: Instant) -> bool {
        match self {
            Health::Cooldown { until, .. } | Health::Exhausted { until, .. } => *until > now,
            Health::NeedsLogin { .. } => true,
        }
    }
}

impl Slot {
    /// When an exhaustion ends, if one keeps the account out at `now`: until its date, and
    /// after it until a quota fetched since confirms credits are back (a fetch that fails
    /// since lets the account back in: a 402 would tell).
    pub(super) fn exhausted_until(&self, now: Instant) -> Option<Instant> {
        let Some(Health::Exhausted { until, .. }) = &self.health else {
            return None;
        };
        if *until > now {
            return Some(*until);
        }
        let q = &self.quota;
        let still_empty = q.quota.as_ref().is_some_and(|q| q.is_exhausted());
        let fetched_since = q.fetched.is_some_and(|(at, _)| at >= *until);
        let failed_since = q.failed_at.is_some_and(|at| at >= *until);
        (still_empty && !fetched_since && !failed_since).then_some(*until)
    }

    /// True when the account's health keeps it out of rotation at `now`.
    pub(super) fn health_blocks(&self, now: Instant) -> bool {
        match &self.health {
            None => false,
            Some(Health::Exhausted { .. }) => self.exhausted_until(now).is_some(),
            Some(h) => h.in_force(now),
        }
    }
}

impl Pool {
    fn with_slot<R>(&self, id: &str, f: impl FnOnce(&mut Slot, Instant) -> R) -> R {
        let now = Instant::now();
        let mut state = self.lock();
        let r = f(state.slot(id, now), now);
        drop(state);
        self.shared.status_wake.notify_one();
        r
    }

    pub fn cooldown(&self, id: &str, dur: Duration, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(account = id, secs = dur.as_secs(), %reason, "account cooling down");
        self.with_slot(id, |slot, now| {
            slot.set_health(
                Health::Cooldown {
                    until: now + dur,
                    reason,
                },
                now,
            );
        });
    }

    /// Out of credits for `dur` (prefer [`Pool::exhausted_until_reset`]).
    pub fn exhausted(&self, id: &str, dur: Duration, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(account = id, secs = dur.as_secs(), %reason, "account out of credits");
        self.with_slot(id, |slot, now| {
            let period_reset = slot.quota.quota.as_ref().and_then(|q| q.next_reset);
            slot.set_health(
                Health::Exhausted {
                    until: now + dur,
                    reason,
                    period_reset,
                },
                now,
            );
        });
    }

    pub fn needs_login(&self, id: &str, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::error!(account = id, %reason, "account needs an operator (re-login or unlock)");
        self.with_slot(id, |slot, now| {
            slot.set_health(Health::NeedsLogin { reason }, now);
        });
    }

    /// The account served a request: a cooldown is over.
    pub fn succeeded(&self, id: &str) {
        self.with_slot(id, |slot, _| {
            if matches!(slot.health, Some(Health::Cooldown { .. })) {
                slot.health = None;
            }
        });
    }

    /// Forgets an account's health and circuit (the operator reset it, or it has new
    /// credentials). Statistics and quota stay.
    pub fn reset(&self, id: &str) {
        self.with_slot(id, |slot, now| {
            slot.health = None;
            slot.circuit.reset();
            slot.quota.due_by(now);
        });
        self.shared.quota_wake.notify_one();
    }

    /// Opens the account's circuit now (an operator's trip).
    pub fn trip(&self, id: &str) {
        let tuning = self.tuning();
        tracing::warn!(account = id, "circuit opened by an operator");
        self.with_slot(id, |slot, now| slot.circuit.trip(now, &tuning.circuit));
    }

    /// Sets the operator's selection weight (0 takes the account out of rotation).
    pub fn set_weight(&self, id: &str, weight: u32) {
        let now = Instant::now();
        self.lock().slot(id, now).weight = weight;
    }

    /// Current out-of-rotation state of an account.
    pub fn state(&self, id: &str) -> Option<Unavailable> {
        let now = Instant::now();
        let state = self.lock();
        let slot = state.accounts.get(id)?;
        match &slot.health {
            Some(Health::NeedsLogin { reason }) => {
                return Some(Unavailable::NeedsLogin {
                    reason: reason.clone(),
                });
            }
            Some(Health::Exhausted { until, reason, .. })
                if slot.exhausted_until(now).is_some() =>
            {
                return Some(Unavailable::Exhausted {
                    until: *until,
                    reason: reason.clone(),
                });
            }
            Some(Health::Cooldown { until, reason }) if *until > now => {
                return Some(Unavailable::Cooldown {
                    until: *until,
                    reason: reason.clone(),
                });
            }
            _ => {}
        }
        slot.circuit
            .open_until(now)
            .map(|until| Unavailable::CircuitOpen { until })
    }

    /// True when the account waits for an operator.
    pub fn is_needs_login(&self, id: &str) -> bool {
        matches!(self.state(id), Some(Unavailable::NeedsLogin { .. }))
    }
}
