//! The rate-limit algorithm: a sliding window of the last 60 seconds, counted in one-second
//! slots.
//!
//! A request (or a token) counts for exactly 60 seconds after the second it happened in, so "at
//! most N per minute" holds over every 60-second span (to the second), and the wait until the
//! window frees is known exactly: it is when the oldest slots whose expiry brings the total under
//! the limit leave the window. Memory is fixed (60 counters), every operation is O(60) at worst
//! and needs no allocation.

use std::time::Duration;

/// Seconds in the window.
pub const WINDOW_SECS: u64 = 60;
const SLOTS: usize = WINDOW_SECS as usize;

/// Counts of the last 60 seconds. Time is a [`Duration`] since any fixed origin (the limits use
/// a process-wide monotonic clock).
#[derive(Debug, Clone)]
pub struct Window {
    slots: [u64; SLOTS],
    /// The second the newest slot belongs to.
    newest: u64,
    total: u64,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            slots: [0; SLOTS],
            newest: 0,
            total: 0,
        }
    }
}

fn slot(second: u64) -> usize {
    // `second % 60` is below 60.
    usize::try_from(second % WINDOW_SECS).unwrap_or(0)
}

impl Window {
    /// Drops the slots that left the window by `now`.
    fn advance(&mut self, now: Duration) {
        let second = now.as_secs();
        if second <= self.newest {
            return;
        }
        if second - self.newest >= WINDOW_SECS {
            self.slots = [0; SLOTS];
            self.total = 0;
        } else {
            for s in self.newest + 1..=second {
                let i = slot(s);
                self.total -= self.slots[i];
                self.slots[i] = 0;
            }
        }
        self.newest = second;
    }

    /// The count over the last 60 seconds.
    pub fn total(&mut self, now: Duration) -> u64 {
        self.advance(now);
        self.total
    }

    /// Adds `n` at `now`.
    pub fn add(&mut self, now: Duration, n: u64) {
        self.advance(now);
        let i = slot(self.newest);
        self.slots[i] = self.slots[i].saturating_add(n);
        self.total = self.total.saturating_add(n);
    }

    /// Adds one if the count is below `limit`; else the whole seconds until it will be.
    pub fn try_acquire(&mut self, now: Duration, limit: u64) -> Result<(), u64> {
        self.check(now, limit)?;
        self.add(now, 1);
        Ok(())
    }

    /// `Ok` if the count is below `limit`; else the whole seconds until it will be (at least 1).
    pub fn check(&mut self, now: Duration, limit: u64) -> Result<(), u64> {
        self.advance(now);
        if self.total < limit {
            return Ok(());
        }
        let mut remaining = self.total;
        // Oldest slot first: the second `newest - 59`, which leaves at `newest + 1`.
        for age in (0..WINDOW_SECS).rev() {
            let Some(second) = self.newest.checked_sub(age) else {
                continue;
            };
            remaining -= self.slots[slot(second)];
            if remaining < limit {
                return Err(seconds_until(now, second + WINDOW_SECS));
            }
        }
        // Only a limit of 0 gets here: it never frees.
        Err(WINDOW_SECS)
    }

    /// True when nothing in the window counts any more (the entry can be forgotten).
    pub fn is_idle(&mut self, now: Duration) -> bool {
        self.total(now) == 0
    }
}

/// Whole seconds from `now` until the start of second `at`, rounded up, at least 1.
fn seconds_until(now: Duration, at: u64) -> u64 {
    let at_ms = u128::from(at) * 1000;
    let wait_ms = at_ms.saturating_sub(now.as_millis());
    u64::try_from(wait_ms.div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn limit_and_retry_after_to_the_second() {
        let mut w = Window::default();
        assert_eq!(w.try_acquire(at(100_200), 2), Ok(()));
        assert_eq!(w.try_acquire(at(100_900), 2), Ok(()));
        // Both counted in second 100: they leave at 160.0 s.
        assert_eq!(w.try_acquire(at(101_000), 2), Err(59));
        assert_eq!(w.try_acquire(at(100_950), 2), Err(60));
        assert_eq!(w.try_acquire(at(159_001), 2), Err(1));
        assert_eq!(w.try_acquire(at(160_000), 2), Ok(()));
        assert_eq!(w.total(at(160_000)), 1);
    }

    #[test]
    fn only_enough_slots_to_get_under_the_limit_must_expire() {
        let mut w = Window::default();
        w.add(at(10_000), 1); // leaves at 70
        w.add(at(20_000), 1); // leaves at 80
        w.add(at(30_000), 1); // leaves at 90
        // Limit 3: one must go (the oldest, at 70 s).
        assert_eq!(w.check(at(40_500), 3), Err(30));
        // Limit 2: two must go (the second at 80 s).
        assert_eq!(w.check(at(40_500), 2), Err(40));
        assert_eq!(w.check(at(40_500), 1), Err(50));
        assert_eq!(w.check(at(40_500), 4), Ok(()));
    }

    #[test]
    fn token_debt_frees_when_its_second_leaves() {
        let mut w = Window::default();
        w.add(at(5_000), 500);
        assert_eq!(w.check(at(5_100), 100), Err(60));
        assert_eq!(w.check(at(64_999), 100), Err(1));
        assert_eq!(w.check(at(65_000), 100), Ok(()));
        assert!(w.is_idle(at(65_000)));
    }

    #[test]
    fn long_gaps_clear_everything() {
        let mut w = Window::default();
        w.add(at(1_000), 3);
        assert_eq!(w.total(at(30_000)), 3);
        assert_eq!(w.total(at(500_000)), 0);
        w.add(at(500_000), 1);
        assert_eq!(w.total(at(559_999)), 1);
        assert_eq!(w.total(at(560_000)), 0);
    }
}
