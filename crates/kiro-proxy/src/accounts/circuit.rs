//! A circuit breaker per account: closed → open → half-open → closed.
//!
//! - **Closed**: every request passes. It opens after `failures` consecutive failures, or when
//!   at least `min_requests` outcomes in the last `window` are `failure_rate` % failures or more.
//! - **Open**: nothing passes until the open period ends. The period starts at `open_delay` and
//!   doubles on every reopening without a close in between, up to `open_max`, so an account that
//!   keeps failing is probed less and less often.
//! - **Half-open**: at most `probes` requests at a time pass; `close_successes` successes close
//!   the circuit (and forget the reopenings), one failure opens it again.
//!
//! What counts as a failure is the caller's choice (see `accounts::reaction`): account-level and
//! transient upstream faults, never a client error. Pure state: the caller passes the clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Outcomes kept for the failure-rate window at most (bounds memory at high request rates;
/// the rate is then over the most recent ones).
const MAX_WINDOW_OUTCOMES: usize = 512;

/// Thresholds of a breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitConfig {
    pub failures: u32,
    /// 0.0–1.0.
    pub failure_rate: f64,
    pub min_requests: u32,
    pub window: Duration,
    pub open_delay: Duration,
    pub open_max: Duration,
    pub probes: u32,
    pub close_successes: u32,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            failures: 5,
            failure_rate: 0.5,
            min_requests: 10,
            window: Duration::from_secs(60),
            open_delay: Duration::from_secs(30),
            open_max: Duration::from_secs(600),
            probes: 1,
            close_successes: 2,
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        /// Probes admitted and not finished yet.
        in_flight: u32,
        successes: u32,
    },
}

/// Whether a request may go to the account now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Yes,
    /// Yes, as one of the limited half-open probes: its outcome decides the circuit.
    Probe,
    No,
}

/// One account's breaker.
#[derive(Debug, Clone)]
pub struct Circuit {
    state: CircuitState,
    consecutive_failures: u32,
    /// Openings since the circuit last closed (drives the exponential open period).
    reopenings: u32,
    /// Times it opened in all.
    opened_total: u64,
    /// Recent outcomes (`true` = failure), oldest first.
    recent: VecDeque<(Instant, bool)>,
}

impl Default for Circuit {
    fn default() -> Self {
        Self {
            state: CircuitState::Closed,
            consecutive_failures: 0,
            reopenings: 0,
            opened_total: 0,
            recent: VecDeque::new(),
        }
    }
}

impl Circuit {
    /// The state at `now`: an open circuit whose period ended reads as half-open.
    pub fn state(&self, now: Instant) -> CircuitState {
        match self.state {
            CircuitState::Open { until } if until <= now => CircuitState::HalfOpen {
                in_flight: 0,
                successes: 0,
            },
            s => s,
        }
    }

    /// Would a request be admitted at `now` (without admitting it)?
    pub fn would_admit(&self, now: Instant, c: &CircuitConfig) -> Admission {
        match self.state(now) {
            CircuitState::Closed => Admission::Yes,
            CircuitState::Open { .. } => Admission::No,
            CircuitState::HalfOpen { in_flight, .. } if in_flight < c.probes => Admission::Probe,
            CircuitState::HalfOpen { .. } => Admission::No,
        }
    }

    /// Admits a request at `now` (a half-open probe takes a probe slot).
    pub fn admit(&mut self, now: Instant, c: &CircuitConfig) -> Admission {
        let admission = self.would_admit(now, c);
        if let (
            Admission::Probe,
            CircuitState::HalfOpen {
                in_flight,
                successes,
            },
        ) = (admission, self.state(now))
        {
            self.state = CircuitState::HalfOpen {
                in_flight: in_flight + 1,
                successes,
            };
        }
        admission
    }

    /// When an open circuit lets probes through again.
    pub fn open_until(&self, now: Instant) -> Option<Instant> {
        match self.state {
            CircuitState::Open { until } if until > now => Some(until),
            _ => None,
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn opened_total(&self) -> u64 {
        self.opened_total
    }

    /// Outcomes and failures in the window ending at `now`.
    pub fn window_counts(&self, now: Instant, c: &CircuitConfig) -> (u32, u32) {
        let from = now.checked_sub(c.window);
        let mut total = 0u32;
        let mut failed = 0u32;
        for (at, failure) in &self.recent {
            if from.is_none_or(|f| *at >= f) {
                total += 1;
                failed += u32::from(*failure);
            }
        }
        (total, failed)
    }

    fn note(&mut self, now: Instant, failure: bool, c: &CircuitConfig) {
        if let Some(from) = now.checked_sub(c.window) {
            while self.recent.front().is_some_and(|(at, _)| *at < from) {
                self.recent.pop_front();
            }
        }
        if self.recent.len() >= MAX_WINDOW_OUTCOMES {
            self.recent.pop_front();
        }
        self.recent.push_back((now, failure));
    }

    /// A request admitted as `admission` succeeded.
    pub fn record_success(&mut self, now: Instant, admission: Admission, c: &CircuitConfig) {
        self.note(now, false, c);
        self.consecutive_failures = 0;
        if let CircuitState::HalfOpen {
            in_flight,
            successes,
        } = self.state(now)
        {
            let in_flight = if admission == Admission::Probe {
                in_flight.saturating_sub(1)
            } else {
                in_flight
            };
            let successes = successes + 1;
            if successes >= c.close_successes {
                self.close();
            } else {
                self.state = CircuitState::HalfOpen {
                    in_flight,
                    successes,
                };
            }
        }
    }

    /// A request failed in a way that counts against the account (a half-open probe or not:
    /// either reopens a half-open circuit). Returns true when this failure opened the circuit.
    pub fn record_failure(&mut self, now: Instant, c: &CircuitConfig) -> bool {
        self.note(now, true, c);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match self.state(now) {
            CircuitState::Open { .. } => false,
            CircuitState::HalfOpen { .. } => {
                // A failed probe (or a straggler admitted before the circuit opened): reopen,
                // for longer.
                self.reopenings = self.reopenings.saturating_add(1);
                self.open(now, c);
                true
            }
            CircuitState::Closed => {
                let (total, failed) = self.window_counts(now, c);
                let rate_tripped = total >= c.min_requests
                    && f64::from(failed) >= c.failure_rate * f64::from(total);
                if self.consecutive_failures >= c.failures || rate_tripped {
                    self.open(now, c);
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A probe ended without an outcome that says anything about the account (a client error,
    /// the client went away): its slot is free again.
    pub fn release_probe(&mut self, now: Instant) {
        if let CircuitState::HalfOpen {
            in_flight,
            successes,
        } = self.state(now)
        {
            self.state = CircuitState::HalfOpen {
                in_flight: in_flight.saturating_sub(1),
                successes,
            };
        }
    }

    fn open(&mut self, now: Instant, c: &CircuitConfig) {
        let factor = 1u32 << self.reopenings.min(16);
        let period = c.open_delay.saturating_mul(factor).min(c.open_max);
        self.state = CircuitState::Open {
            until: now + period,
        };
        self.opened_total += 1;
        // The window restarts: the failures that opened the circuit are accounted for.
        self.recent.clear();
    }

    fn close(&mut self) {
        self.state = CircuitState::Closed;
        self.consecutive_failures = 0;
        self.reopenings = 0;
    }

    /// Opens the circuit now, whatever its state (the operator takes the account out for the
    /// open period; half-open probes then bring it back as for any opened circuit).
    pub fn trip(&mut self, now: Instant, c: &CircuitConfig) {
        self.open(now, c);
    }

    /// Back to closed with no history (the operator reset the account).
    pub fn reset(&mut self) {
        *self = Circuit {
            opened_total: self.opened_total,
            ..Circuit::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CircuitConfig {
        CircuitConfig {
            failures: 3,
            failure_rate: 0.5,
            min_requests: 6,
            window: Duration::from_secs(60),
            open_delay: Duration::from_secs(10),
            open_max: Duration::from_secs(35),
            probes: 1,
            close_successes: 2,
        }
    }

    #[test]
    fn opens_after_consecutive_failures_and_closes_after_probes() {
        let c = cfg();
        let t0 = Instant::now();
        let mut b = Circuit::default();
        assert!(!b.record_failure(t0, &c));
        b.record_success(t0, Admission::Yes, &c);
        assert!(!b.record_failure(t0, &c));
        assert!(!b.record_failure(t0, &c));
        assert!(b.record_failure(t0, &c));
        assert_eq!(b.would_admit(t0, &c), Admission::No);
        assert_eq!(b.open_until(t0), Some(t0 + Duration::from_secs(10)));

        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(t1, &c), Admission::Probe);
        // One probe at a time.
        assert_eq!(b.admit(t1, &c), Admission::No);
        b.record_success(t1, Admission::Probe, &c);
        assert_eq!(b.admit(t1, &c), Admission::Probe);
        b.record_success(t1, Admission::Probe, &c);
        assert_eq!(b.state(t1), CircuitState::Closed);
        assert_eq!(b.admit(t1, &c), Admission::Yes);
    }

    #[test]
    fn failed_probes_reopen_for_longer_up_to_the_cap() {
        let c = cfg();
        let mut now = Instant::now();
        let mut b = Circuit::default();
        for _ in 0..3 {
            b.record_failure(now, &c);
        }
        let mut periods = Vec::new();
        for _ in 0..4 {
            let until = b.open_until(now).unwrap();
            periods.push(until - now);
            now = until;
            assert_eq!(b.admit(now, &c), Admission::Probe);
            assert!(b.record_failure(now, &c));
        }
        assert_eq!(
            periods,
            [10, 20, 35, 35].map(Duration::from_secs).to_vec(),
            "doubling, capped"
        );
        // A close forgets the reopenings.
        now = b.open_until(now).unwrap();
        for _ in 0..2 {
            assert_eq!(b.admit(now, &c), Admission::Probe);
            b.record_success(now, Admission::Probe, &c);
        }
        for _ in 0..3 {
            b.record_failure(now, &c);
        }
        assert_eq!(b.open_until(now), Some(now + Duration::from_secs(10)));
    }

    #[test]
    fn failure_rate_over_the_window_opens() {
        let c = cfg();
        let t0 = Instant::now();
        let mut b = Circuit::default();
        // Alternating outcomes never reach 3 consecutive failures, but 3 of 6 is 50 %.
        let mut opened = false;
        for i in 0..6 {
            if i % 2 == 0 {
                b.record_success(t0, Admission::Yes, &c);
            } else {
                opened = b.record_failure(t0, &c);
            }
        }
        assert!(opened);
        // Old outcomes leave the window.
        let mut b = Circuit::default();
        for _ in 0..3 {
            b.record_success(t0, Admission::Yes, &c);
        }
        let later = t0 + Duration::from_secs(61);
        b.record_failure(later, &c);
        b.record_success(later, Admission::Yes, &c);
        assert_eq!(b.window_counts(later, &c), (2, 1));
    }

    #[test]
    fn released_probe_frees_its_slot() {
        let c = cfg();
        let t0 = Instant::now();
        let mut b = Circuit::default();
        for _ in 0..3 {
            b.record_failure(t0, &c);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(t1, &c), Admission::Probe);
        b.release_probe(t1);
        assert_eq!(b.admit(t1, &c), Admission::Probe);
        b.reset();
        assert_eq!(b.state(t1), CircuitState::Closed);
    }
}
