//! The `[pool]` section: how accounts are chosen, cooled down, circuit-broken, kept alive and
//! failed over. Every threshold has a default that suits a small pool of Kiro accounts.

use std::time::Duration;

use serde::Deserialize;

use super::file::{FileDuration, duration, set};
use super::{ConfigError, invalid, parse_bool, parse_duration, parse_num};

/// Account pool settings (see the table in `config.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// Requests one account serves at the same time; more wait for a free slot elsewhere.
    pub max_concurrency: u32,
    /// How long a request waits for a free slot when every usable account is at its cap
    /// (bounded by the failover budget); zero answers 429 at once.
    pub lease_wait: Duration,
    /// Requests of one client session (`metadata` session id, else user id) stay on one
    /// account while it is usable.
    pub sticky_sessions: bool,
    /// A session forgets its account after this long without a request.
    pub sticky_ttl: Duration,
    /// Sessions remembered at most (the least recently used one is forgotten first).
    pub sticky_max_sessions: usize,
    /// Cooldown of a throttled account when the upstream gives no `Retry-After` (spec §8.1:
    /// 10–60 s).
    pub default_cooldown: Duration,
    /// Upstream attempts one client request may make (all accounts and retries together).
    pub failover_attempts: u32,
    /// Time after which a request stops starting new attempts.
    pub failover_budget: Duration,
    /// Consecutive failures that open an account's circuit.
    pub circuit_failures: u32,
    /// Failure rate (percent) over `circuit_window` that opens the circuit…
    pub circuit_failure_rate: u32,
    /// …once the window holds at least this many outcomes.
    pub circuit_min_requests: u32,
    pub circuit_window: Duration,
    /// First open period; doubled on every reopening, up to `circuit_open_max`.
    pub circuit_open_delay: Duration,
    pub circuit_open_max: Duration,
    /// Requests let through at once while half-open.
    pub circuit_probes: u32,
    /// Successful probes that close the circuit again.
    pub circuit_close_successes: u32,
    /// Period of the keep-alive pass (token refresh ahead of expiry, stale quota).
    pub refresh_interval: Duration,
    /// Refreshes the keep-alive pass runs at the same time.
    pub refresh_concurrency: usize,
    /// Period of the quota (`getUsageLimits`) refresh of each account.
    pub quota_interval: Duration,
    /// Delay of the quota refresh after an account served (requests within it share one).
    pub quota_after_use: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            lease_wait: Duration::from_secs(10),
            sticky_sessions: true,
            sticky_ttl: Duration::from_secs(3600),
            sticky_max_sessions: 10_000,
            default_cooldown: Duration::from_secs(30),
            failover_attempts: 4,
            failover_budget: Duration::from_secs(60),
            circuit_failures: 5,
            circuit_failure_rate: 50,
            circuit_min_requests: 10,
            circuit_window: Duration::from_secs(60),
            circuit_open_delay: Duration::from_secs(30),
            circuit_open_max: Duration::from_secs(600),
            circuit_probes: 1,
            circuit_close_successes: 2,
            refresh_interval: Duration::from_secs(300),
            refresh_concurrency: 2,
            quota_interval: Duration::from_secs(600),
            quota_after_use: Duration::from_secs(30),
        }
    }
}

/// `[pool]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PoolFile {
    max_concurrency: Option<u32>,
    lease_wait: Option<FileDuration>,
    sticky_sessions: Option<bool>,
    sticky_ttl: Option<FileDuration>,
    sticky_max_sessions: Option<usize>,
    default_cooldown: Option<FileDuration>,
    failover_attempts: Option<u32>,
    failover_budget: Option<FileDuration>,
    circuit_failures: Option<u32>,
    circuit_failure_rate: Option<u32>,
    circuit_min_requests: Option<u32>,
    circuit_window: Option<FileDuration>,
    circuit_open_delay: Option<FileDuration>,
    circuit_open_max: Option<FileDuration>,
    circuit_probes: Option<u32>,
    circuit_close_successes: Option<u32>,
    refresh_interval: Option<FileDuration>,
    refresh_concurrency: Option<usize>,
    quota_interval: Option<FileDuration>,
    quota_after_use: Option<FileDuration>,
}

impl PoolFile {
    pub(super) fn apply(self, p: &mut PoolConfig) -> Result<(), ConfigError> {
        set(&mut p.max_concurrency, self.max_concurrency);
        set(&mut p.sticky_sessions, self.sticky_sessions);
        set(&mut p.sticky_max_sessions, self.sticky_max_sessions);
        set(&mut p.failover_attempts, self.failover_attempts);
        set(&mut p.circuit_failures, self.circuit_failures);
        set(&mut p.circuit_failure_rate, self.circuit_failure_rate);
        set(&mut p.circuit_min_requests, self.circuit_min_requests);
        set(&mut p.circuit_probes, self.circuit_probes);
        set(&mut p.circuit_close_successes, self.circuit_close_successes);
        set(&mut p.refresh_concurrency, self.refresh_concurrency);
        for (name, value, slot) in [
            ("pool.lease_wait", self.lease_wait, &mut p.lease_wait),
            ("pool.sticky_ttl", self.sticky_ttl, &mut p.sticky_ttl),
            (
                "pool.default_cooldown",
                self.default_cooldown,
                &mut p.default_cooldown,
            ),
            (
                "pool.failover_budget",
                self.failover_budget,
                &mut p.failover_budget,
            ),
            (
                "pool.circuit_window",
                self.circuit_window,
                &mut p.circuit_window,
            ),
            (
                "pool.circuit_open_delay",
                self.circuit_open_delay,
                &mut p.circuit_open_delay,
            ),
            (
                "pool.circuit_open_max",
                self.circuit_open_max,
                &mut p.circuit_open_max,
            ),
            (
                "pool.refresh_interval",
                self.refresh_interval,
                &mut p.refresh_interval,
            ),
            (
                "pool.quota_interval",
                self.quota_interval,
                &mut p.quota_interval,
            ),
            (
                "pool.quota_after_use",
                self.quota_after_use,
                &mut p.quota_after_use,
            ),
        ] {
            duration(name, value, slot)?;
        }
        Ok(())
    }
}

/// `KIRO_POOL_…` environment overrides.
pub(super) fn apply_env(
    p: &mut PoolConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (name, slot) in [
        ("KIRO_POOL_MAX_CONCURRENCY", &mut p.max_concurrency),
        ("KIRO_POOL_FAILOVER_ATTEMPTS", &mut p.failover_attempts),
        ("KIRO_POOL_CIRCUIT_FAILURES", &mut p.circuit_failures),
        (
            "KIRO_POOL_CIRCUIT_FAILURE_RATE",
            &mut p.circuit_failure_rate,
        ),
        (
            "KIRO_POOL_CIRCUIT_MIN_REQUESTS",
            &mut p.circuit_min_requests,
        ),
        ("KIRO_POOL_CIRCUIT_PROBES", &mut p.circuit_probes),
        (
            "KIRO_POOL_CIRCUIT_CLOSE_SUCCESSES",
            &mut p.circuit_close_successes,
        ),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_num(name, &v)?;
        }
    }
    for (name, slot) in [
        ("KIRO_POOL_STICKY_MAX_SESSIONS", &mut p.sticky_max_sessions),
        ("KIRO_POOL_REFRESH_CONCURRENCY", &mut p.refresh_concurrency),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_num(name, &v)?;
        }
    }
    for (name, slot) in [
        ("KIRO_POOL_LEASE_WAIT", &mut p.lease_wait),
        ("KIRO_POOL_STICKY_TTL", &mut p.sticky_ttl),
        ("KIRO_POOL_DEFAULT_COOLDOWN", &mut p.default_cooldown),
        ("KIRO_POOL_FAILOVER_BUDGET", &mut p.failover_budget),
        ("KIRO_POOL_CIRCUIT_WINDOW", &mut p.circuit_window),
        ("KIRO_POOL_CIRCUIT_OPEN_DELAY", &mut p.circuit_open_delay),
        ("KIRO_POOL_CIRCUIT_OPEN_MAX", &mut p.circuit_open_max),
        ("KIRO_POOL_REFRESH_INTERVAL", &mut p.refresh_interval),
        ("KIRO_POOL_QUOTA_INTERVAL", &mut p.quota_interval),
        ("KIRO_POOL_QUOTA_AFTER_USE", &mut p.quota_after_use),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_duration(&v).map_err(|m| invalid(name, m))?;
        }
    }
    if let Some(v) = env("KIRO_POOL_STICKY_SESSIONS") {
        p.sticky_sessions = parse_bool("KIRO_POOL_STICKY_SESSIONS", &v)?;
    }
    Ok(())
}

impl PoolConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, n) in [
            ("pool.max_concurrency", self.max_concurrency),
            ("pool.failover_attempts", self.failover_attempts),
            ("pool.circuit_failures", self.circuit_failures),
            ("pool.circuit_min_requests", self.circuit_min_requests),
            ("pool.circuit_probes", self.circuit_probes),
            ("pool.circuit_close_successes", self.circuit_close_successes),
        ] {
            if n == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
        }
        for (name, n) in [
            ("pool.sticky_max_sessions", self.sticky_max_sessions),
            ("pool.refresh_concurrency", self.refresh_concurrency),
        ] {
            if n == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
        }
        if !(1..=100).contains(&self.circuit_failure_rate) {
            return Err(invalid(
                "pool.circuit_failure_rate",
                "is a percentage between 1 and 100",
            ));
        }
        for (name, d) in [
            ("pool.sticky_ttl", self.sticky_ttl),
            ("pool.default_cooldown", self.default_cooldown),
            ("pool.failover_budget", self.failover_budget),
            ("pool.circuit_window", self.circuit_window),
            ("pool.circuit_open_delay", self.circuit_open_delay),
            ("pool.circuit_open_max", self.circuit_open_max),
            ("pool.refresh_interval", self.refresh_interval),
            ("pool.quota_interval", self.quota_interval),
            ("pool.quota_after_use", self.quota_after_use),
        ] {
            if d.is_zero() {
                return Err(invalid(name, "must be greater than zero"));
            }
        }
        if self.circuit_open_max < self.circuit_open_delay {
            return Err(invalid(
                "pool.circuit_open_max",
                "must not be shorter than pool.circuit_open_delay",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        PoolConfig::default().validate().unwrap();
    }

    #[test]
    fn toml_section_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiro.toml");
        std::fs::write(
            &path,
            "[pool]\nmax_concurrency = 3\nsticky_sessions = false\ncircuit_open_delay = \"2m\"\n\
             quota_interval = 120\n",
        )
        .unwrap();
        let args = super::super::ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let env = |name: &str| (name == "KIRO_POOL_MAX_CONCURRENCY").then(|| "5".to_owned());
        let c = super::super::Config::load_from(&args, env).unwrap();
        assert_eq!(c.pool.max_concurrency, 5, "env over file");
        assert!(!c.pool.sticky_sessions);
        assert_eq!(c.pool.circuit_open_delay, Duration::from_secs(120));
        assert_eq!(c.pool.quota_interval, Duration::from_secs(120));
        assert_eq!(c.pool.failover_attempts, 4, "default");

        std::fs::write(&path, "[pool]\nmax_concurency = 3\n").unwrap();
        let err = super::super::Config::load_from(&args, |_| None).unwrap_err();
        assert!(err.to_string().contains("max_concurency"), "{err}");
        std::fs::write(&path, "[pool]\ncircuit_probes = 0\n").unwrap();
        let err = super::super::Config::load_from(&args, |_| None).unwrap_err();
        assert!(err.to_string().contains("pool.circuit_probes"), "{err}");
    }

    #[test]
    fn env_overrides_and_validation() {
        let mut p = PoolConfig::default();
        let env = |name: &str| match name {
            "KIRO_POOL_MAX_CONCURRENCY" => Some("2".to_owned()),
            "KIRO_POOL_CIRCUIT_OPEN_DELAY" => Some("250ms".to_owned()),
            "KIRO_POOL_STICKY_SESSIONS" => Some("off".to_owned()),
            _ => None,
        };
        apply_env(&mut p, &env).unwrap();
        assert_eq!(p.max_concurrency, 2);
        assert_eq!(p.circuit_open_delay, Duration::from_millis(250));
        assert!(!p.sticky_sessions);
        p.validate().unwrap();
        p.circuit_failure_rate = 0;
        assert!(p.validate().is_err());
        p.circuit_failure_rate = 50;
        p.circuit_open_max = Duration::from_millis(100);
        assert!(p.validate().is_err());
    }
}
