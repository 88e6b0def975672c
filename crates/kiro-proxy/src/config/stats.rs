//! The `[stats]` section: the request log and the statistics aggregates (see `crate::stats`).

use serde::Deserialize;

use super::file::set;
use super::{ConfigError, invalid, parse_num};

/// Statistics settings (see the table in `config.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsConfig {
    /// Requests kept in the request log (the most recent ones); 0 keeps none.
    pub request_log_size: usize,
    /// Days the request log and the hourly aggregates are kept; daily aggregates stay.
    pub retention_days: u32,
    /// Finished requests waiting for the statistics writer; beyond this they are dropped (and
    /// counted) rather than slowing requests down.
    pub queue_size: usize,
}

/// Longest retention accepted (ten years).
const MAX_RETENTION_DAYS: u32 = 3650;
/// Largest request log accepted.
const MAX_REQUEST_LOG_SIZE: usize = 10_000_000;

impl Default for StatsConfig {
    fn default() -> Self {
        Self {
            request_log_size: 10_000,
            retention_days: 30,
            queue_size: 4096,
        }
    }
}

/// `[stats]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsFile {
    request_log_size: Option<usize>,
    retention_days: Option<u32>,
    queue_size: Option<usize>,
}

impl StatsFile {
    pub(super) fn apply(self, s: &mut StatsConfig) {
        set(&mut s.request_log_size, self.request_log_size);
        set(&mut s.retention_days, self.retention_days);
        set(&mut s.queue_size, self.queue_size);
    }
}

/// `KIRO_REQUEST_LOG_SIZE`, `KIRO_STATS_…` environment overrides.
pub(super) fn apply_env(
    s: &mut StatsConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (name, slot) in [
        ("KIRO_REQUEST_LOG_SIZE", &mut s.request_log_size),
        ("KIRO_STATS_QUEUE_SIZE", &mut s.queue_size),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_num(name, &v)?;
        }
    }
    if let Some(v) = env("KIRO_STATS_RETENTION_DAYS") {
        s.retention_days = parse_num("KIRO_STATS_RETENTION_DAYS", &v)?;
    }
    Ok(())
}

impl StatsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.request_log_size > MAX_REQUEST_LOG_SIZE {
            return Err(invalid(
                "stats.request_log_size / KIRO_REQUEST_LOG_SIZE",
                format!("must be at most {MAX_REQUEST_LOG_SIZE}"),
            ));
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            return Err(invalid(
                "stats.retention_days / KIRO_STATS_RETENTION_DAYS",
                format!("must be between 1 and {MAX_RETENTION_DAYS}"),
            ));
        }
        if self.queue_size == 0 {
            return Err(invalid(
                "stats.queue_size / KIRO_STATS_QUEUE_SIZE",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
