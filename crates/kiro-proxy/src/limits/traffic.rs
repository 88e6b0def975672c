//! The traffic controls in effect: what `GET /api/traffic` shows and `PUT /api/traffic` sets.
//!
//! Until the operator stores a value through the admin API, the configuration's `[traffic]`
//! values are in effect; a stored value replaces them entirely (and survives restarts).

use serde::{Deserialize, Serialize};

use super::net::IpNet;
use crate::config::TrafficConfig;

/// Setting (in the store's `settings` table) holding the operator's traffic controls.
pub const SETTING_TRAFFIC: &str = "traffic_controls";
/// Most entries accepted in `blockedIps` or `trustedProxies` (each request scans them).
pub const MAX_ADDRESS_ENTRIES: usize = 10_000;

/// The runtime traffic controls. `None` limits mean "no limit".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficSettings {
    /// Requests per minute from one client address.
    pub ip_rate_limit_per_minute: Option<u64>,
    /// Client addresses and ranges refused with 403.
    pub blocked_ips: Vec<IpNet>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Client requests in progress at once, all keys together (503 beyond).
    pub max_concurrency: Option<u64>,
    /// Client requests in progress at once per key (429 beyond).
    pub per_key_concurrency: Option<u64>,
}

impl TrafficSettings {
    /// The values of the configuration file and environment.
    pub fn from_config(c: &TrafficConfig) -> Self {
        Self {
            ip_rate_limit_per_minute: c.ip_rate_limit_per_minute,
            blocked_ips: c.blocked_ips.clone(),
            trusted_proxies: c.trusted_proxies.clone(),
            max_concurrency: c.max_concurrency,
            per_key_concurrency: c.per_key_concurrency,
        }
    }

    /// Checks the values; the error names the field (as the admin API spells it).
    pub fn validate(&self) -> Result<(), TrafficError> {
        for (field, limit) in [
            ("ipRateLimitPerMinute", self.ip_rate_limit_per_minute),
            ("maxConcurrency", self.max_concurrency),
            ("perKeyConcurrency", self.per_key_concurrency),
        ] {
            if limit == Some(0) {
                return Err(TrafficError {
                    field,
                    message: "must be at least 1, or null for no limit".to_owned(),
                });
            }
        }
        for (field, list) in [
            ("blockedIps", &self.blocked_ips),
            ("trustedProxies", &self.trusted_proxies),
        ] {
            if list.len() > MAX_ADDRESS_ENTRIES {
                return Err(TrafficError {
                    field,
                    message: format!("must have at most {MAX_ADDRESS_ENTRIES} entries"),
                });
            }
        }
        Ok(())
    }
}

/// An invalid traffic setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct TrafficError {
    pub field: &'static str,
    pub message: String,
}
