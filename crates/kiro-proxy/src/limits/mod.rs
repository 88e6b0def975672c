//! Who may send how much: the traffic controls and the per-key limits, enforced by one
//! middleware in front of the client routes (`/v1/messages`, `/v1/chat/completions`,
//! `…/count_tokens`; not health, metrics or the admin API).
//!
//! For each request, in this order, answering at once (nothing is held open as a penalty):
//!
//! 1. the client address: the socket peer, or `X-Forwarded-For` from a trusted proxy
//!    ([`net::client_ip`]);
//! 2. the block list → 403; the per-address rate limit → 429;
//! 3. the key ([`ClientAuth::admit`]): missing, unknown, disabled or expired → 401;
//! 4. the key's monthly token budget, tokens per minute → 429;
//! 5. the key's concurrency cap → 429; the proxy's concurrency cap → 503;
//! 6. the key's requests per minute → 429.
//!
//! Refusals are in the client's dialect, with `retry-after` (whole seconds until the window
//! frees, see [`window`]), and are reported to the telemetry like any request. The model
//! allow-list is checked by the handler once the body is decoded: [`check_model`].
//!
//! # What the handlers find in the request extensions
//!
//! An admitted request carries, for the handlers behind the middleware:
//! - [`ClientIdentity`] — who the key belongs to (the middleware authenticated it);
//! - [`ClientIp`] — the client address as resolved in step 1 (use it for logs and statistics
//!   instead of the socket peer);
//! - `Arc<`[`KeyPolicy`]`>` — only for a key created with the admin API: its limits.
//!
//! Tokens per minute and the monthly budget are fed by the telemetry: [`Limits`] is a
//! [`RequestObserver`] that adds each finished request's tokens (input + output + cache) to its
//! key. The monthly totals are kept in memory and written by [`Limits::flush`] (periodically
//! from [`Limits::run_maintenance`], and once more at shutdown).

mod concurrency;
mod middleware;
mod models;
pub mod net;
mod shards;
mod traffic;
mod usage;
pub mod window;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use dialects::canonical::{ClientError, ErrorKind};
use http::HeaderMap;

pub use concurrency::{Full, Permit};
pub use middleware::middleware;
pub use models::{allowed, check_model};
pub use net::{BadIpNet, IpNet};
pub use traffic::{MAX_ADDRESS_ENTRIES, SETTING_TRAFFIC, TrafficError, TrafficSettings};
pub use usage::Month;

use self::concurrency::InFlight;
use self::shards::Sharded;
use self::usage::MonthlyBook;
use self::window::Window;
use crate::client_auth::{AuthFailure, ClientAuth, ClientIdentity, KeyPolicy};
use crate::config::Config;
use crate::store::{Store, StoreError, unix_now};
use crate::telemetry::{KeyRef, RequestObserver, RequestRecord};

/// Request extension: the client address the limits used (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The limits' state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Limits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    client_auth: ClientAuth,
    traffic: RwLock<Arc<TrafficSettings>>,
    /// Origin of the rate windows' clock (monotonic).
    origin: Instant,
    ips: Sharded<IpAddr, Window>,
    keys: Sharded<String, KeyWindows>,
    in_flight: Arc<InFlight>,
    months: MonthlyBook,
    flush_interval: Duration,
}

/// The last minute of one stored key.
#[derive(Debug, Default)]
struct KeyWindows {
    requests: Window,
    tokens: Window,
}

/// A stored key's current use, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUsage {
    /// Requests admitted in the last 60 seconds.
    pub requests_last_minute: u64,
    /// Tokens of requests that finished in the last 60 seconds.
    pub tokens_last_minute: u64,
    /// The current month, `YYYY-MM` (UTC).
    pub month: String,
    pub tokens_this_month: u64,
    /// Requests in progress.
    pub in_flight: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client address is on the block list (403).
    Blocked,
    /// Too many requests from the client address (429).
    IpRate { limit: u64, retry_after: u64 },
    /// No usable key (401).
    Auth(AuthFailure),
    /// The key's monthly token budget is spent (429 until the month ends).
    MonthlyBudget { budget: u64, retry_after: u64 },
    /// The key's tokens per minute are spent (429).
    Tpm { limit: u64, retry_after: u64 },
    /// The key's requests per minute are spent (429).
    Rpm { limit: u64, retry_after: u64 },
    /// The key has its maximum of requests in progress (429).
    KeyConcurrency { limit: u64 },
    /// The proxy has its maximum of requests in progress (503).
    Busy { limit: u64 },
}

/// A refused request, with what was learnt about it before the refusal.
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    pub client_ip: IpAddr,
    pub identity: Option<ClientIdentity>,
}

/// An admitted request. Its concurrency slot is held until `permit` is dropped.
#[derive(Debug)]
pub struct Admitted {
    pub identity: ClientIdentity,
    pub policy: Option<Arc<KeyPolicy>>,
    pub client_ip: IpAddr,
    pub permit: Permit,
}

impl Refusal {
    /// HTTP status (the 503 of a full proxy is the same in both dialects).
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Busy { .. } => 503,
            other => other.client_error().kind.status(),
        }
    }

    /// Short class for statistics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Blocked => "ip_blocked",
            Refusal::IpRate { .. } => "ip_rate_limited",
            Refusal::Auth(AuthFailure::KeyDisabled) => "key_disabled",
            Refusal::Auth(AuthFailure::KeyExpired) => "key_expired",
            Refusal::Auth(_) => "authentication",
            Refusal::MonthlyBudget { .. } => "monthly_budget_exhausted",
            Refusal::Tpm { .. } => "tpm_limited",
            Refusal::Rpm { .. } => "rpm_limited",
            Refusal::KeyConcurrency { .. } => "key_concurrency_limited",
            Refusal::Busy { .. } => "concurrency_full",
        }
    }

    /// The error as the client sees it.
    pub fn client_error(&self) -> ClientError {
        let limited = |message: String, retry_after: u64| {
            ClientError::new(ErrorKind::RateLimited, message).with_retry_after(retry_after)
        };
        match self {
            Refusal::Blocked => ClientError::new(
                ErrorKind::PermissionDenied,
                "Requests from your network address are blocked by this kiro-proxy.",
            ),
            Refusal::IpRate { limit, retry_after } => limited(
                format!(
                    "Too many requests from your address: the limit is {limit} per minute. \
                     Retry in {retry_after} s."
                ),
                *retry_after,
            ),
            Refusal::Auth(failure) => {
                ClientError::new(ErrorKind::Authentication, failure.message())
            }
            Refusal::MonthlyBudget {
                budget,
                retry_after,
            } => limited(
                format!(
                    "This API key has used its monthly budget of {budget} tokens; it renews at \
                     the start of next month (UTC), in {retry_after} s."
                ),
                *retry_after,
            ),
            Refusal::Tpm { limit, retry_after } => limited(
                format!(
                    "This API key is limited to {limit} tokens per minute. Retry in \
                     {retry_after} s."
                ),
                *retry_after,
            ),
            Refusal::Rpm { limit, retry_after } => limited(
                format!(
                    "This API key is limited to {limit} requests per minute. Retry in \
                     {retry_after} s."
                ),
                *retry_after,
            ),
            Refusal::KeyConcurrency { limit } => limited(
                format!(
                    "This API key already has {limit} requests in progress, its limit. Retry \
                     when one of them has finished."
                ),
                1,
            ),
            Refusal::Busy { limit } => ClientError::new(
                ErrorKind::Overloaded,
                format!(
                    "kiro-proxy is serving its maximum of {limit} requests at once. Retry in a \
                     moment."
                ),
            )
            .with_retry_after(1),
        }
    }
}

/// The key under which concurrency is counted for an identity.
fn concurrency_key(identity: &ClientIdentity) -> String {
    match identity {
        ClientIdentity::StoredKey { id, .. } => id.clone(),
        ClientIdentity::ConfiguredKey { index } => format!("configured:{index}"),
        ClientIdentity::Loopback => "loopback".to_owned(),
    }
}

impl Limits {
    /// Builds the limits: the stored traffic controls (else the configured ones) and the
    /// current month's token use of every key.
    pub async fn load(
        config: &Config,
        store: Store,
        client_auth: ClientAuth,
    ) -> Result<Self, StoreError> {
        let traffic = match store.get_setting::<TrafficSettings>(SETTING_TRAFFIC).await {
            Ok(Some(stored)) => stored,
            Ok(None) => TrafficSettings::from_config(&config.traffic),
            Err(e) => {
                tracing::warn!(error = %e, "stored traffic controls unreadable; using the configured ones");
                TrafficSettings::from_config(&config.traffic)
            }
        };
        let months = MonthlyBook::load(&store, Month::of(unix_now())).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                client_auth,
                traffic: RwLock::new(Arc::new(traffic)),
                origin: Instant::now(),
                ips: Sharded::default(),
                keys: Sharded::default(),
                in_flight: Arc::new(InFlight::default()),
                months,
                flush_interval: config.traffic.key_usage_flush_interval,
            }),
        })
    }

    fn now(&self) -> Duration {
        self.inner.origin.elapsed()
    }

    /// The traffic controls in effect.
    pub fn traffic(&self) -> Arc<TrafficSettings> {
        match self.inner.traffic.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Validates, stores and applies new traffic controls.
    pub async fn set_traffic(&self, settings: TrafficSettings) -> Result<(), SetTrafficError> {
        settings.validate()?;
        self.inner
            .store
            .put_setting(SETTING_TRAFFIC, &settings)
            .await?;
        let settings = Arc::new(settings);
        match self.inner.traffic.write() {
            Ok(mut t) => *t = settings,
            Err(poisoned) => *poisoned.into_inner() = settings,
        }
        Ok(())
    }

    /// Requests in progress through the client routes.
    pub fn in_flight(&self) -> u64 {
        self.inner.in_flight.total()
    }

    /// The current use of stored key `id`.
    pub fn key_usage(&self, id: &str) -> KeyUsage {
        let now = self.now();
        let (requests, tokens) = self
            .inner
            .keys
            .with_existing(id, |w| (w.requests.total(now), w.tokens.total(now)))
            .unwrap_or((0, 0));
        let month = Month::of(unix_now());
        KeyUsage {
            requests_last_minute: requests,
            tokens_last_minute: tokens,
            month: month.label(),
            tokens_this_month: self.inner.months.used(id, month),
            in_flight: self.inner.in_flight.of_key(id),
        }
    }

    /// The client's address: the socket peer, or what `X-Forwarded-For` says when the peer is a
    /// trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        net::client_ip(peer, headers, &self.traffic().trusted_proxies)
    }

    /// Decides on a request from socket peer `peer` with `headers` (see the module docs for
    /// the order of the checks).
    pub fn admit(&self, peer: IpAddr, headers: &HeaderMap) -> Result<Admitted, Refused> {
        let traffic = self.traffic();
        let now = self.now();
        let client_ip = net::client_ip(peer, headers, &traffic.trusted_proxies);
        let refuse = |refusal, identity| Refused {
            refusal,
            client_ip,
            identity,
        };
        if net::any_contains(&traffic.blocked_ips, client_ip) {
            return Err(refuse(Refusal::Blocked, None));
        }
        if let Some(limit) = traffic.ip_rate_limit_per_minute {
            let counted = self
                .inner
                .ips
                .with(&client_ip, |w| w.try_acquire(now, limit));
            if let Err(retry_after) = counted {
                return Err(refuse(Refusal::IpRate { limit, retry_after }, None));
            }
        }
        let admission = self
            .inner
            .client_auth
            .admit(headers, Some(client_ip))
            .map_err(|f| refuse(Refusal::Auth(f), None))?;
        let identity = admission.identity;
        let policy = admission.policy;
        if let Some(p) = &policy {
            if let Err(refusal) = self.check_tokens(p, now) {
                return Err(refuse(refusal, Some(identity)));
            }
        }
        let permit = match self.inner.in_flight.acquire(
            concurrency_key(&identity),
            traffic.per_key_concurrency,
            traffic.max_concurrency,
        ) {
            Ok(permit) => permit,
            Err(Full::Key(limit)) => {
                return Err(refuse(Refusal::KeyConcurrency { limit }, Some(identity)));
            }
            Err(Full::Global(limit)) => {
                return Err(refuse(Refusal::Busy { limit }, Some(identity)));
            }
        };
        if let Some(p) = &policy {
            let rpm = p.settings.rpm;
            let counted = self.inner.keys.with(p.id.as_str(), |w| match rpm {
                Some(limit) => w.requests.try_acquire(now, limit).map_err(|r| (limit, r)),
                None => {
                    w.requests.add(now, 1);
                    Ok(())
                }
            });
            if let Err((limit, retry_after)) = counted {
                // The permit is dropped with the refusal: the slot is free again.
                return Err(refuse(Refusal::Rpm { limit, retry_after }, Some(identity)));
            }
        }
        Ok(Admitted {
            identity,
            policy,
            client_ip,
            permit,
        })
    }

    /// The monthly budget and the tokens per minute of a stored key.
    fn check_tokens(&self, p: &KeyPolicy, now: Duration) -> Result<(), Refusal> {
        if let Some(budget) = p.settings.monthly_tokens {
            let at = unix_now();
            let month = Month::of(at);
            if self.inner.months.used(&p.id, month) >= budget {
                let retry_after = u64::try_from(month.next_start() - at).unwrap_or(1).max(1);
                return Err(Refusal::MonthlyBudget {
                    budget,
                    retry_after,
                });
            }
        }
        if let Some(limit) = p.settings.tpm {
            let checked = self
                .inner
                .keys
                .with_existing(p.id.as_str(), |w| w.tokens.check(now, limit));
            if let Some(Err(retry_after)) = checked {
                return Err(Refusal::Tpm { limit, retry_after });
            }
        }
        Ok(())
    }

    /// Writes the keys' pending monthly token use to the store. Call at shutdown, after the
    /// last request ended.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.months.flush(&self.inner.store).await
    }

    /// Forever: flushes the monthly use every `traffic.key_usage_flush_interval` and forgets
    /// idle windows.
    pub async fn run_maintenance(self) {
        let mut tick = tokio::time::interval(self.inner.flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.flush().await {
                tracing::warn!(error = %e, "could not write the keys' token use; will retry");
            }
            self.prune();
        }
    }

    /// Drops windows with nothing left in them and months that are over.
    fn prune(&self) {
        let now = self.now();
        self.inner.ips.retain(|_, w| !w.is_idle(now));
        self.inner
            .keys
            .retain(|_, w| !(w.requests.is_idle(now) && w.tokens.is_idle(now)));
        let auth = &self.inner.client_auth;
        self.inner
            .months
            .prune(Month::of(unix_now()), |id| auth.policy(id).is_some());
    }
}

impl RequestObserver for Limits {
    /// Adds a finished request's tokens to its key's minute and month (one shard lock each).
    fn observe(&self, record: &RequestRecord) {
        let KeyRef::Stored { id, .. } = &record.key else {
            return;
        };
        let tokens = record
            .input_tokens
            .saturating_add(record.output_tokens)
            .saturating_add(record.cache_read_input_tokens)
            .saturating_add(record.cache_creation_input_tokens);
        if tokens == 0 {
            return;
        }
        let now = self.now();
        self.inner
            .keys
            .with(id.as_str(), |w| w.tokens.add(now, tokens));
        self.inner.months.add(id, Month::of(unix_now()), tokens);
    }
}

/// Why traffic controls could not be set.
#[derive(Debug, thiserror::Error)]
pub enum SetTrafficError {
    #[error(transparent)]
    Invalid(#[from] TrafficError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
