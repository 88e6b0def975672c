//! Simulated Kiro accounts (spec §2, §3.6): kind, plan, credits, reset date, profile ARN,
//! identity and state, plus the requests the control API uses to create and change them.

use serde::{Deserialize, Serialize};

use crate::models::Tier;

/// The three credential kinds (spec §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Social,
    Idc,
    ApiKey,
}

/// What a refresh does with the refresh token (spec §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// The same refresh token comes back.
    #[default]
    Same,
    /// A new refresh token; the old one keeps working.
    New,
    /// A new refresh token; the old one is revoked (`invalid_grant` / 400 afterwards).
    NewAndRevokeOld,
    /// No `refreshToken` key in the response (the client keeps its token, which stays valid).
    Absent,
}

/// Whether the service lets the account in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    #[default]
    Active,
    /// Every q call answers 403 `TEMPORARILY_SUSPENDED`.
    Suspended,
}

/// `freeTrialInfo` of `getUsageLimits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreeTrial {
    /// `ACTIVE` or `EXPIRED` (only `ACTIVE` counts toward the usable limit).
    pub status: String,
    pub limit: f64,
    pub used: f64,
    /// Epoch seconds.
    pub expiry: i64,
}

impl Default for FreeTrial {
    fn default() -> Self {
        FreeTrial {
            status: "ACTIVE".to_owned(),
            limit: 500.0,
            used: 0.0,
            expiry: 0,
        }
    }
}

/// One entry of `bonuses` in `getUsageLimits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bonus {
    pub code: String,
    pub display_name: String,
    /// `ACTIVE` or `EXPIRED`.
    pub status: String,
    pub limit: f64,
    pub used: f64,
    /// Epoch seconds.
    pub expires_at: i64,
}

impl Default for Bonus {
    fn default() -> Self {
        Bonus {
            code: "WELCOME".to_owned(),
            display_name: "Welcome bonus".to_owned(),
            status: "ACTIVE".to_owned(),
            limit: 100.0,
            used: 0.0,
            expires_at: 0,
        }
    }
}

/// One simulated account. Secrets live in the state's token tables, not here.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub kind: AccountKind,
    pub tier: Tier,
    /// Base monthly credits (`usageLimitWithPrecision`).
    pub credit_limit: f64,
    /// Credits used this period (`currentUsageWithPrecision`).
    pub credits_used: f64,
    pub free_trial: Option<FreeTrial>,
    pub bonuses: Vec<Bonus>,
    /// When set, use may run past the limit up to `overage_cap` more credits.
    pub overage_enabled: bool,
    pub overage_cap: f64,
    /// Epoch seconds of the next monthly reset.
    pub next_date_reset: i64,
    pub profile_arn: Option<String>,
    pub api_region: String,
    pub auth_region: String,
    pub email: String,
    pub user_id: String,
    pub status: AccountStatus,
    pub rotation: Rotation,
    /// `expiresIn` of access tokens issued to this account.
    pub expires_in: u64,
    /// Lifetime of issued refresh tokens; `None` = they never expire.
    pub refresh_token_lifetime_secs: Option<u64>,
    /// IdC: the registration the tokens are bound to, and the start URL.
    pub client_id: Option<String>,
    pub start_url: Option<String>,
    /// When true, chat without this account's own `profileArn` in the body answers 403
    /// (the disputed IdC behaviour of spec §2.3).
    pub chat_requires_profile_arn: bool,
    /// Chats served (streams started).
    pub chats: u64,
}

impl Account {
    /// Limit usable before 402: base + active free trial + active bonuses (spec §3.6).
    pub fn usable_limit(&self) -> f64 {
        let trial = self
            .free_trial
            .as_ref()
            .filter(|t| t.status.eq_ignore_ascii_case("ACTIVE"))
            .map_or(0.0, |t| t.limit);
        let bonus: f64 = self
            .bonuses
            .iter()
            .filter(|b| b.status.eq_ignore_ascii_case("ACTIVE"))
            .map(|b| b.limit)
            .sum();
        self.credit_limit + trial + bonus
    }

    /// Usage counted against [`Account::usable_limit`].
    pub fn usable_used(&self) -> f64 {
        let trial = self
            .free_trial
            .as_ref()
            .filter(|t| t.status.eq_ignore_ascii_case("ACTIVE"))
            .map_or(0.0, |t| t.used);
        let bonus: f64 = self
            .bonuses
            .iter()
            .filter(|b| b.status.eq_ignore_ascii_case("ACTIVE"))
            .map(|b| b.used)
            .sum();
        self.credits_used + trial + bonus
    }

    /// True when chat must answer 402 `MONTHLY_REQUEST_COUNT`.
    pub fn exhausted(&self) -> bool {
        let cap = if self.overage_enabled {
            self.usable_limit() + self.overage_cap
        } else {
            self.usable_limit()
        };
        self.usable_used() >= cap
    }

    /// Charges `credits`: the free trial and bonuses are used first while they last, then the
    /// base allowance (which may run into overage).
    pub fn debit(&mut self, credits: f64) {
        let mut left = credits;
        if let Some(t) = self
            .free_trial
            .as_mut()
            .filter(|t| t.status.eq_ignore_ascii_case("ACTIVE"))
        {
            let take = left.min((t.limit - t.used).max(0.0));
            t.used += take;
            left -= take;
        }
        for b in self
            .bonuses
            .iter_mut()
            .filter(|b| b.status.eq_ignore_ascii_case("ACTIVE"))
        {
            let take = left.min((b.limit - b.used).max(0.0));
            b.used += take;
            left -= take;
        }
        self.credits_used += left;
    }

    /// Starts a new period: usage back to zero and the next reset a month on.
    pub fn reset_usage(&mut self, now_secs: i64) {
        self.credits_used = 0.0;
        if let Some(t) = self.free_trial.as_mut() {
            t.used = 0.0;
        }
        for b in &mut self.bonuses {
            b.used = 0.0;
        }
        self.next_date_reset = crate::clock::first_of_next_month(now_secs);
    }
}

/// `POST /_sim/accounts`. Everything but `kind` is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreateAccount {
    pub kind: Option<AccountKind>,
    pub id: Option<String>,
    pub tier: Option<Tier>,
    pub credit_limit: Option<f64>,
    pub credits_used: Option<f64>,
    pub free_trial: Option<FreeTrial>,
    pub bonuses: Option<Vec<Bonus>>,
    pub overage_enabled: Option<bool>,
    pub overage_cap: Option<f64>,
    pub next_date_reset: Option<i64>,
    /// `Some(None)` (JSON `null`) = no ARN; absent = the kind's default.
    #[serde(deserialize_with = "double_option")]
    pub profile_arn: Option<Option<String>>,
    pub api_region: Option<String>,
    pub auth_region: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub status: Option<AccountStatus>,
    pub suspended: Option<bool>,
    pub rotation: Option<Rotation>,
    pub expires_in: Option<u64>,
    pub refresh_token_lifetime_secs: Option<u64>,
    pub start_url: Option<String>,
    pub chat_requires_profile_arn: Option<bool>,
}

/// `PATCH /_sim/accounts/{id}`: the same fields, all optional.
pub type PatchAccount = CreateAccount;

/// Distinguishes an absent key (outer `None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

impl Account {
    /// Applies the fields present in `p` (the kind and id never change).
    pub fn apply(&mut self, p: &PatchAccount) {
        if let Some(t) = p.tier {
            self.tier = t;
        }
        if let Some(v) = p.credit_limit {
            self.credit_limit = v;
        }
        if let Some(v) = p.credits_used {
            self.credits_used = v;
        }
        if let Some(v) = &p.free_trial {
            self.free_trial = Some(v.clone());
        }
        if let Some(v) = &p.bonuses {
            self.bonuses = v.clone();
        }
        if let Some(v) = p.overage_enabled {
            self.overage_enabled = v;
        }
        if let Some(v) = p.overage_cap {
            self.overage_cap = v;
        }
        if let Some(v) = p.next_date_reset {
            self.next_date_reset = v;
        }
        if let Some(v) = &p.profile_arn {
            self.profile_arn = v.clone();
        }
        if let Some(v) = &p.api_region {
            self.api_region = v.clone();
        }
        if let Some(v) = &p.auth_region {
            self.auth_region = v.clone();
        }
        if let Some(v) = &p.email {
            self.email = v.clone();
        }
        if let Some(v) = &p.user_id {
            self.user_id = v.clone();
        }
        if let Some(v) = p.status {
            self.status = v;
        }
        if let Some(s) = p.suspended {
            self.status = if s {
                AccountStatus::Suspended
            } else {
                AccountStatus::Active
            };
        }
        if let Some(v) = p.rotation {
            self.rotation = v;
        }
        if let Some(v) = p.expires_in {
            self.expires_in = v;
        }
        if let Some(v) = p.refresh_token_lifetime_secs {
            self.refresh_token_lifetime_secs = Some(v);
        }
        if let Some(v) = &p.start_url {
            self.start_url = Some(v.clone());
        }
        if let Some(v) = p.chat_requires_profile_arn {
            self.chat_requires_profile_arn = v;
        }
    }
}

/// What `POST /_sim/accounts` returns: the account and the secrets a test needs.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSecrets {
    pub account: Account,
    pub access_token: Option<String>,
    /// Epoch seconds when `access_token` expires.
    pub expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub api_key: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_expires_at: Option<i64>,
}
