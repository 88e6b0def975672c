//! The pool thresholds an operator changes at runtime (`PUT /api/settings` `pool`): each field
//! validated on its own (a 400 naming `pool.<field>`), then together (the longest open period
//! not shorter than the first); stored as the overrides only, over the configuration, so that
//! `null` puts a field back to its configured value and a changed configuration still shows
//! through what was not overridden.
//!
//! Durations are seconds (fractions allowed, millisecond precision), as `GET` shows them.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::values::{FieldError, field_error, wrong_type};
use crate::config::PoolConfig;

/// Every field, as `GET /api/settings` names it.
pub const FIELDS: [&str; 20] = [
    "maxConcurrency",
    "leaseWaitSecs",
    "stickySessions",
    "stickyTtlSecs",
    "stickyMaxSessions",
    "defaultCooldownSecs",
    "failoverAttempts",
    "failoverBudgetSecs",
    "circuitFailures",
    "circuitFailureRate",
    "circuitMinRequests",
    "circuitWindowSecs",
    "circuitOpenDelaySecs",
    "circuitOpenMaxSecs",
    "circuitProbes",
    "circuitCloseSuccesses",
    "refreshIntervalSecs",
    "refreshConcurrency",
    "quotaIntervalSecs",
    "quotaAfterUseSecs",
];

/// Longest duration accepted (30 days).
const MAX_SECS: f64 = 30.0 * 86_400.0;

/// The thresholds as `GET /api/settings` shows them.
pub fn view(p: &PoolConfig) -> Value {
    let secs = |d: Duration| d.as_secs_f64();
    json!({
        "maxConcurrency": p.max_concurrency,
        "leaseWaitSecs": secs(p.lease_wait),
        "stickySessions": p.sticky_sessions,
        "stickyTtlSecs": secs(p.sticky_ttl),
        "stickyMaxSessions": p.sticky_max_sessions,
        "defaultCooldownSecs": secs(p.default_cooldown),
        "failoverAttempts": p.failover_attempts,
        "failoverBudgetSecs": secs(p.failover_budget),
        "circuitFailures": p.circuit_failures,
        "circuitFailureRate": p.circuit_failure_rate,
        "circuitMinRequests": p.circuit_min_requests,
        "circuitWindowSecs": secs(p.circuit_window),
        "circuitOpenDelaySecs": secs(p.circuit_open_delay),
        "circuitOpenMaxSecs": secs(p.circuit_open_max),
        "circuitProbes": p.circuit_probes,
        "circuitCloseSuccesses": p.circuit_close_successes,
        "refreshIntervalSecs": secs(p.refresh_interval),
        "refreshConcurrency": p.refresh_concurrency,
        "quotaIntervalSecs": secs(p.quota_interval),
        "quotaAfterUseSecs": secs(p.quota_after_use),
    })
}

/// A whole number in `min..=max`.
fn count(field: &str, v: &Value, min: u64, max: u64) -> Result<u64, FieldError> {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(x) if (min..=max).contains(&x) => Ok(x),
            _ => Err(field_error(
                field,
                format!("must be a whole number from {min} to {max}"),
            )),
        },
        other => Err(wrong_type(field, "a whole number or null", other)),
    }
}

fn small(field: &str, v: &Value, min: u32, max: u32) -> Result<u32, FieldError> {
    count(field, v, u64::from(min), u64::from(max)).map(|n| u32::try_from(n).unwrap_or(max))
}

/// Seconds (fractions allowed) from `min` to 30 days.
fn secs(field: &str, v: &Value, min: f64) -> Result<Duration, FieldError> {
    let bad = || {
        field_error(
            field,
            format!("must be a number of seconds from {min} to {MAX_SECS}"),
        )
    };
    match v {
        Value::Number(n) => {
            let s = n.as_f64().ok_or_else(bad)?;
            if !(min..=MAX_SECS).contains(&s) {
                return Err(bad());
            }
            // Millisecond precision, as the configuration's durations.
            Ok(Duration::from_millis((s * 1000.0).round() as u64))
        }
        other => Err(wrong_type(field, "a number of seconds or null", other)),
    }
}

/// Sets one field of `p` from a (non-null) value.
fn set(p: &mut PoolConfig, name: &str, v: &Value) -> Result<(), FieldError> {
    let field = format!("pool.{name}");
    let f = field.as_str();
    // Periods of background work: a floor keeps a typo from hammering the upstream.
    const MS: f64 = 0.001;
    match name {
        "maxConcurrency" => p.max_concurrency = small(f, v, 1, 10_000)?,
        "leaseWaitSecs" => p.lease_wait = secs(f, v, 0.0)?,
        "stickySessions" => match v {
            Value::Bool(b) => p.sticky_sessions = *b,
            other => return Err(wrong_type(f, "a boolean or null", other)),
        },
        "stickyTtlSecs" => p.sticky_ttl = secs(f, v, MS)?,
        "stickyMaxSessions" => {
            p.sticky_max_sessions = usize::try_from(count(f, v, 1, 10_000_000)?).unwrap_or(1);
        }
        "defaultCooldownSecs" => p.default_cooldown = secs(f, v, MS)?,
        "failoverAttempts" => p.failover_attempts = small(f, v, 1, 100)?,
        "failoverBudgetSecs" => p.failover_budget = secs(f, v, MS)?,
        "circuitFailures" => p.circuit_failures = small(f, v, 1, 100_000)?,
        "circuitFailureRate" => p.circuit_failure_rate = small(f, v, 1, 100)?,
        "circuitMinRequests" => p.circuit_min_requests = small(f, v, 1, 100_000)?,
        "circuitWindowSecs" => p.circuit_window = secs(f, v, MS)?,
        "circuitOpenDelaySecs" => p.circuit_open_delay = secs(f, v, MS)?,
        "circuitOpenMaxSecs" => p.circuit_open_max = secs(f, v, MS)?,
        "circuitProbes" => p.circuit_probes = small(f, v, 1, 1_000)?,
        "circuitCloseSuccesses" => p.circuit_close_successes = small(f, v, 1, 1_000)?,
        "refreshIntervalSecs" => p.refresh_interval = secs(f, v, 1.0)?,
        "refreshConcurrency" => {
            p.refresh_concurrency = usize::try_from(count(f, v, 1, 64)?).unwrap_or(1);
        }
        "quotaIntervalSecs" => p.quota_interval = secs(f, v, 1.0)?,
        "quotaAfterUseSecs" => p.quota_after_use = secs(f, v, MS)?,
        _ => {
            return Err(field_error(
                f,
                format!("is not a pool setting ({})", FIELDS.join(", ")),
            ));
        }
    }
    Ok(())
}

/// `configured` with the `overrides` applied. A stored override this build no longer accepts
/// is skipped (and logged), so that the service still starts.
pub fn effective(configured: &PoolConfig, overrides: &Map<String, Value>) -> PoolConfig {
    let mut p = configured.clone();
    for (name, v) in overrides {
        let mut next = p.clone();
        match set(&mut next, name, v).and_then(|()| check(&next)) {
            Ok(()) => p = next,
            Err(e) => tracing::warn!(error = %e, "stored pool setting ignored"),
        }
    }
    p
}

/// Checks across fields.
fn check(p: &PoolConfig) -> Result<(), FieldError> {
    if p.circuit_open_max < p.circuit_open_delay {
        return Err(field_error(
            "pool.circuitOpenMaxSecs",
            "must not be shorter than pool.circuitOpenDelaySecs",
        ));
    }
    Ok(())
}

/// The overrides after `patch` (an object of fields; `null` removes an override), checked
/// against the configuration they apply over.
pub fn patched(
    configured: &PoolConfig,
    current: &Map<String, Value>,
    patch: &Value,
) -> Result<Map<String, Value>, FieldError> {
    let Value::Object(fields) = patch else {
        return Err(wrong_type(
            "pool",
            "an object of pool settings (any subset)",
            patch,
        ));
    };
    let mut next = current.clone();
    for (name, v) in fields {
        if !FIELDS.contains(&name.as_str()) {
            return Err(field_error(
                &format!("pool.{name}"),
                format!("is not a pool setting ({})", FIELDS.join(", ")),
            ));
        }
        if v.is_null() {
            next.remove(name);
        } else {
            set(&mut configured.clone(), name, v)?;
            next.insert(name.clone(), v.clone());
        }
    }
    let mut p = configured.clone();
    for (name, v) in &next {
        set(&mut p, name, v)?;
    }
    check(&p)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(current: &Map<String, Value>, v: Value) -> Result<Map<String, Value>, FieldError> {
        patched(&PoolConfig::default(), current, &v)
    }

    #[test]
    fn overrides_apply_and_null_resets() {
        let o = patch(
            &Map::new(),
            json!({"circuitFailures": 2, "circuitOpenDelaySecs": 0.25, "stickySessions": false}),
        )
        .unwrap();
        let p = effective(&PoolConfig::default(), &o);
        assert_eq!(p.circuit_failures, 2);
        assert_eq!(p.circuit_open_delay, Duration::from_millis(250));
        assert!(!p.sticky_sessions);
        let o = patch(&o, json!({"circuitFailures": null})).unwrap();
        let p = effective(&PoolConfig::default(), &o);
        assert_eq!(p.circuit_failures, 5, "back to the configured value");
        assert_eq!(p.circuit_open_delay, Duration::from_millis(250));
        // Every field GET shows is accepted back.
        let Value::Object(all) = view(&PoolConfig::default()) else {
            panic!()
        };
        assert_eq!(all.len(), FIELDS.len());
        patch(&Map::new(), Value::Object(all)).unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let field = |v: Value| patch(&Map::new(), v).unwrap_err().field;
        assert_eq!(field(json!(5)), "pool");
        assert_eq!(field(json!({"circuitFailures": 0})), "pool.circuitFailures");
        assert_eq!(
            field(json!({"circuitFailureRate": 101})),
            "pool.circuitFailureRate"
        );
        assert_eq!(field(json!({"maxConcurrency": "8"})), "pool.maxConcurrency");
        assert_eq!(
            field(json!({"failoverBudgetSecs": -1})),
            "pool.failoverBudgetSecs"
        );
        assert_eq!(
            field(json!({"refreshIntervalSecs": 0.5})),
            "pool.refreshIntervalSecs"
        );
        assert_eq!(field(json!({"stickySessions": 1})), "pool.stickySessions");
        assert_eq!(field(json!({"bogus": 1})), "pool.bogus");
        assert_eq!(field(json!({"bogus": null})), "pool.bogus");
        // Across fields: a first open period longer than the longest (10 min by default).
        assert_eq!(
            field(json!({"circuitOpenDelaySecs": 700})),
            "pool.circuitOpenMaxSecs"
        );
    }
}
