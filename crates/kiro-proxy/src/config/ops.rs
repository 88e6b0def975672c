//! The `[ops]` section: what an operator needs to run the service: the `/metrics` token and the
//! shutdown grace period. (The log format and level are read from `KIRO_LOG_FORMAT` and
//! `KIRO_LOG` before the configuration, so that loading it can already log.)

use std::time::Duration;

use kiro_wire::types::Secret;
use serde::Deserialize;

use super::file::{FileDuration, duration};
use super::{ConfigError, invalid, parse_duration};

/// Operations settings (see the table in `config.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpsConfig {
    /// Bearer token `GET /metrics` requires; `None` leaves it open (like `/healthz`), which
    /// suits a port only the scraper can reach.
    pub metrics_token: Option<Secret>,
    /// How long open replies may run on after SIGTERM/SIGINT before the process exits anyway.
    pub shutdown_grace: Duration,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            metrics_token: None,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Shortest metrics token accepted (it is compared in constant time, but a short one guesses).
pub const MIN_METRICS_TOKEN_LEN: usize = 16;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OpsFile {
    metrics_token: Option<String>,
    shutdown_grace: Option<FileDuration>,
}

impl OpsFile {
    pub(super) fn apply(self, o: &mut OpsConfig) -> Result<(), ConfigError> {
        if let Some(t) = self.metrics_token {
            o.metrics_token = Some(Secret::new(t.trim()));
        }
        duration(
            "ops.shutdown_grace",
            self.shutdown_grace,
            &mut o.shutdown_grace,
        )
    }
}

pub(super) fn apply_env(
    o: &mut OpsConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Some(v) = env("KIRO_METRICS_TOKEN") {
        o.metrics_token = Some(Secret::new(v.trim()));
    }
    if let Some(v) = env("KIRO_SHUTDOWN_GRACE") {
        o.shutdown_grace = parse_duration(&v).map_err(|m| invalid("KIRO_SHUTDOWN_GRACE", m))?;
    }
    Ok(())
}

impl OpsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < MIN_METRICS_TOKEN_LEN)
        {
            return Err(invalid(
                "ops.metrics_token / KIRO_METRICS_TOKEN",
                format!("must be at least {MIN_METRICS_TOKEN_LEN} characters"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides() {
        let mut o = OpsConfig::default();
        let env = |name: &str| match name {
            "KIRO_METRICS_TOKEN" => Some(" metrics-token-0123456789 ".to_owned()),
            "KIRO_SHUTDOWN_GRACE" => Some("5s".to_owned()),
            _ => None,
        };
        apply_env(&mut o, &env).unwrap();
        assert_eq!(o.shutdown_grace, Duration::from_secs(5));
        assert_eq!(
            o.metrics_token.as_ref().map(|t| t.expose().to_owned()),
            Some("metrics-token-0123456789".to_owned())
        );
        o.validate().unwrap();
        o.metrics_token = Some(Secret::new("short"));
        assert!(o.validate().is_err());
    }
}
