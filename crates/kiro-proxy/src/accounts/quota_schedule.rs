//! The pool's quota knowledge: fresh `getUsageLimits` answers, failed fetches, metered credits,
//! exhaustion derived from them, and when each account's next fetch is due (at start, every
//! `quota_interval`, `quota_after_use` after serving, and at the reset date of an exhausted
//! account to verify it is back). The fetching itself is `accounts::keepalive`'s.

use std::time::{Duration, Instant};

use kiro_wire::types::UsageLimitsResponse;

use super::pool::{Health, Pool, Slot};
use super::quota::Quota;

/// Retry delay of a failed fetch (capped by `quota_interval`).
const RETRY_FAILED: Duration = Duration::from_secs(60);
/// When the quota says "empty" but the reset date already passed by our clock, look again
/// after this (the service rolls the period lazily, or the clocks disagree).
const RECHECK_PAST_RESET: Duration = Duration::from_secs(60);

impl Pool {
    /// A reply served by `id` ended having metered `credits`: statistics, deducted from the
    /// cached quota at once, and a quota refresh scheduled shortly after (one per
    /// `quota_after_use`, whatever the number of replies in between).
    pub fn charge(&self, id: &str, credits: f64) {
        let credits = if credits.is_finite() {
            credits.max(0.0)
        } else {
            0.0
        };
        let after_use = self.tuning().pool.quota_after_use;
        let now_unix = crate::store::unix_now();
        let (sooner, emptied) = self.with_slot_quiet(id, |slot, now| {
            slot.stats.credits += credits;
            slot.quota.deduct(credits);
            let sooner = slot.quota.due_by(now + after_use);
            let was_out = slot.health_blocks(now);
            exhaustion_from_quota(slot, now, now_unix);
            (sooner, !was_out && slot.health_blocks(now))
        });
        // Wake the background tasks only when there is something new for them.
        if sooner {
            self.shared.quota_wake.notify_one();
        }
        if emptied {
            self.shared.status_wake.notify_one();
        }
    }

    /// The upstream said the account's monthly credits are used up (402 `MONTHLY_REQUEST_COUNT`):
    /// out of rotation until the cached reset date, else 00:00 UTC on the 1st of next month
    /// (spec §8.1); the cached figure drops to zero and a fetch is due at the reset to verify.
    pub fn exhausted_until_reset(&self, id: &str, reason: &str) {
        let now_unix = crate::store::unix_now();
        tracing::warn!(account = id, %reason, "account out of credits");
        self.with_slot_quiet(id, |slot, now| {
            let period_reset = slot.quota.quota.as_ref().and_then(|q| q.next_reset);
            let reset = period_reset
                .filter(|r| *r > now_unix)
                .unwrap_or_else(|| kiro_wire::num::first_of_next_month(now_unix));
            if let Some(q) = slot.quota.quota.as_mut() {
                q.used = q.used.max(q.limit);
                q.overage_headroom = q.overage_headroom.map(|_| 0.0);
            }
            let until = now + secs(reset - now_unix);
            slot.set_health(
                Health::Exhausted {
                    until,
                    reason: reason.to_owned(),
                    period_reset,
                },
                now,
            );
            slot.quota.due_by(until);
        });
        self.shared.status_wake.notify_one();
    }

    /// A fetch of `id`'s quota succeeded.
    pub fn quota_fetched(&self, id: &str, resp: &UsageLimitsResponse) {
        let quota = Quota::from_response(resp);
        let interval = self.tuning().pool.quota_interval;
        let now_unix = crate::store::unix_now();
        tracing::debug!(
            account = id,
            remaining = quota.remaining(),
            limit = quota.limit,
            plan = quota.plan_title.as_deref().unwrap_or(""),
            "quota refreshed"
        );
        self.with_slot_quiet(id, |slot, now| {
            slot.quota.fresh(quota, now, now_unix);
            slot.quota.fetching = false;
            // A use while fetching may have asked for an earlier look: keep it.
            let next = now + interval;
            slot.quota.due = Some(slot.quota.due.map_or(next, |d| d.min(next)));
            exhaustion_from_quota(slot, now, now_unix);
        });
        self.shared.status_wake.notify_one();
    }

    /// A fetch of `id`'s quota failed: logged and kept; the stale figure stays in use.
    pub fn quota_failed(&self, id: &str, error: impl Into<String>) {
        let error = error.into();
        tracing::warn!(account = id, %error, "quota refresh failed; keeping the cached figure");
        let retry = self.tuning().pool.quota_interval.min(RETRY_FAILED);
        let now_unix = crate::store::unix_now();
        self.with_slot_quiet(id, |slot, now| {
            slot.quota.last_error = Some((error, now_unix));
            slot.quota.failed_at = Some(now);
            slot.quota.fetching = false;
            slot.quota.due = Some(now + retry);
        });
    }

    /// Accounts whose quota fetch is due now (marked as being fetched), and when the next one
    /// falls due. Disabled accounts and accounts waiting for an operator are skipped.
    pub fn take_due_quota(&self) -> (Vec<String>, Option<Instant>) {
        let now = Instant::now();
        let mut ids = self.shared.registry.ids();
        ids.sort();
        let live: Vec<String> = ids
            .into_iter()
            .filter(|id| self.shared.registry.with(id, |a| a.enabled) == Some(true))
            .collect();
        let mut state = self.lock();
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for id in live {
            let slot = state.slot(&id, now);
            if slot.quota.fetching || matches!(slot.health, Some(Health::NeedsLogin { .. })) {
                continue;
            }
            match slot.quota.due {
                Some(at) if at <= now => {
                    slot.quota.fetching = true;
                    slot.quota.due = None;
                    due.push(id);
                }
                Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
                None => {}
            }
        }
        (due, next)
    }

    /// Makes every account whose cached quota is older than `quota_interval` (or missing, or
    /// whose last fetch failed) due now. Returns how many.
    pub fn mark_stale_quota_due(&self) -> usize {
        let max_age = self.tuning().pool.quota_interval;
        let now = Instant::now();
        let ids = self.shared.registry.ids();
        let mut state = self.lock();
        let mut n = 0;
        for id in ids {
            let slot = state.slot(&id, now);
            if !slot.quota.fetching
                && (slot.quota.is_stale(now, max_age) || slot.quota.last_error.is_some())
            {
                slot.quota.due_by(now);
                n += 1;
            }
        }
        drop(state);
        if n > 0 {
            self.shared.quota_wake.notify_one();
        }
        n
    }

    /// Schedules a quota fetch of `id` now (a new or re-enabled account).
    pub fn quota_due_now(&self, id: &str) {
        self.with_slot_quiet(id, |slot, now| slot.quota.due_by(now));
        self.shared.quota_wake.notify_one();
    }

    /// Resolves when a quota fetch may have become due earlier than previously known.
    pub async fn quota_schedule_changed(&self) {
        self.shared.quota_wake.notified().await;
    }

    /// The cached quota of an account, if any.
    pub fn quota(&self, id: &str) -> Option<Quota> {
        let state = self.lock();
        state.accounts.get(id).and_then(|s| s.quota.quota.clone())
    }
}

/// Applies what the cached quota says about exhaustion: empty → exhausted until the reset date
/// (and a fetch due then, to verify); not empty → an exhaustion ends once its date passed or
/// the answer shows a later period.
fn exhaustion_from_quota(slot: &mut Slot, now: Instant, now_unix: i64) {
    let Some(q) = slot.quota.quota.as_ref() else {
        return;
    };
    if q.is_exhausted() {
        let wait = match q.next_reset {
            Some(reset) if reset > now_unix => secs(reset - now_unix),
            Some(_) => RECHECK_PAST_RESET,
            None => secs(kiro_wire::num::first_of_next_month(now_unix) - now_unix),
        };
        let until = now + wait;
        let period_reset = q.next_reset;
        slot.set_health(
            Health::Exhausted {
                until,
                reason: "quota_exhausted".to_owned(),
                period_reset,
            },
            now,
        );
        slot.quota.due_by(until);
    } else if let Some(Health::Exhausted {
        until,
        period_reset,
        ..
    }) = &slot.health
    {
        let new_period = matches!((period_reset, q.next_reset), (Some(p), Some(n)) if n > *p);
        if *until <= now || new_period {
            tracing::info!("account has credits again");
            slot.health = None;
        }
    }
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap_or(0).max(1))
}
