//! `getUsageLimits` (spec §3.6) and its quota arithmetic.

mod types_common;

use kiro_wire::types::*;
use serde_json::{Value, json};
use types_common::{parse, parse_lenient};

/// Spec §3.6, verbatim.
const SPEC_3_6: &str = r#"{
  "nextDateReset": 1780272000, "daysUntilReset": 12,
  "subscriptionInfo": {"subscriptionTitle": "KIRO PRO", "type": "Q_DEVELOPER_STANDALONE_PRO",
    "overageCapability": "OVERAGE_CAPABLE", "upgradeCapability": "UPGRADE_CAPABLE", "subscriptionManagementTarget": "MANAGE"},
  "overageConfiguration": {"overageStatus": "ENABLED"},
  "usageBreakdownList": [{
    "resourceType": "CREDIT", "displayName": "Credit", "displayNamePlural": "Credits", "unit": "INVOCATIONS", "currency": "USD",
    "currentUsage": 1280, "currentUsageWithPrecision": 1280.59, "usageLimit": 1000, "usageLimitWithPrecision": 1000.0,
    "currentOverages": 280, "currentOveragesWithPrecision": 280.59, "overageCap": 10000, "overageCapWithPrecision": 10000.0,
    "overageRate": 0.04, "overageCharges": 11.22, "nextDateReset": 1780272000,
    "freeTrialInfo": {"freeTrialStatus": "ACTIVE", "usageLimit": 500, "usageLimitWithPrecision": 500.0,
      "currentUsage": 3, "currentUsageWithPrecision": 3.25, "freeTrialExpiry": 1781000000},
    "bonuses": [{"bonusCode": "WELCOME", "displayName": "Welcome bonus", "status": "ACTIVE", "usageLimit": 100,
      "usageLimitWithPrecision": 100.0, "currentUsage": 0, "currentUsageWithPrecision": 0.0, "expiresAt": 1782000000}]
  }],
  "userInfo": {"email": "user@example.com", "userId": "d-9067xxxxxx.1a2b3c4d-..."}
}"#;

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

fn spec_value() -> Value {
    parse(SPEC_3_6)
}

fn with_entry(f: impl FnOnce(&mut Value)) -> UsageLimitsResponse {
    let mut v = spec_value();
    f(&mut v["usageBreakdownList"][0]);
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn spec_example_parses_every_field() {
    let usage: UsageLimitsResponse = parse_lenient(SPEC_3_6);
    assert_eq!(usage.next_date_reset, Some(1_780_272_000));
    assert_eq!(usage.days_until_reset, Some(12));
    assert_eq!(usage.plan_title(), Some("KIRO PRO"));
    assert_eq!(
        usage.subscription_info.as_ref().unwrap().type_.as_deref(),
        Some("Q_DEVELOPER_STANDALONE_PRO")
    );
    assert_eq!(usage.email(), Some("user@example.com"));
    assert_eq!(usage.user_id(), Some("d-9067xxxxxx.1a2b3c4d-..."));
    assert_eq!(
        usage.overage_configuration.as_ref().unwrap().is_enabled(),
        Some(true)
    );

    let e = usage.credit_entry().unwrap();
    assert_eq!(e.display_name_plural.as_deref(), Some("Credits"));
    assert_eq!(e.amounts.current_usage, Some(1280));
    assert_eq!(e.current_overages, Some(280));
    assert_eq!(e.current_overages_with_precision, Some(280.59));
    assert_eq!(e.overage_cap, Some(10_000));
    assert_eq!(e.overage_rate, Some(0.04));
    assert_eq!(e.overage_charges, Some(11.22));
    let trial = e.free_trial_info.as_ref().unwrap();
    assert_eq!(trial.free_trial_expiry, Some(1_781_000_000));
    assert_eq!(e.bonuses[0].bonus_code.as_deref(), Some("WELCOME"));
    assert_eq!(e.bonuses[0].expires_at, Some(1_782_000_000));

    // Serialising keeps the same document (flattened amounts included).
    assert_eq!(serde_json::to_value(&usage).unwrap(), spec_value());
}

#[test]
fn spec_example_arithmetic() {
    let usage: UsageLimitsResponse = parse(SPEC_3_6);
    let e = usage.credit_entry().unwrap();
    assert_close(e.usable_limit(), 1000.0 + 500.0 + 100.0);
    assert_close(e.used(), 1280.59 + 3.25 + 0.0);
    assert_close(e.remaining(), 1600.0 - 1283.84);
    assert_eq!(usage.next_reset(), Some(1_780_272_000));
}

#[test]
fn inactive_trial_and_bonus_are_excluded() {
    let usage = with_entry(|e| {
        e["freeTrialInfo"]["freeTrialStatus"] = json!("EXPIRED");
        e["bonuses"][0]["status"] = json!("EXHAUSTED");
    });
    let e = usage.credit_entry().unwrap();
    assert_close(e.usable_limit(), 1000.0);
    assert_close(e.used(), 1280.59);
    assert_eq!(e.remaining(), 0.0, "overage is never negative remaining");

    // Status compared case-insensitively; a missing status is inactive.
    let usage = with_entry(|e| {
        e["freeTrialInfo"]["freeTrialStatus"] = json!("active");
        e["bonuses"][0].as_object_mut().unwrap().remove("status");
    });
    assert_close(usage.credit_entry().unwrap().usable_limit(), 1500.0);
}

#[test]
fn integer_fields_are_the_fallback() {
    let usage = with_entry(|e| {
        let e = e.as_object_mut().unwrap();
        e.remove("currentUsageWithPrecision");
        e.remove("usageLimitWithPrecision");
        e["freeTrialInfo"]
            .as_object_mut()
            .unwrap()
            .remove("currentUsageWithPrecision");
    });
    let e = usage.credit_entry().unwrap();
    assert_close(e.usable_limit(), 1600.0);
    assert_close(e.used(), 1280.0 + 3.0);
}

#[test]
fn exponent_form_and_iso_dates() {
    let usage: UsageLimitsResponse = parse_lenient(
        r#"{"nextDateReset": "2026-06-01T00:00:00Z", "daysUntilReset": 1.2E1,
            "usageBreakdownList": [{"resourceType": "credit", "usageLimit": 1.0E3, "usageLimitWithPrecision": 1.0E3,
              "currentUsage": 5.0E1, "currentUsageWithPrecision": "50.5", "nextDateReset": 1.780272E9,
              "bonuses": null, "freeTrialInfo": {"freeTrialStatus": "ACTIVE", "usageLimit": 5E2,
              "freeTrialExpiry": "2026-06-10"}}]}"#,
    );
    assert_eq!(usage.next_date_reset, Some(1_780_272_000));
    assert_eq!(usage.days_until_reset, Some(12));
    let e = usage.credit_entry().unwrap();
    assert_eq!(e.amounts.usage_limit, Some(1000));
    assert_eq!(e.next_date_reset, Some(1_780_272_000));
    assert_eq!(
        e.free_trial_info.as_ref().unwrap().free_trial_expiry,
        Some(1_780_272_000 + 9 * 86_400)
    );
    assert_close(e.usable_limit(), 1500.0);
    assert_close(e.used(), 50.5);

    // The entry has no reset: fall back to the top level.
    let usage: UsageLimitsResponse = parse(
        r#"{"nextDateReset": "2026-06-01", "usageBreakdownList": [{"resourceType": "CREDIT"}]}"#,
    );
    assert_eq!(usage.next_reset(), Some(1_780_272_000));
}

#[test]
fn which_entry_is_the_credit_entry() {
    let pick = |json: &str| {
        parse::<UsageLimitsResponse>(json)
            .credit_entry()
            .and_then(|e| e.display_name.clone())
    };
    assert_eq!(
        pick(
            r#"{"usageBreakdownList": [{"resourceType": "AGENTIC_REQUEST", "displayName": "a"},
                 {"resourceType": "Credit", "displayName": "c"}]}"#
        ),
        Some("c".into())
    );
    assert_eq!(
        pick(
            r#"{"usageBreakdownList": [{"resourceType": "OTHER", "displayName": "o"},
                 {"resourceType": "AGENTIC_REQUEST", "displayName": "a"}]}"#
        ),
        Some("a".into())
    );
    assert_eq!(
        pick(
            r#"{"usageBreakdownList": [{"resourceType": "X", "displayName": "x"}, {"displayName": "y"}]}"#
        ),
        Some("x".into())
    );
    assert_eq!(pick(r#"{"usageBreakdownList": []}"#), None);
    assert_eq!(pick(r#"{"usageBreakdownList": null}"#), None);
    let empty: UsageLimitsResponse = parse("{}");
    assert!(
        empty.credit_entry().is_none() && empty.next_reset().is_none() && empty.email().is_none()
    );
}

#[test]
fn overage_configuration_both_shapes() {
    let cfg = |json: &str| {
        parse::<UsageLimitsResponse>(json)
            .overage_configuration
            .and_then(|c| c.is_enabled())
    };
    assert_eq!(
        cfg(r#"{"overageConfiguration": {"overageEnabled": true}}"#),
        Some(true)
    );
    assert_eq!(
        cfg(r#"{"overageConfiguration": {"overageEnabled": false}}"#),
        Some(false)
    );
    assert_eq!(
        cfg(r#"{"overageConfiguration": {"overageStatus": "DISABLED"}}"#),
        Some(false)
    );
    assert_eq!(cfg(r#"{"overageConfiguration": {}}"#), None);
}
