//! Service configuration: defaults, an optional TOML file, environment variables and flags.
//!
//! Precedence, lowest to highest: built-in defaults < TOML file (`--config` / `KIRO_CONFIG`) <
//! environment < command-line flags. Unknown TOML keys are an error. Every setting has a default
//! that works, so `kiro-proxy` with no configuration at all starts.
//!
//! | TOML key | Environment | Flag | Default |
//! |---|---|---|---|
//! | `host` | `HOST` | `--host` | `0.0.0.0` |
//! | `port` | `PORT` | `--port` | `8080` |
//! | `data_dir` | `KIRO_DATA_DIR` | `--data-dir` | `./data` |
//! | — | `KIRO_CONFIG` | `--config` | none |
//! | `region` | `KIRO_REGION` | | `us-east-1` |
//! | `api_keys` (list) | `KIRO_API_KEYS` (comma-separated) | | none |
//! | `admin_token` | `KIRO_ADMIN_TOKEN` | | generated at first start |
//! | — | `KIRO_MASTER_KEY` (base64 of 32 bytes) | | `<data_dir>/master.key` |
//! | `upstream.q_url` | `KIRO_Q_URL` | | `https://q.{region}.amazonaws.com` |
//! | `upstream.codewhisperer_url` | `KIRO_CODEWHISPERER_URL` | | `https://codewhisperer.{region}.amazonaws.com` |
//! | `upstream.social_auth_url` | `KIRO_SOCIAL_AUTH_URL` | | `https://prod.{region}.auth.desktop.kiro.dev` |
//! | `upstream.oidc_url` | `KIRO_OIDC_URL` | | `https://oidc.{region}.amazonaws.com` |
//! | `upstream.connect_timeout` | `KIRO_CONNECT_TIMEOUT` | | `10s` |
//! | `upstream.response_header_timeout` | `KIRO_RESPONSE_HEADER_TIMEOUT` | | `30s` |
//! | `upstream.first_event_timeout` | `KIRO_FIRST_EVENT_TIMEOUT` | | `60s` |
//! | `upstream.idle_timeout` | `KIRO_IDLE_TIMEOUT` | | `300s` |
//! | `upstream.keepalive_interval` | `KIRO_KEEPALIVE_INTERVAL` | | `15s` |
//! | `upstream.max_body_bytes` | `KIRO_UPSTREAM_MAX_BODY_BYTES` | | `600000` |
//! | `limits.max_request_body_bytes` | `KIRO_MAX_REQUEST_BODY_BYTES` | | `20971520` (20 MiB) |
//! | `traffic.ip_rate_limit_per_minute` | `KIRO_IP_RATE_LIMIT` | | none (requests per minute per client address; `0`: none) |
//! | `traffic.blocked_ips` (list) | `KIRO_BLOCKED_IPS` (comma-separated addresses or CIDR ranges) | | none (403) |
//! | `traffic.trusted_proxies` (list) | `KIRO_TRUSTED_PROXIES` (comma-separated) | | none (`X-Forwarded-For` ignored) |
//! | `traffic.max_concurrency` | `KIRO_MAX_CONCURRENCY` | | none (client requests at once; more get 503) |
//! | `traffic.per_key_concurrency` | `KIRO_PER_KEY_CONCURRENCY` | | none (client requests at once per key; more get 429) |
//! | `traffic.key_usage_flush_interval` | `KIRO_KEY_USAGE_FLUSH_INTERVAL` | | `10s` (keys' monthly token use written to disk) |
//! | `images.remote_fetch` | `KIRO_REMOTE_IMAGES` | | `false` |
//! | `images.max_bytes` | `KIRO_IMAGE_MAX_BYTES` | | `5242880` (5 MiB) |
//! | `images.fetch_timeout` | `KIRO_IMAGE_FETCH_TIMEOUT` | | `10s` |
//! | `accounts.refresh_margin` | `KIRO_REFRESH_MARGIN` | | `600s` |
//! | `models.mapping` (table) | `KIRO_MODEL_MAPPING` (`alias=id,…`) | | empty |
//! | `pool.max_concurrency` | `KIRO_POOL_MAX_CONCURRENCY` | | `8` (requests per account at once) |
//! | `pool.lease_wait` | `KIRO_POOL_LEASE_WAIT` | | `10s` (wait for a free slot; `0`: 429 at once) |
//! | `pool.sticky_sessions` | `KIRO_POOL_STICKY_SESSIONS` | | `true` |
//! | `pool.sticky_ttl` | `KIRO_POOL_STICKY_TTL` | | `1h` |
//! | `pool.sticky_max_sessions` | `KIRO_POOL_STICKY_MAX_SESSIONS` | | `10000` |
//! | `pool.default_cooldown` | `KIRO_POOL_DEFAULT_COOLDOWN` | | `30s` (429 without `Retry-After`) |
//! | `pool.failover_attempts` | `KIRO_POOL_FAILOVER_ATTEMPTS` | | `4` (upstream attempts per request) |
//! | `pool.failover_budget` | `KIRO_POOL_FAILOVER_BUDGET` | | `60s` (no new attempt after this) |
//! | `pool.circuit_failures` | `KIRO_POOL_CIRCUIT_FAILURES` | | `5` (consecutive, opens the circuit) |
//! | `pool.circuit_failure_rate` | `KIRO_POOL_CIRCUIT_FAILURE_RATE` | | `50` (percent over the window) |
//! | `pool.circuit_min_requests` | `KIRO_POOL_CIRCUIT_MIN_REQUESTS` | | `10` (outcomes before the rate counts) |
//! | `pool.circuit_window` | `KIRO_POOL_CIRCUIT_WINDOW` | | `60s` |
//! | `pool.circuit_open_delay` | `KIRO_POOL_CIRCUIT_OPEN_DELAY` | | `30s` (doubled on each reopening) |
//! | `pool.circuit_open_max` | `KIRO_POOL_CIRCUIT_OPEN_MAX` | | `10m` |
//! | `pool.circuit_probes` | `KIRO_POOL_CIRCUIT_PROBES` | | `1` (requests at once while half-open) |
//! | `pool.circuit_close_successes` | `KIRO_POOL_CIRCUIT_CLOSE_SUCCESSES` | | `2` |
//! | `pool.refresh_interval` | `KIRO_POOL_REFRESH_INTERVAL` | | `5m` (keep-alive pass) |
//! | `pool.refresh_concurrency` | `KIRO_POOL_REFRESH_CONCURRENCY` | | `2` |
//! | `pool.quota_interval` | `KIRO_POOL_QUOTA_INTERVAL` | | `10m` (`getUsageLimits` per account) |
//! | `pool.quota_after_use` | `KIRO_POOL_QUOTA_AFTER_USE` | | `30s` (quota refresh after serving) |
//! | `stats.request_log_size` | `KIRO_REQUEST_LOG_SIZE` | | `10000` (most recent requests kept; `0`: none) |
//! | `stats.retention_days` | `KIRO_STATS_RETENTION_DAYS` | | `30` (request log and hourly aggregates; daily aggregates are kept 400 days, changeable at runtime with `PUT /api/settings` `retention.dailyRetentionDays`) |
//! | `stats.queue_size` | `KIRO_STATS_QUEUE_SIZE` | | `4096` (records awaiting the writer; more are dropped and counted) |
//! | `stats.capture_bodies` | `KIRO_CAPTURE_BODIES` | | `false` (keep request and reply bodies with the log, secrets redacted; changeable at runtime with `PUT /api/settings` `bodyCapture`) |
//! | `stats.capture_max_bytes` | `KIRO_CAPTURE_MAX_BYTES` | | `65536` (cap of each captured body; 256 to 16777216) |
//! | `ops.metrics_token` | `KIRO_METRICS_TOKEN` | | none: `GET /metrics` is open (set one when the port is reachable by others) |
//! | `ops.shutdown_grace` | `KIRO_SHUTDOWN_GRACE` | | `30s` (open replies finish within it after SIGTERM/SIGINT) |
//! | — | `KIRO_LOG` | | `info` (a `tracing` filter such as `info,kiro_proxy=debug`; changeable at runtime) |
//! | — | `KIRO_LOG_FORMAT` | | `text` (or `json`: one object per line) |
//!
//! Durations are a number of seconds or a string with a unit: `"500ms"`, `"10s"`, `"5m"`, `"1h"`.
//! An empty environment variable counts as unset. Relative paths are relative to the working
//! directory. The request body limit is far above the upstream's 600 kB JSON ceiling because
//! clients send images as base64; the upstream budget is enforced separately (N15).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use kiro_wire::types::Secret;

mod file;
mod ops;
mod pool;
mod stats;
mod traffic;

pub use ops::OpsConfig;
pub use pool::PoolConfig;
pub use stats::{
    DEFAULT_CAPTURE_MAX_BYTES, MAX_CAPTURE_MAX_BYTES, MIN_CAPTURE_MAX_BYTES, StatsConfig,
};
pub use traffic::TrafficConfig;

/// Options of `kiro-proxy serve` (also the default command).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 0.0.0.0].
    #[arg(long, env = "HOST")]
    pub host: Option<String>,
    /// Port to listen on [default: 8080].
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Directory holding the database and the master key [default: ./data].
    #[arg(long, env = "KIRO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Optional TOML configuration file.
    #[arg(long, env = "KIRO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Load and validate the configuration, print a summary and exit.
    #[arg(long)]
    pub check_config: bool,
}

/// The four upstream services of spec §1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamService {
    /// Amazon Q: chat, usage, models, MCP (API region).
    Q,
    /// CodeWhisperer: `ListAvailableProfiles` (API region).
    CodeWhisperer,
    /// Kiro desktop auth: social refresh (auth region).
    SocialAuth,
    /// AWS SSO-OIDC: registration, device login, IdC refresh (auth region).
    Oidc,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub data_dir: PathBuf,
    /// The TOML file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Default region of new accounts.
    pub region: String,
    /// Client keys from configuration (in addition to keys created with the admin API).
    pub api_keys: Vec<Secret>,
    /// Admin token from configuration; `None` means generated at first start and stored hashed.
    pub admin_token: Option<Secret>,
    /// `KIRO_MASTER_KEY` (environment only: a key in the config file would sit next to the data).
    pub master_key: Option<Secret>,
    pub upstream: UpstreamConfig,
    pub limits: LimitsConfig,
    pub images: ImagesConfig,
    pub accounts: AccountsConfig,
    pub models: ModelsConfig,
    pub pool: PoolConfig,
    /// Starting values of the runtime traffic controls (`/api/traffic` overrides them).
    pub traffic: TrafficConfig,
    pub stats: StatsConfig,
    pub ops: OpsConfig,
}

/// Upstream base URLs (templates with `{region}`, no trailing `/`), timeouts and body budget.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConfig {
    pub q_url: String,
    pub codewhisperer_url: String,
    pub social_auth_url: String,
    pub oidc_url: String,
    pub connect_timeout: Duration,
    /// From request sent to response headers received.
    pub response_header_timeout: Duration,
    /// From response headers to the first EventStream frame.
    pub first_event_timeout: Duration,
    /// Longest silence between two frames.
    pub idle_timeout: Duration,
    /// Silence of a streaming reply after which the client gets a keep-alive (Anthropic
    /// `ping`, an SSE comment for OpenAI), so its own idle timers do not fire.
    pub keepalive_interval: Duration,
    /// Budget of the serialized `generateAssistantResponse` body (spec N15).
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// Largest client request body; larger ones get 413.
    pub max_request_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImagesConfig {
    /// Fetch `http(s)` image URLs (behind SSRF guards); when off they are refused with a 400.
    pub remote_fetch: bool,
    /// Largest image accepted, fetched or inline (decoded bytes).
    pub max_bytes: usize,
    pub fetch_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountsConfig {
    /// Refresh an access token when less than this remains (spec §2.2: 5–10 min).
    pub refresh_margin: Duration,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelsConfig {
    /// Operator aliases (client model → upstream id), consulted before the built-in table.
    /// A table stored with `PUT /api/model-mapping` replaces this one.
    pub mapping: BTreeMap<String, String>,
}

/// Why the configuration cannot be used. Messages name the setting and never echo a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", .path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {}: {message}", .path.display())]
    ParseFile { path: PathBuf, message: String },
    #[error("{source_name}: {message}")]
    Invalid {
        /// The flag, environment variable or TOML key that holds the bad value.
        source_name: String,
        message: String,
    },
}

pub const DEFAULT_HOST: &str = "0.0.0.0";
pub const DEFAULT_PORT: u16 = 8080;
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_Q_URL: &str = "https://q.{region}.amazonaws.com";
pub const DEFAULT_CODEWHISPERER_URL: &str = "https://codewhisperer.{region}.amazonaws.com";
pub const DEFAULT_SOCIAL_AUTH_URL: &str = "https://prod.{region}.auth.desktop.kiro.dev";
pub const DEFAULT_OIDC_URL: &str = "https://oidc.{region}.amazonaws.com";
/// Shortest admin token accepted from configuration.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

impl Default for Config {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            config_file: None,
            region: DEFAULT_REGION.to_owned(),
            api_keys: Vec::new(),
            admin_token: None,
            master_key: None,
            upstream: UpstreamConfig {
                q_url: DEFAULT_Q_URL.to_owned(),
                codewhisperer_url: DEFAULT_CODEWHISPERER_URL.to_owned(),
                social_auth_url: DEFAULT_SOCIAL_AUTH_URL.to_owned(),
                oidc_url: DEFAULT_OIDC_URL.to_owned(),
                connect_timeout: Duration::from_secs(10),
                response_header_timeout: Duration::from_secs(30),
                first_event_timeout: Duration::from_secs(60),
                idle_timeout: Duration::from_secs(300),
                keepalive_interval: Duration::from_secs(15),
                max_body_bytes: 600_000,
            },
            limits: LimitsConfig {
                max_request_body_bytes: 20 * 1024 * 1024,
            },
            images: ImagesConfig {
                remote_fetch: false,
                max_bytes: 5 * 1024 * 1024,
                fetch_timeout: Duration::from_secs(10),
            },
            accounts: AccountsConfig {
                refresh_margin: Duration::from_secs(600),
            },
            models: ModelsConfig::default(),
            pool: PoolConfig::default(),
            traffic: TrafficConfig::default(),
            stats: StatsConfig::default(),
            ops: OpsConfig::default(),
        }
    }
}

impl Config {
    /// Loads the configuration from `args`, the process environment and the TOML file.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        Self::load_from(args, |name| std::env::var(name).ok())
    }

    /// [`Config::load`] with an explicit environment (tests cannot safely mutate the real one).
    pub fn load_from(
        args: &ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut config = Self::default();

        let file_path = args
            .config
            .clone()
            .or_else(|| env("KIRO_CONFIG").map(PathBuf::from));
        if let Some(path) = &file_path {
            let file = file::read(path)?;
            file.apply(&mut config)?;
            config.config_file = Some(path.clone());
        }
        apply_env(&mut config, &env)?;
        apply_flags(&mut config, args);
        config.validate()?;
        Ok(config)
    }

    /// The base URL of `service` for `region` (an API region for Q/CodeWhisperer, an auth region
    /// for social/OIDC): `{region}` substituted; a value without it is used verbatim.
    pub fn upstream_url(&self, service: UpstreamService, region: &str) -> String {
        let template = match service {
            UpstreamService::Q => &self.upstream.q_url,
            UpstreamService::CodeWhisperer => &self.upstream.codewhisperer_url,
            UpstreamService::SocialAuth => &self.upstream.social_auth_url,
            UpstreamService::Oidc => &self.upstream.oidc_url,
        };
        template.replace("{region}", region)
    }

    /// Path of the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(crate::store::DATABASE_FILE)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(invalid("host", "must not be empty"));
        }
        check_region("region / KIRO_REGION", &self.region)?;
        for (name, url) in [
            ("upstream.q_url / KIRO_Q_URL", &mut self.upstream.q_url),
            (
                "upstream.codewhisperer_url / KIRO_CODEWHISPERER_URL",
                &mut self.upstream.codewhisperer_url,
            ),
            (
                "upstream.social_auth_url / KIRO_SOCIAL_AUTH_URL",
                &mut self.upstream.social_auth_url,
            ),
            (
                "upstream.oidc_url / KIRO_OIDC_URL",
                &mut self.upstream.oidc_url,
            ),
        ] {
            *url = normalize_url(name, url)?;
        }
        for (name, d) in [
            ("upstream.connect_timeout", self.upstream.connect_timeout),
            (
                "upstream.response_header_timeout",
                self.upstream.response_header_timeout,
            ),
            (
                "upstream.first_event_timeout",
                self.upstream.first_event_timeout,
            ),
            ("upstream.idle_timeout", self.upstream.idle_timeout),
            (
                "upstream.keepalive_interval",
                self.upstream.keepalive_interval,
            ),
            ("images.fetch_timeout", self.images.fetch_timeout),
        ] {
            if d.is_zero() {
                return Err(invalid(name, "must be greater than zero"));
            }
        }
        for (name, n) in [
            ("upstream.max_body_bytes", self.upstream.max_body_bytes),
            (
                "limits.max_request_body_bytes",
                self.limits.max_request_body_bytes,
            ),
            ("images.max_bytes", self.images.max_bytes),
        ] {
            if n == 0 {
                return Err(invalid(name, "must be greater than zero"));
            }
        }
        if self
            .admin_token
            .as_ref()
            .is_some_and(|t| t.len() < MIN_ADMIN_TOKEN_LEN)
        {
            return Err(invalid(
                "admin_token / KIRO_ADMIN_TOKEN",
                format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"),
            ));
        }
        for (alias, target) in &self.models.mapping {
            if alias.trim().is_empty() || target.trim().is_empty() {
                return Err(invalid(
                    "models.mapping / KIRO_MODEL_MAPPING",
                    "aliases and upstream ids must be non-empty",
                ));
            }
        }
        self.ops.validate()?;
        self.stats.validate()?;
        self.traffic.validate()?;
        self.pool.validate()
    }
}

fn apply_env(
    config: &mut Config,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Some(v) = env("HOST") {
        config.host = v;
    }
    if let Some(v) = env("PORT") {
        config.port = parse_num("PORT", &v)?;
    }
    if let Some(v) = env("KIRO_DATA_DIR") {
        config.data_dir = PathBuf::from(v);
    }
    if let Some(v) = env("KIRO_REGION") {
        config.region = v.trim().to_owned();
    }
    if let Some(v) = env("KIRO_API_KEYS") {
        config.api_keys = split_keys(v.split(','));
    }
    if let Some(v) = env("KIRO_ADMIN_TOKEN") {
        config.admin_token = Some(Secret::new(v.trim()));
    }
    if let Some(v) = env(crate::crypto::MASTER_KEY_ENV) {
        config.master_key = Some(Secret::new(v));
    }
    let up = &mut config.upstream;
    for (name, slot) in [
        ("KIRO_Q_URL", &mut up.q_url),
        ("KIRO_CODEWHISPERER_URL", &mut up.codewhisperer_url),
        ("KIRO_SOCIAL_AUTH_URL", &mut up.social_auth_url),
        ("KIRO_OIDC_URL", &mut up.oidc_url),
    ] {
        if let Some(v) = env(name) {
            *slot = v;
        }
    }
    for (name, slot) in [
        ("KIRO_CONNECT_TIMEOUT", &mut up.connect_timeout),
        (
            "KIRO_RESPONSE_HEADER_TIMEOUT",
            &mut up.response_header_timeout,
        ),
        ("KIRO_FIRST_EVENT_TIMEOUT", &mut up.first_event_timeout),
        ("KIRO_IDLE_TIMEOUT", &mut up.idle_timeout),
        ("KIRO_KEEPALIVE_INTERVAL", &mut up.keepalive_interval),
        ("KIRO_IMAGE_FETCH_TIMEOUT", &mut config.images.fetch_timeout),
        ("KIRO_REFRESH_MARGIN", &mut config.accounts.refresh_margin),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_duration(&v).map_err(|m| invalid(name, m))?;
        }
    }
    for (name, slot) in [
        ("KIRO_UPSTREAM_MAX_BODY_BYTES", &mut up.max_body_bytes),
        (
            "KIRO_MAX_REQUEST_BODY_BYTES",
            &mut config.limits.max_request_body_bytes,
        ),
        ("KIRO_IMAGE_MAX_BYTES", &mut config.images.max_bytes),
    ] {
        if let Some(v) = env(name) {
            *slot = parse_num(name, &v)?;
        }
    }
    if let Some(v) = env("KIRO_REMOTE_IMAGES") {
        config.images.remote_fetch = parse_bool("KIRO_REMOTE_IMAGES", &v)?;
    }
    if let Some(v) = env("KIRO_MODEL_MAPPING") {
        config.models.mapping = parse_mapping(&v)?;
    }
    ops::apply_env(&mut config.ops, env)?;
    stats::apply_env(&mut config.stats, env)?;
    traffic::apply_env(&mut config.traffic, env)?;
    pool::apply_env(&mut config.pool, env)
}

fn apply_flags(config: &mut Config, args: &ServeArgs) {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    if let Some(host) = nonempty(&args.host) {
        config.host = host;
    }
    if let Some(port) = args.port {
        config.port = port;
    }
    if let Some(dir) = args.data_dir.as_ref().filter(|d| !d.as_os_str().is_empty()) {
        config.data_dir = dir.clone();
    }
}

fn invalid(source_name: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        source_name: source_name.to_owned(),
        message: message.into(),
    }
}

fn split_keys<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<Secret> {
    keys.map(str::trim)
        .filter(|k| !k.is_empty())
        .map(Secret::from)
        .collect()
}

fn parse_num<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| invalid(name, format!("`{}` is not a valid number", value.trim())))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(invalid(
            name,
            format!("`{other}` is not a boolean (use true or false)"),
        )),
    }
}

/// `alias=upstream-id,alias2=id2`.
fn parse_mapping(value: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut map = BTreeMap::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (alias, target) = pair.split_once('=').ok_or_else(|| {
            invalid(
                "KIRO_MODEL_MAPPING",
                format!("`{pair}` is not of the form alias=upstream-id"),
            )
        })?;
        map.insert(alias.trim().to_owned(), target.trim().to_owned());
    }
    Ok(map)
}

/// A number of seconds, or a number with a unit `ms`, `s`, `m` or `h`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{v}` is not a duration (e.g. 30, \"500ms\", \"10s\", \"5m\")"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("`{v}` has an unknown unit (use ms, s, m or h)")),
    };
    n.checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{v}` is too large"))
}

fn check_region(name: &str, region: &str) -> Result<(), ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            name,
            format!("`{region}` is not an AWS region name such as us-east-1"),
        ))
    }
}

/// Trims whitespace and trailing `/`; requires `http://` or `https://` and a host.
fn normalize_url(name: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(name, format!("`{url}` must start with https:// or http://")))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(invalid(name, format!("`{url}` is not a valid base URL")));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration(" 5m "), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize_url("x", " http://127.0.0.1:9000/ ").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(normalize_url("x", "ftp://a").is_err());
        assert!(normalize_url("x", "https://").is_err());
    }

    #[test]
    fn mapping_env_format() {
        let m = parse_mapping("gpt-4o=claude-sonnet-4.5, fast = claude-haiku-4.5").unwrap();
        assert_eq!(m["gpt-4o"], "claude-sonnet-4.5");
        assert_eq!(m["fast"], "claude-haiku-4.5");
        assert!(parse_mapping("nonsense").is_err());
    }
}
