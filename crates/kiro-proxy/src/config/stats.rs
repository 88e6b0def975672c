//! The `[stats]` section: the request log and the statistics aggregates (see `crate::stats`).

use serde::Deserialize;

use super::file::set;
use super::{ConfigError, invalid, parse_bool, parse_num};

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
    /// Keep request and reply bodies with the log (secrets redacted, capped); off by default.
    /// `PUT /api/settings` `bodyCapture` changes it at runtime.
    pub capture_bodies: bool,
    /// Cap of each captured body, in bytes.
    pub capture_max_bytes: usize,
}

/// Default cap of a captured body (64 KiB).
pub const DEFAULT_CAPTURE_MAX_BYTES: usize = 64 * 1024;
/// Smallest cap of a captured body accepted.
pub const MIN_CAPTURE_MAX_BYTES: usize = 256;
/// Largest cap of a captured body accepted (16 MiB).
pub const MAX_CAPTURE_MAX_BYTES: usize = 16 * 1024 * 1024;

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
            capture_bodies: false,
            capture_max_bytes: DEFAULT_CAPTURE_MAX_BYTES,
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
    capture_bodies: Option<bool>,
    capture_max_bytes: Option<usize>,
}

impl StatsFile {
    pub(super) fn apply(self, s: &mut StatsConfig) {
        set(&mut s.request_log_size, self.request_log_size);
        set(&mut s.retention_days, self.retention_days);
        set(&mut s.queue_size, self.queue_size);
        set(&mut s.capture_bodies, self.capture_bodies);
        set(&mut s.capture_max_bytes, self.capture_max_bytes);
    }
}

/// `KIRO_REQUEST_LOG_SIZE`, `KIRO_STATS_…`, `KIRO_CAPTURE_…` environment overrides.
pub(super) fn apply_env(
    s: &mut StatsConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (name, slot) in [
        ("KIRO_REQUEST_LOG_SIZE", &mut s.request_log_size),
        ("KIRO_STATS_QUEUE_SIZE", &mut s.queue_size),
        ("KIRO_CAPTURE_MAX_BYTES", &mut s.capture_max_bytes),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_num(name, &v)?;
        }
    }
    if let Some(v) = env("KIRO_STATS_RETENTION_DAYS") {
        s.retention_days = parse_num("KIRO_STATS_RETENTION_DAYS", &v)?;
    }
    if let Some(v) = env("KIRO_CAPTURE_BODIES") {
        s.capture_bodies = parse_bool("KIRO_CAPTURE_BODIES", &v)?;
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
        if !(MIN_CAPTURE_MAX_BYTES..=MAX_CAPTURE_MAX_BYTES).contains(&self.capture_max_bytes) {
            return Err(invalid(
                "stats.capture_max_bytes / KIRO_CAPTURE_MAX_BYTES",
                format!("must be between {MIN_CAPTURE_MAX_BYTES} and {MAX_CAPTURE_MAX_BYTES}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_capture_from_the_environment() {
        let mut s = StatsConfig::default();
        assert!(!s.capture_bodies, "off by default");
        let env = |name: &str| match name {
            "KIRO_CAPTURE_BODIES" => Some("on".to_owned()),
            "KIRO_CAPTURE_MAX_BYTES" => Some("4096".to_owned()),
            _ => None,
        };
        apply_env(&mut s, &env).unwrap();
        assert!(s.capture_bodies);
        assert_eq!(s.capture_max_bytes, 4096);
        s.validate().unwrap();
        s.capture_max_bytes = 10;
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("KIRO_CAPTURE_MAX_BYTES"), "{err}");
        let bad = |name: &str| (name == "KIRO_CAPTURE_BODIES").then(|| "maybe".to_owned());
        assert!(apply_env(&mut s, &bad).is_err());
    }
}
