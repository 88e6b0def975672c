//! An account's quota as the pool knows it: the last `getUsageLimits` answer (spec §3.6) reduced
//! to what selection needs, minus the credits metered since (§7.6), with its age and last error.

use std::time::{Duration, Instant};

use kiro_wire::types::UsageLimitsResponse;
use serde::Serialize;

/// Credits below which an account counts as out of credits (metering is to 0.01).
const EMPTY: f64 = 0.005;

/// What a `getUsageLimits` answer says about an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    /// Usable limit: base + active free trial + active bonuses (precision fields).
    pub limit: f64,
    /// Usage counted the same way, including credits metered since the fetch.
    pub used: f64,
    /// Base allowance alone, and the active trial and bonus parts of `limit`.
    pub base_limit: f64,
    pub trial_limit: f64,
    pub bonus_limit: f64,
    /// Credits that overage billing still allows, when the operator enabled overage.
    pub overage_headroom: Option<f64>,
    /// Epoch seconds of the next monthly reset.
    pub next_reset: Option<i64>,
    /// `subscriptionTitle` (`KIRO PRO`) and `type` (`Q_DEVELOPER_STANDALONE_PRO`).
    pub plan_title: Option<String>,
    pub plan_type: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<String>,
    /// False when the answer had no usage entry: the limit is unknown, only the plan and
    /// identity are.
    pub metered: bool,
}

impl Quota {
    pub fn from_response(r: &UsageLimitsResponse) -> Quota {
        let entry = r.credit_entry();
        let (limit, used, base_limit, trial_limit, bonus_limit, overage_headroom) = match entry {
            Some(e) => {
                let trial = e
                    .free_trial_info
                    .as_ref()
                    .filter(|t| active(t.free_trial_status.as_deref()))
                    .map_or(0.0, |t| t.amounts.limit());
                let bonus: f64 = e
                    .bonuses
                    .iter()
                    .filter(|b| active(b.status.as_deref()))
                    .map(|b| b.amounts.limit())
                    .fold(0.0, |a, b| a + b);
                let overage_on = r
                    .overage_configuration
                    .as_ref()
                    .and_then(|o| o.is_enabled())
                    .unwrap_or(false);
                let headroom = overage_on.then(|| {
                    let cap = e
                        .overage_cap_with_precision
                        .or(e.overage_cap.map(|c| c as f64))
                        .unwrap_or(0.0);
                    let spent = e
                        .current_overages_with_precision
                        .or(e.current_overages.map(|c| c as f64))
                        .unwrap_or(0.0);
                    (cap - spent).max(0.0)
                });
                (
                    e.usable_limit(),
                    e.used(),
                    e.amounts.limit(),
                    trial,
                    bonus,
                    headroom,
                )
            }
            None => (0.0, 0.0, 0.0, 0.0, 0.0, None),
        };
        let sub = r.subscription_info.as_ref();
        Quota {
            limit,
            used,
            base_limit,
            trial_limit,
            bonus_limit,
            overage_headroom,
            next_reset: r.next_reset(),
            plan_title: sub.and_then(|s| s.subscription_title.clone()),
            plan_type: sub.and_then(|s| s.type_.clone()),
            email: r.email().map(str::to_owned),
            user_id: r.user_id().map(str::to_owned),
            metered: entry.is_some(),
        }
    }

    /// Credits left of the usable limit (never negative).
    pub fn remaining(&self) -> f64 {
        (self.limit - self.used).max(0.0)
    }

    /// Credits the account can still spend: the remainder plus any overage headroom. This is
    /// what selection weighs.
    pub fn spendable(&self) -> f64 {
        self.remaining() + self.overage_headroom.unwrap_or(0.0)
    }

    /// Out of credits until the reset (known only for a metered answer).
    pub fn is_exhausted(&self) -> bool {
        self.metered && self.spendable() < EMPTY
    }

    /// True when the plan is known to be a free one.
    pub fn is_free_plan(&self) -> bool {
        let free = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|s| s.to_ascii_uppercase().contains("FREE"))
        };
        free(&self.plan_type) || free(&self.plan_title)
    }

    /// Whether the plan allows `model` (an upstream id): free plans have no Opus (spec §3.7,
    /// §10: the model list is filtered by tier). Unknown plans allow everything.
    pub fn allows(&self, model: &str) -> bool {
        !(self.is_free_plan() && model.to_ascii_lowercase().contains("opus"))
    }
}

fn active(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.trim().eq_ignore_ascii_case("ACTIVE"))
}

/// The pool's quota knowledge of one account.
#[derive(Debug, Default)]
pub struct QuotaCache {
    pub quota: Option<Quota>,
    /// When the quota was fetched (monotonic, for the age) and its wall-clock time.
    pub fetched: Option<(Instant, i64)>,
    /// Credits metered since the fetch (already deducted in `quota.used`).
    pub deducted: f64,
    /// The last failed fetch: what went wrong and when (epoch seconds). Kept until a fetch
    /// succeeds; the stale quota stays in use meanwhile.
    pub last_error: Option<(String, i64)>,
    /// When the last fetch failed (monotonic).
    pub failed_at: Option<Instant>,
    /// When the next fetch is due.
    pub due: Option<Instant>,
    /// A fetch is running.
    pub fetching: bool,
}

impl QuotaCache {
    /// Records a fresh answer.
    pub fn fresh(&mut self, quota: Quota, now: Instant, now_unix: i64) {
        self.quota = Some(quota);
        self.fetched = Some((now, now_unix));
        self.deducted = 0.0;
        self.last_error = None;
        self.failed_at = None;
    }

    /// Deducts metered credits at once (spec §7.6).
    pub fn deduct(&mut self, credits: f64) {
        if !(credits.is_finite() && credits > 0.0) {
            return;
        }
        self.deducted += credits;
        if let Some(q) = self.quota.as_mut() {
            q.used += credits;
            if let Some(h) = q.overage_headroom.as_mut() {
                // Past the limit, credits come out of the overage allowance.
                let over = (q.used - q.limit).clamp(0.0, credits);
                *h = (*h - over).max(0.0);
            }
        }
    }

    /// Age of the cached answer.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.fetched
            .map(|(at, _)| now.saturating_duration_since(at))
    }

    /// True when there is no answer yet, or it is older than `max_age`.
    pub fn is_stale(&self, now: Instant, max_age: Duration) -> bool {
        self.age(now).is_none_or(|a| a >= max_age)
    }

    /// Schedules a fetch no later than `at`; true when that is sooner than planned (a fetch
    /// already running counts as planned).
    pub fn due_by(&mut self, at: Instant) -> bool {
        let sooner = !self.fetching && self.due.is_none_or(|d| at < d);
        self.due = Some(self.due.map_or(at, |d| d.min(at)));
        sooner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(json: serde_json::Value) -> UsageLimitsResponse {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn precision_trial_bonus_and_plan() {
        let r = response(serde_json::json!({
            "nextDateReset": 1_780_272_000,
            "subscriptionInfo": {"subscriptionTitle": "KIRO PRO", "type": "Q_DEVELOPER_STANDALONE_PRO"},
            "usageBreakdownList": [{
                "resourceType": "CREDIT", "currentUsage": 100, "currentUsageWithPrecision": 100.59,
                "usageLimit": 1000, "usageLimitWithPrecision": 1000.0,
                "freeTrialInfo": {"freeTrialStatus": "ACTIVE", "usageLimitWithPrecision": 500.0,
                    "currentUsageWithPrecision": 3.25},
                "bonuses": [{"status": "ACTIVE", "usageLimitWithPrecision": 100.0, "currentUsageWithPrecision": 0.0},
                            {"status": "EXPIRED", "usageLimitWithPrecision": 50.0}]
            }],
            "userInfo": {"email": "u@example.com", "userId": "d-1.abc"}
        }));
        let q = Quota::from_response(&r);
        assert!((q.limit - 1600.0).abs() < 1e-9);
        assert!((q.used - 103.84).abs() < 1e-9);
        assert!((q.remaining() - 1496.16).abs() < 1e-9);
        assert_eq!(q.next_reset, Some(1_780_272_000));
        assert_eq!(q.plan_title.as_deref(), Some("KIRO PRO"));
        assert_eq!(q.email.as_deref(), Some("u@example.com"));
        assert!(!q.is_free_plan());
        assert!(q.allows("claude-opus-4.5"));
        assert!(!q.is_exhausted());
    }

    #[test]
    fn free_plan_has_no_opus_and_metering_deducts() {
        let r = response(serde_json::json!({
            "subscriptionInfo": {"subscriptionTitle": "KIRO FREE", "type": "Q_DEVELOPER_STANDALONE_FREE"},
            "usageBreakdownList": [{"resourceType": "CREDIT", "usageLimitWithPrecision": 50.0,
                "currentUsageWithPrecision": 49.5}]
        }));
        let q = Quota::from_response(&r);
        assert!(q.is_free_plan());
        assert!(!q.allows("claude-opus-4.7"));
        assert!(q.allows("claude-sonnet-4.5"));
        let mut c = QuotaCache::default();
        c.fresh(q, Instant::now(), 0);
        c.deduct(0.25);
        assert!((c.quota.as_ref().unwrap().remaining() - 0.25).abs() < 1e-9);
        c.deduct(0.3);
        assert!(c.quota.as_ref().unwrap().is_exhausted());
        assert!((c.deducted - 0.55).abs() < 1e-9);
    }

    #[test]
    fn overage_keeps_an_account_spendable() {
        let r = response(serde_json::json!({
            "overageConfiguration": {"overageStatus": "ENABLED"},
            "usageBreakdownList": [{"resourceType": "CREDIT", "usageLimitWithPrecision": 1000.0,
                "currentUsageWithPrecision": 1280.59, "currentOveragesWithPrecision": 280.59,
                "overageCapWithPrecision": 10000.0}]
        }));
        let q = Quota::from_response(&r);
        assert_eq!(q.remaining(), 0.0);
        assert!((q.spendable() - 9719.41).abs() < 1e-6);
        assert!(!q.is_exhausted());
        // No usage entry: nothing known about the limit, never "exhausted".
        let q = Quota::from_response(&response(serde_json::json!({})));
        assert!(!q.metered && !q.is_exhausted());
    }
}
