//! A request's failover budget (attempts and time, spec §8.1), its backoff, and what the client
//! hears when no account can take the request.

use std::time::{Duration, Instant};

use dialects::canonical::{ClientError, ErrorKind};

use super::pool::Pool;
use crate::config::PoolConfig;

/// Upstream attempts and time one request may spend.
#[derive(Debug, Clone)]
pub struct Budget {
    started: Instant,
    attempts: u32,
    max_attempts: u32,
    max_time: Duration,
}

impl Budget {
    pub fn new(config: &PoolConfig) -> Self {
        Self {
            started: Instant::now(),
            attempts: 0,
            max_attempts: config.failover_attempts,
            max_time: config.failover_budget,
        }
    }

    /// True when no further attempt may start.
    pub fn spent(&self) -> bool {
        self.attempts >= self.max_attempts || self.remaining().is_zero()
    }

    /// Time left.
    pub fn remaining(&self) -> Duration {
        self.max_time.saturating_sub(self.started.elapsed())
    }

    /// An upstream attempt starts.
    pub fn note_attempt(&mut self) {
        self.attempts += 1;
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The pause before the `n`-th transient retry, within the time left.
    pub fn backoff(&self, n: u32) -> Duration {
        backoff(n).min(self.remaining())
    }
}

/// Exponential backoff with jitter: 200 ms, 400 ms, … capped at 2 s (spec §8.1).
pub fn backoff(n: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << n.min(4)).min(2000);
    let jitter = rand::random::<u64>() % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

/// The error when every candidate account is at its concurrency cap and none freed up in time.
pub fn all_busy(max_concurrency: u32) -> ClientError {
    let mut err = ClientError::new(
        ErrorKind::RateLimited,
        format!(
            "every upstream account is serving its maximum of {max_concurrency} concurrent \
             requests (pool.max_concurrency); retry shortly"
        ),
    );
    err.retry_after = Some(1);
    err
}

/// The error when no account could take the request: `last` is the last attempt's error, if an
/// attempt was made; `plan_excluded` counts accounts that were usable but for their plan.
pub fn no_account(
    pool: &Pool,
    last: Option<ClientError>,
    plan_excluded: usize,
    model: &str,
) -> ClientError {
    if pool.is_empty() {
        return ClientError::new(
            ErrorKind::Overloaded,
            "no upstream account is configured; add one with POST /api/accounts",
        );
    }
    let back_in = pool.next_available_in();
    if last.is_none() && plan_excluded > 0 && back_in.is_none() {
        return ClientError::invalid_param(
            "model",
            format!(
                "model {model} is not available on the plan of any usable upstream account \
                 (free plans have no Opus); use another model or add a paid account"
            ),
        );
    }
    // With no attempt made, the pool's state decides: accounts that come back by themselves
    // (throttled, out of credits, circuit open) mean "wait", a 429 the client can time;
    // accounts that need an operator mean "overloaded".
    let mut err = last.unwrap_or_else(|| {
        if back_in.is_some() {
            ClientError::new(
                ErrorKind::RateLimited,
                "every upstream account is cooling down, out of credits or failing; retry \
                 after the indicated delay",
            )
        } else {
            ClientError::new(
                ErrorKind::Overloaded,
                "no upstream account is usable (disabled, weight 0 or needing re-login); an \
                 operator must re-login or enable one in the admin console",
            )
        }
    });
    if err.kind == ErrorKind::RateLimited || err.kind == ErrorKind::Overloaded {
        if let Some(wait) = back_in {
            err.retry_after = Some(wait.as_secs().clamp(1, 60));
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for n in 1..10 {
            let b = backoff(n);
            assert!(b >= Duration::from_millis(100) && b <= Duration::from_millis(2000));
        }
    }

    #[test]
    fn budget_counts_attempts_and_time() {
        let mut b = Budget::new(&PoolConfig {
            failover_attempts: 2,
            ..PoolConfig::default()
        });
        assert!(!b.spent());
        b.note_attempt();
        b.note_attempt();
        assert!(b.spent());
        let b = Budget::new(&PoolConfig {
            failover_budget: Duration::from_millis(1),
            ..PoolConfig::default()
        });
        std::thread::sleep(Duration::from_millis(2));
        assert!(b.spent());
        assert_eq!(b.backoff(3), Duration::ZERO);
    }
}
