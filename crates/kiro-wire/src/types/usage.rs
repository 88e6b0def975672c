//! The `getUsageLimits` response (§3.6) and the quota arithmetic the spec prescribes.
//!
//! Every field is optional. Counts go through [`crate::num`]: integers may arrive as floats or in
//! exponent form, `…WithPrecision` fields are floats, dates are epoch seconds or ISO-8601.

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::num;

/// `GET {q}/getUsageLimits` response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageLimitsResponse {
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_date_reset: Option<i64>,
    /// Unreliable (§3.6): recompute from [`UsageLimitsResponse::next_reset`].
    #[serde(
        default,
        deserialize_with = "num::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub days_until_reset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_info: Option<SubscriptionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overage_configuration: Option<OverageConfiguration>,
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub usage_breakdown_list: Vec<UsageBreakdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_info: Option<UserInfo>,
}

impl UsageLimitsResponse {
    /// The entry that meters credits: `resourceType` `CREDIT` (any case), else
    /// `AGENTIC_REQUEST` (older responses), else the first.
    pub fn credit_entry(&self) -> Option<&UsageBreakdown> {
        let list = &self.usage_breakdown_list;
        list.iter()
            .find(|e| e.has_resource_type("CREDIT"))
            .or_else(|| list.iter().find(|e| e.has_resource_type("AGENTIC_REQUEST")))
            .or_else(|| list.first())
    }

    /// Next reset, epoch seconds: the credit entry's, else the top-level one.
    pub fn next_reset(&self) -> Option<i64> {
        self.credit_entry()
            .and_then(|e| e.next_date_reset)
            .or(self.next_date_reset)
    }

    pub fn email(&self) -> Option<&str> {
        self.user_info.as_ref().and_then(|u| u.email.as_deref())
    }

    /// `d-<directory>.<uuid>` for IdC, a bare UUID for social.
    pub fn user_id(&self) -> Option<&str> {
        self.user_info.as_ref().and_then(|u| u.user_id.as_deref())
    }

    /// `subscriptionTitle`, e.g. `KIRO PRO`.
    pub fn plan_title(&self) -> Option<&str> {
        self.subscription_info
            .as_ref()
            .and_then(|s| s.subscription_title.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_title: Option<String>,
    /// e.g. `Q_DEVELOPER_STANDALONE_PRO`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overage_capability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_capability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_management_target: Option<String>,
}

/// Seen both as `{"overageStatus": "ENABLED"}` and as `{"overageEnabled": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverageConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overage_status: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub overage_enabled: Option<bool>,
}

impl OverageConfiguration {
    /// Whether overage billing is on, from whichever shape was sent.
    pub fn is_enabled(&self) -> Option<bool> {
        self.overage_enabled.or_else(|| {
            self.overage_status
                .as_deref()
                .map(|s| s.trim().eq_ignore_ascii_case("ENABLED"))
        })
    }
}

/// One entry of `usageBreakdownList`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageBreakdown {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name_plural: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_overages: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_overages_with_precision: Option<f64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub overage_cap: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub overage_cap_with_precision: Option<f64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub overage_rate: Option<f64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub overage_charges: Option<f64>,
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_date_reset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial_info: Option<FreeTrialInfo>,
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bonuses: Vec<Bonus>,
}

impl UsageBreakdown {
    fn has_resource_type(&self, kind: &str) -> bool {
        self.resource_type
            .as_deref()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(kind))
    }

    fn active_extras(&self) -> impl Iterator<Item = &Amounts> {
        let trial = self
            .free_trial_info
            .as_ref()
            .filter(|t| is_active(t.free_trial_status.as_deref()))
            .map(|t| &t.amounts);
        let bonuses = self
            .bonuses
            .iter()
            .filter(|b| is_active(b.status.as_deref()))
            .map(|b| &b.amounts);
        trial.into_iter().chain(bonuses)
    }

    /// Base limit + active free trial + active bonuses (§3.6).
    pub fn usable_limit(&self) -> f64 {
        self.amounts.limit() + self.active_extras().map(Amounts::limit).sum::<f64>()
    }

    /// Usage summed the same way as [`UsageBreakdown::usable_limit`].
    pub fn used(&self) -> f64 {
        self.amounts.used() + self.active_extras().map(Amounts::used).sum::<f64>()
    }

    /// What is left of the usable limit; never negative (overage shows as 0).
    pub fn remaining(&self) -> f64 {
        (self.usable_limit() - self.used()).max(0.0)
    }
}

fn is_active(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.trim().eq_ignore_ascii_case("ACTIVE"))
}

/// The limit/usage quadruple shared by the base entry, the free trial and each bonus.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    /// Rounded down by the service; prefer [`Amounts::usage_limit_with_precision`].
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub usage_limit: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub usage_limit_with_precision: Option<f64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_usage: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_usage_with_precision: Option<f64>,
}

impl Amounts {
    /// The precise limit, else the integer one, else 0.
    pub fn limit(&self) -> f64 {
        self.usage_limit_with_precision
            .or(self.usage_limit.map(|v| v as f64))
            .unwrap_or(0.0)
    }

    /// The precise usage, else the integer one, else 0.
    pub fn used(&self) -> f64 {
        self.current_usage_with_precision
            .or(self.current_usage.map(|v| v as f64))
            .unwrap_or(0.0)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeTrialInfo {
    /// Counts only when `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial_status: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub free_trial_expiry: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bonus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Counts only when `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
    #[serde(
        default,
        deserialize_with = "num::opt_epoch_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}
