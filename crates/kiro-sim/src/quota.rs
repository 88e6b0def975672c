//! `getUsageLimits` (spec §3.6), `ListAvailableModels` (§3.7) and `ListAvailableProfiles`
//! (§3.8).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde::Serialize;

use crate::accounts::{Account, AccountKind};
use crate::bearer::admit;
use crate::clock::days_until;
use crate::errors::ErrorKind;
use crate::exchange::Exchange;
use crate::models::{self, Tier};
use crate::state::SimState;

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn floor_u64(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.floor() as u64
    } else {
        0
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageLimits {
    next_date_reset: i64,
    days_until_reset: i64,
    subscription_info: SubscriptionInfo,
    overage_configuration: OverageConfiguration,
    usage_breakdown_list: Vec<UsageBreakdown>,
    user_info: UserInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionInfo {
    subscription_title: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    overage_capability: &'static str,
    upgrade_capability: &'static str,
    subscription_management_target: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OverageConfiguration {
    overage_status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageBreakdown {
    resource_type: &'static str,
    display_name: &'static str,
    display_name_plural: &'static str,
    unit: &'static str,
    currency: &'static str,
    current_usage: u64,
    current_usage_with_precision: f64,
    usage_limit: u64,
    usage_limit_with_precision: f64,
    current_overages: u64,
    current_overages_with_precision: f64,
    overage_cap: u64,
    overage_cap_with_precision: f64,
    overage_rate: f64,
    overage_charges: f64,
    next_date_reset: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    free_trial_info: Option<FreeTrialInfo>,
    bonuses: Vec<BonusInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FreeTrialInfo {
    free_trial_status: String,
    usage_limit: u64,
    usage_limit_with_precision: f64,
    current_usage: u64,
    current_usage_with_precision: f64,
    free_trial_expiry: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BonusInfo {
    bonus_code: String,
    display_name: String,
    status: String,
    usage_limit: u64,
    usage_limit_with_precision: f64,
    current_usage: u64,
    current_usage_with_precision: f64,
    expires_at: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserInfo {
    email: String,
    user_id: String,
}

/// Overage price per credit (spec §3.6 example).
const OVERAGE_RATE: f64 = 0.04;

fn usage_body(a: &Account, now_secs: i64) -> UsageLimits {
    let used = cents(a.credits_used);
    let limit = cents(a.credit_limit);
    let overages = cents((a.credits_used - a.credit_limit).max(0.0));
    let paid = a.tier != Tier::Free;
    UsageLimits {
        next_date_reset: a.next_date_reset,
        days_until_reset: days_until(now_secs, a.next_date_reset),
        subscription_info: SubscriptionInfo {
            subscription_title: a.tier.title(),
            kind: a.tier.subscription_type(),
            overage_capability: if paid {
                "OVERAGE_CAPABLE"
            } else {
                "OVERAGE_INCAPABLE"
            },
            upgrade_capability: if a.tier == Tier::Power {
                "UPGRADE_INCAPABLE"
            } else {
                "UPGRADE_CAPABLE"
            },
            subscription_management_target: if paid { "MANAGE" } else { "PURCHASE" },
        },
        overage_configuration: OverageConfiguration {
            overage_status: if a.overage_enabled {
                "ENABLED"
            } else {
                "DISABLED"
            },
        },
        usage_breakdown_list: vec![UsageBreakdown {
            resource_type: "CREDIT",
            display_name: "Credit",
            display_name_plural: "Credits",
            unit: "INVOCATIONS",
            currency: "USD",
            current_usage: floor_u64(used),
            current_usage_with_precision: used,
            usage_limit: floor_u64(limit),
            usage_limit_with_precision: limit,
            current_overages: floor_u64(overages),
            current_overages_with_precision: overages,
            overage_cap: floor_u64(a.overage_cap),
            overage_cap_with_precision: cents(a.overage_cap),
            overage_rate: OVERAGE_RATE,
            overage_charges: cents(overages * OVERAGE_RATE),
            next_date_reset: a.next_date_reset,
            free_trial_info: a.free_trial.as_ref().map(|t| FreeTrialInfo {
                free_trial_status: t.status.clone(),
                usage_limit: floor_u64(t.limit),
                usage_limit_with_precision: cents(t.limit),
                current_usage: floor_u64(t.used),
                current_usage_with_precision: cents(t.used),
                free_trial_expiry: t.expiry,
            }),
            bonuses: a
                .bonuses
                .iter()
                .map(|b| BonusInfo {
                    bonus_code: b.code.clone(),
                    display_name: b.display_name.clone(),
                    status: b.status.clone(),
                    usage_limit: floor_u64(b.limit),
                    usage_limit_with_precision: cents(b.limit),
                    current_usage: floor_u64(b.used),
                    current_usage_with_precision: cents(b.used),
                    expires_at: b.expires_at,
                })
                .collect(),
        }],
        user_info: UserInfo {
            email: a.email.clone(),
            user_id: a.user_id.clone(),
        },
    }
}

/// `GET /getUsageLimits`.
pub async fn usage_limits(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let query = ex.query();
    let sent_arn = query.get("profileArn").map(String::as_str);
    let admitted = match admit(&ex, sent_arn.is_some(), ErrorKind::InvalidProfileArn).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caller = admitted.caller;
    if caller.kind != AccountKind::ApiKey {
        // Social and IdC accounts must name their own profile (§3.6); Builder ID has none.
        let ok = match (caller.profile_arn.as_deref(), sent_arn) {
            (Some(own), Some(sent)) => own == sent,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if !ok {
            return ex.fail(
                Some(&caller.account_id),
                &ErrorKind::InvalidProfileArn.response(),
                "usage_profile_arn",
            );
        }
    }
    let now_secs = ex.now_ms.div_euclid(1000);
    let account = {
        let mut inner = ex.state.lock();
        inner.roll_period(&caller.account_id, now_secs);
        inner.accounts.get(&caller.account_id).cloned()
    };
    match account {
        Some(a) => ex.ok_json(Some(&a.id), &usage_body(&a, now_secs)),
        None => ex.fail(
            None,
            &ErrorKind::BearerTokenInvalid.response(),
            "account_deleted",
        ),
    }
}

/// `GET|POST /ListAvailableModels`.
pub async fn list_models(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let in_query = ex.query().contains_key("profileArn");
    let in_body = serde_json::from_slice::<serde_json::Value>(&ex.body)
        .ok()
        .is_some_and(|v| v.get("profileArn").is_some());
    let admitted = match admit(&ex, in_query || in_body, ErrorKind::AccessDeniedException).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caller = admitted.caller;
    ex.ok_json(
        Some(&caller.account_id),
        &models::list_available_models(caller.tier),
    )
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Profiles {
    profiles: Vec<Profile>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    arn: String,
    profile_name: &'static str,
}

/// `POST /ListAvailableProfiles`.
pub async fn list_profiles(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let in_query = ex.query().contains_key("profileArn");
    let admitted = match admit(&ex, in_query, ErrorKind::AccessDeniedException).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caller = admitted.caller;
    let profiles = caller
        .profile_arn
        .iter()
        .map(|arn| Profile {
            arn: arn.clone(),
            profile_name: "QDefaultProfile",
        })
        .collect();
    ex.ok_json(
        Some(&caller.account_id),
        &Profiles {
            profiles,
            next_token: None,
        },
    )
}
