//! The simulator's clock: real time plus an offset that tests move forward
//! (`POST /_sim/clock/advance`) instead of sleeping. Token expiry, device-code expiry,
//! registrations' `clientSecretExpiresAt` and `nextDateReset` all read this clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Real time shifted by a controllable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Milliseconds since the Unix epoch, offset included.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch, offset included.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock forward (or back, for a negative value) by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The current offset from real time.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

const SECS_PER_DAY: i64 = 86_400;

/// 00:00 UTC on the first day of the month after the one holding `epoch_secs`: the service's
/// monthly reset (`nextDateReset`).
pub fn first_of_next_month(epoch_secs: i64) -> i64 {
    kiro_wire::num::first_of_next_month(epoch_secs)
}

/// Whole days from `now_secs` until `reset_secs`, rounded up, never negative.
pub fn days_until(now_secs: i64, reset_secs: i64) -> i64 {
    let left = reset_secs.saturating_sub(now_secs).max(0);
    (left + SECS_PER_DAY - 1) / SECS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_month_boundaries() {
        // 2026-05-15T12:00:00Z -> 2026-06-01T00:00:00Z
        assert_eq!(first_of_next_month(1_778_846_400), 1_780_272_000);
        // 2025-12-31T23:59:59Z -> 2026-01-01T00:00:00Z
        assert_eq!(first_of_next_month(1_767_225_599), 1_767_225_600);
        // exactly on a boundary moves to the following month: 2026-01-01 -> 2026-02-01
        assert_eq!(first_of_next_month(1_767_225_600), 1_769_904_000);
        // leap year February: 2028-02-10 -> 2028-03-01
        assert_eq!(first_of_next_month(1_833_753_600), 1_835_481_600);
    }

    #[test]
    fn advance_moves_now() {
        let c = Clock::default();
        let before = c.now_secs();
        c.advance_ms(3_600_000);
        assert!(c.now_secs() >= before + 3600);
        c.reset();
        assert_eq!(c.offset_ms(), 0);
    }

    #[test]
    fn days_until_rounds_up() {
        assert_eq!(days_until(0, 1), 1);
        assert_eq!(days_until(0, 86_400), 1);
        assert_eq!(days_until(0, 86_401), 2);
        assert_eq!(days_until(10, 5), 0);
    }
}
