//! The `[traffic]` section: the starting values of the traffic controls (see `crate::limits`),
//! which `PUT /api/traffic` replaces at runtime (the stored value then wins over this one).

use std::time::Duration;

use serde::Deserialize;

use super::file::{FileDuration, duration, set};
use super::{ConfigError, invalid, parse_duration, parse_num};
use crate::limits::IpNet;

/// Traffic controls from configuration (see the table in `config.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficConfig {
    /// Requests per minute from one client address; `None`: no limit.
    pub ip_rate_limit_per_minute: Option<u64>,
    /// Addresses and ranges refused with 403.
    pub blocked_ips: Vec<IpNet>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Client requests in progress at once, all keys together; more get 503.
    pub max_concurrency: Option<u64>,
    /// Client requests in progress at once per key; more get 429.
    pub per_key_concurrency: Option<u64>,
    /// How often the keys' monthly token use is written to the store (and at shutdown).
    pub key_usage_flush_interval: Duration,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            ip_rate_limit_per_minute: None,
            blocked_ips: Vec::new(),
            trusted_proxies: Vec::new(),
            max_concurrency: None,
            per_key_concurrency: None,
            key_usage_flush_interval: Duration::from_secs(10),
        }
    }
}

/// `[traffic]` in the TOML file. Limits of `0` mean no limit.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrafficFile {
    ip_rate_limit_per_minute: Option<u64>,
    blocked_ips: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    max_concurrency: Option<u64>,
    per_key_concurrency: Option<u64>,
    key_usage_flush_interval: Option<FileDuration>,
}

impl TrafficFile {
    pub(super) fn apply(self, t: &mut TrafficConfig) -> Result<(), ConfigError> {
        set(
            &mut t.ip_rate_limit_per_minute,
            self.ip_rate_limit_per_minute.map(nonzero),
        );
        set(&mut t.max_concurrency, self.max_concurrency.map(nonzero));
        set(
            &mut t.per_key_concurrency,
            self.per_key_concurrency.map(nonzero),
        );
        if let Some(list) = self.blocked_ips {
            t.blocked_ips = nets("traffic.blocked_ips", list.iter().map(String::as_str))?;
        }
        if let Some(list) = self.trusted_proxies {
            t.trusted_proxies = nets("traffic.trusted_proxies", list.iter().map(String::as_str))?;
        }
        duration(
            "traffic.key_usage_flush_interval",
            self.key_usage_flush_interval,
            &mut t.key_usage_flush_interval,
        )
    }
}

fn nonzero(n: u64) -> Option<u64> {
    (n > 0).then_some(n)
}

fn nets<'a>(name: &str, items: impl Iterator<Item = &'a str>) -> Result<Vec<IpNet>, ConfigError> {
    items
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|e| invalid(name, format!("{e}"))))
        .collect()
}

/// `KIRO_IP_RATE_LIMIT`, `KIRO_BLOCKED_IPS`, … environment overrides.
pub(super) fn apply_env(
    t: &mut TrafficConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (name, slot) in [
        ("KIRO_IP_RATE_LIMIT", &mut t.ip_rate_limit_per_minute),
        ("KIRO_MAX_CONCURRENCY", &mut t.max_concurrency),
        ("KIRO_PER_KEY_CONCURRENCY", &mut t.per_key_concurrency),
    ] {
        if let Some(v) = env(name) {
            *slot = nonzero(parse_num(name, &v)?);
        }
    }
    if let Some(v) = env("KIRO_BLOCKED_IPS") {
        t.blocked_ips = nets("KIRO_BLOCKED_IPS", v.split(','))?;
    }
    if let Some(v) = env("KIRO_TRUSTED_PROXIES") {
        t.trusted_proxies = nets("KIRO_TRUSTED_PROXIES", v.split(','))?;
    }
    if let Some(v) = env("KIRO_KEY_USAGE_FLUSH_INTERVAL") {
        t.key_usage_flush_interval =
            parse_duration(&v).map_err(|m| invalid("KIRO_KEY_USAGE_FLUSH_INTERVAL", m))?;
    }
    Ok(())
}

impl TrafficConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.key_usage_flush_interval.is_zero() {
            return Err(invalid(
                "traffic.key_usage_flush_interval / KIRO_KEY_USAGE_FLUSH_INTERVAL",
                "must be greater than zero",
            ));
        }
        let max = crate::limits::MAX_ADDRESS_ENTRIES;
        for (name, list) in [
            ("traffic.blocked_ips / KIRO_BLOCKED_IPS", &self.blocked_ips),
            (
                "traffic.trusted_proxies / KIRO_TRUSTED_PROXIES",
                &self.trusted_proxies,
            ),
        ] {
            if list.len() > max {
                return Err(invalid(name, format!("at most {max} entries")));
            }
        }
        Ok(())
    }
}
