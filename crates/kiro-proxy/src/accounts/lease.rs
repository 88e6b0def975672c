//! [`Lease`]: one account serving one attempt. Outcomes go through it, so statistics and the
//! circuit breaker are charged to the account that actually served; dropping it frees the
//! account's concurrency slot whatever happened (reply finished, client gone, error, panic).

use std::time::Instant;

use super::circuit::{Admission, CircuitState};
use super::pool::Pool;

/// The result of one selection.
#[derive(Debug)]
pub enum Pick {
    Leased(Lease),
    /// Every candidate is at its concurrency cap: wait for a release.
    Busy,
    /// No account can serve; `plan_excluded` accounts were usable but for their plan.
    Unavailable {
        plan_excluded: usize,
    },
}

/// An account serving one attempt (and, for same-account retries, its follow-ups).
#[derive(Debug)]
pub struct Lease {
    pool: Pool,
    account_id: String,
    admission: Admission,
    /// An outcome already told the circuit about this attempt (a probe's slot is then free).
    settled: bool,
}

impl Lease {
    pub(super) fn new(pool: Pool, account_id: String, admission: Admission) -> Self {
        Self {
            pool,
            account_id,
            admission,
            settled: false,
        }
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// True when this attempt is a half-open circuit's probe.
    pub fn is_probe(&self) -> bool {
        self.admission == Admission::Probe
    }

    /// The upstream answered with output: the account is healthy (a cooldown ends, the circuit
    /// counts a success).
    pub fn succeeded(&mut self) {
        let admission = self.take_admission();
        let tuning = self.pool.tuning();
        let circuit = &tuning.circuit;
        let changed = self.pool.with_slot_quiet(&self.account_id, |slot, now| {
            slot.stats.successes += 1;
            let was_closed = slot.circuit.state(now) == CircuitState::Closed;
            slot.circuit.record_success(now, admission, circuit);
            let cooled = matches!(slot.health, Some(super::pool::Health::Cooldown { .. }));
            if cooled {
                slot.health = None;
            }
            cooled || was_closed != (slot.circuit.state(now) == CircuitState::Closed)
        });
        if changed {
            self.pool.shared.status_wake.notify_one();
        }
    }

    /// The attempt failed with `label`. `counts` says whether it counts against the account's
    /// circuit breaker (see `accounts::reaction::counts_against_account`).
    pub fn failed(&mut self, label: &str, message: &str, counts: bool) {
        let admission = self.take_admission();
        let tuning = self.pool.tuning();
        let circuit = &tuning.circuit;
        let now_unix = crate::store::unix_now();
        let opened = self.pool.with_slot_quiet(&self.account_id, |slot, now| {
            slot.stats.failure(label, message, now_unix);
            if counts {
                slot.circuit.record_failure(now, circuit)
            } else {
                if admission == Admission::Probe {
                    slot.circuit.release_probe(now);
                }
                false
            }
        });
        if opened {
            tracing::warn!(account = %self.account_id, fault = label, "circuit opened");
            self.pool.shared.status_wake.notify_one();
        }
    }

    /// The upstream refused the request itself (a client error): nothing about the account.
    pub fn client_error(&mut self) {
        let admission = self.take_admission();
        self.pool.with_slot_quiet(&self.account_id, |slot, now| {
            slot.stats.client_errors += 1;
            if admission == Admission::Probe {
                slot.circuit.release_probe(now);
            }
        });
    }

    /// Credits the reply metered: counted in the statistics, deducted from the cached quota at
    /// once, and a quota refresh scheduled shortly after.
    pub fn charge(&self, credits: f64) {
        self.pool.charge(&self.account_id, credits);
    }

    /// The admission of the first outcome; later outcomes of the same lease (a failure after
    /// output) no longer hold a probe slot.
    fn take_admission(&mut self) -> Admission {
        if self.settled {
            return Admission::Yes;
        }
        self.settled = true;
        self.admission
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let probe = !self.settled && self.admission == Admission::Probe;
        self.pool.with_slot_quiet(&self.account_id, |slot, now| {
            slot.in_flight = slot.in_flight.saturating_sub(1);
            if probe {
                slot.circuit.release_probe(now);
            }
        });
        self.pool.shared.released.notify_waiters();
    }
}

impl Pool {
    /// Runs `f` on an account's slot without announcing a status change.
    pub(super) fn with_slot_quiet<R>(
        &self,
        id: &str,
        f: impl FnOnce(&mut super::pool::Slot, Instant) -> R,
    ) -> R {
        let now = Instant::now();
        let mut state = self.lock();
        f(state.slot(id, now), now)
    }
}
