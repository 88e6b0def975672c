//! The pool's thresholds, changeable while it runs (`PUT /api/settings` `pool`, see
//! `crate::settings`): concurrency cap, lease wait, stickiness, cooldown, failover budget,
//! circuit breaker, keep-alive and quota periods.
//!
//! They sit behind one read-mostly lock holding an `Arc`: a pick clones the `Arc` once, a
//! change swaps it whole, so a decision never sees half an update. A change applies from the
//! next decision: a lowered failure threshold to the next failure, a new open period to the
//! next opening (a circuit already open keeps its date), a new keep-alive period at once (the
//! pass's sleep is cut short).

use std::sync::{Arc, PoisonError, RwLock};

use super::circuit::CircuitConfig;
use super::pool::Pool;
use crate::config::PoolConfig;

/// The thresholds in effect, and the circuit breaker's view of them.
#[derive(Debug)]
pub(super) struct Tuning {
    pub(super) pool: PoolConfig,
    pub(super) circuit: CircuitConfig,
}

impl Tuning {
    pub(super) fn new(pool: PoolConfig) -> Self {
        let circuit = CircuitConfig {
            failures: pool.circuit_failures,
            failure_rate: f64::from(pool.circuit_failure_rate) / 100.0,
            min_requests: pool.circuit_min_requests,
            window: pool.circuit_window,
            open_delay: pool.circuit_open_delay,
            open_max: pool.circuit_open_max,
            probes: pool.circuit_probes,
            close_successes: pool.circuit_close_successes,
        };
        Tuning { pool, circuit }
    }
}

/// The swappable cell.
#[derive(Debug)]
pub(super) struct TuningCell(RwLock<Arc<Tuning>>);

impl TuningCell {
    pub(super) fn new(pool: PoolConfig) -> Self {
        TuningCell(RwLock::new(Arc::new(Tuning::new(pool))))
    }

    pub(super) fn get(&self) -> Arc<Tuning> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, tuning: Tuning) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(tuning);
    }
}

impl Pool {
    /// The thresholds in effect (a copy: they may change right after).
    pub fn config(&self) -> PoolConfig {
        self.shared.tuning.get().pool.clone()
    }

    pub(super) fn tuning(&self) -> Arc<Tuning> {
        self.shared.tuning.get()
    }

    /// Replaces the thresholds (already validated) while the pool runs.
    pub fn set_config(&self, config: PoolConfig) {
        let (ttl, max) = (config.sticky_ttl, config.sticky_max_sessions);
        self.shared.tuning.set(Tuning::new(config));
        self.lock().sticky.set_limits(ttl, max);
        // Waiters for a slot look again (the cap may have risen); the background tasks
        // re-plan with the new periods.
        self.shared.released.notify_waiters();
        self.shared.quota_wake.notify_one();
        self.shared.tuning_changed.notify_waiters();
    }

    /// Completes when the thresholds change next (the keep-alive pass sleeps on it).
    pub(super) fn tuning_changed(&self) -> impl Future<Output = ()> + '_ {
        self.shared.tuning_changed.notified()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::accounts::AccountRegistry;

    #[test]
    fn a_change_is_seen_by_the_next_read() {
        let pool = Pool::new(Arc::new(AccountRegistry::new()), PoolConfig::default());
        assert_eq!(pool.config().circuit_failures, 5);
        pool.set_config(PoolConfig {
            circuit_failures: 2,
            circuit_open_delay: Duration::from_secs(3),
            ..PoolConfig::default()
        });
        assert_eq!(pool.config().circuit_failures, 2);
        let t = pool.tuning();
        assert_eq!(t.circuit.failures, 2);
        assert_eq!(t.circuit.open_delay, Duration::from_secs(3));
    }
}
