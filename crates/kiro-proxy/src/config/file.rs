//! The TOML file: every key optional, unknown keys rejected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiro_wire::types::Secret;
use serde::Deserialize;

use super::ops::OpsFile;
use super::pool::PoolFile;
use super::stats::StatsFile;
use super::traffic::TrafficFile;
use super::{Config, ConfigError, invalid, parse_duration, split_keys};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    host: Option<String>,
    port: Option<u16>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    api_keys: Option<Keys>,
    admin_token: Option<String>,
    #[serde(default)]
    upstream: Upstream,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    images: Images,
    #[serde(default)]
    accounts: Accounts,
    #[serde(default)]
    models: Models,
    #[serde(default)]
    pool: PoolFile,
    #[serde(default)]
    traffic: TrafficFile,
    #[serde(default)]
    stats: StatsFile,
    #[serde(default)]
    ops: OpsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upstream {
    q_url: Option<String>,
    codewhisperer_url: Option<String>,
    social_auth_url: Option<String>,
    oidc_url: Option<String>,
    connect_timeout: Option<FileDuration>,
    response_header_timeout: Option<FileDuration>,
    first_event_timeout: Option<FileDuration>,
    idle_timeout: Option<FileDuration>,
    keepalive_interval: Option<FileDuration>,
    max_body_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    max_request_body_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Images {
    remote_fetch: Option<bool>,
    max_bytes: Option<usize>,
    fetch_timeout: Option<FileDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Accounts {
    refresh_margin: Option<FileDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Models {
    mapping: Option<BTreeMap<String, String>>,
}

/// A list, or one comma-separated string like the environment variable (accepting both also
/// keeps a type error from echoing a key).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Keys {
    List(Vec<String>),
    Joined(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum FileDuration {
    Secs(u64),
    Text(String),
}

pub(super) fn read(path: &Path) -> Result<File, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

pub(super) fn duration(
    name: &str,
    d: Option<FileDuration>,
    slot: &mut Duration,
) -> Result<(), ConfigError> {
    match d {
        None => {}
        Some(FileDuration::Secs(s)) => *slot = Duration::from_secs(s),
        Some(FileDuration::Text(t)) => *slot = parse_duration(&t).map_err(|m| invalid(name, m))?,
    }
    Ok(())
}

pub(super) fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

impl File {
    pub(super) fn apply(self, c: &mut Config) -> Result<(), ConfigError> {
        set(&mut c.host, self.host);
        set(&mut c.port, self.port);
        set(&mut c.data_dir, self.data_dir);
        set(&mut c.region, self.region.map(|r| r.trim().to_owned()));
        match self.api_keys {
            None => {}
            Some(Keys::List(keys)) => c.api_keys = split_keys(keys.iter().map(String::as_str)),
            Some(Keys::Joined(keys)) => c.api_keys = split_keys(keys.split(',')),
        }
        set(
            &mut c.admin_token,
            self.admin_token.map(|t| Some(Secret::new(t.trim()))),
        );
        let (u, up) = (self.upstream, &mut c.upstream);
        set(&mut up.q_url, u.q_url);
        set(&mut up.codewhisperer_url, u.codewhisperer_url);
        set(&mut up.social_auth_url, u.social_auth_url);
        set(&mut up.oidc_url, u.oidc_url);
        duration(
            "upstream.connect_timeout",
            u.connect_timeout,
            &mut up.connect_timeout,
        )?;
        duration(
            "upstream.response_header_timeout",
            u.response_header_timeout,
            &mut up.response_header_timeout,
        )?;
        duration(
            "upstream.first_event_timeout",
            u.first_event_timeout,
            &mut up.first_event_timeout,
        )?;
        duration(
            "upstream.idle_timeout",
            u.idle_timeout,
            &mut up.idle_timeout,
        )?;
        duration(
            "upstream.keepalive_interval",
            u.keepalive_interval,
            &mut up.keepalive_interval,
        )?;
        set(&mut up.max_body_bytes, u.max_body_bytes);
        set(
            &mut c.limits.max_request_body_bytes,
            self.limits.max_request_body_bytes,
        );
        set(&mut c.images.remote_fetch, self.images.remote_fetch);
        set(&mut c.images.max_bytes, self.images.max_bytes);
        duration(
            "images.fetch_timeout",
            self.images.fetch_timeout,
            &mut c.images.fetch_timeout,
        )?;
        duration(
            "accounts.refresh_margin",
            self.accounts.refresh_margin,
            &mut c.accounts.refresh_margin,
        )?;
        set(&mut c.models.mapping, self.models.mapping);
        self.stats.apply(&mut c.stats);
        self.ops.apply(&mut c.ops)?;
        self.traffic.apply(&mut c.traffic)?;
        self.pool.apply(&mut c.pool)
    }
}
