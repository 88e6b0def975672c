//! Settings that change while the service runs: stored in the settings table, validated,
//! applied at once (no restart). `GET`/`PUT /api/settings` edits them (see
//! `admin::settings`); the request path reads them through [`RuntimeSettings`]:
//!
//! - [`RuntimeSettings::strip_notice`] on the decoded request (the notice never goes upstream),
//! - [`RuntimeSettings::encoder`] / [`RuntimeSettings::folder`] for the reply (thinking as
//!   tags for OpenAI clients, the notice at the end).
//!
//! The log filter is runtime state too ([`logging`]), but is not persisted: `KIRO_LOG` is the
//! level at start, a runtime change lasts until the process ends.

pub mod logging;
pub mod notice;
pub mod pool;
mod reply;
pub mod thinking;
mod values;

use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use dialects::canonical::Request;
use dialects::encode::{ReplyEncoder, ReplyFolder};
use serde_json::{Map, Value, json};

pub use logging::{LogControl, LogFormat, LogOptions};
pub use thinking::ThinkingFormat;
pub use values::{BodyCaptureSetting, FieldError, Notice, READ_ONLY, Retention, Settings};

use crate::accounts::Pool;
use crate::config::{Config, PoolConfig, StatsConfig};
use crate::http::dialect::Dialect;
use crate::stats::{BodyCapture, DEFAULT_DAILY_RETENTION_DAYS, Stats};
use crate::store::{Store, StoreError};
use notice::{NoticeAdapter, SeenConversations};
use reply::Adapters;

/// Setting: the runtime settings object.
pub const SETTING_RUNTIME: &str = "runtime_settings";

/// Why an update was not applied.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The runtime settings in effect, shared by the admin API and the request path. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    current: RwLock<Arc<Settings>>,
    /// Updates one at a time, so two partial updates cannot lose each other's fields.
    writing: tokio::sync::Mutex<()>,
    seen: Arc<SeenConversations>,
    log: OnceLock<LogControl>,
    /// The configured retention and body capture, under the runtime overrides.
    configured_stats: StatsConfig,
    /// The configured pool thresholds, under the runtime overrides.
    configured_pool: PoolConfig,
    /// The statistics keeper the retention and body capture are applied to (set once the app
    /// has built it).
    stats: OnceLock<Stats>,
    /// The pool the thresholds are applied to (set once the app has built it).
    pool: OnceLock<Pool>,
}

/// The statistics retention in effect: runtime overrides over the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveRetention {
    pub request_log_size: usize,
    pub retention_days: u32,
    pub daily_retention_days: u32,
}

impl RuntimeSettings {
    /// The stored settings (defaults when none are stored, or when the stored row cannot be
    /// read: a bad row must not keep the service from starting; the next update replaces it).
    pub async fn load(store: &Store, config: &Config) -> Self {
        let settings = match store.get_setting::<Settings>(SETTING_RUNTIME).await {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => {
                tracing::error!(error = %e, "stored runtime settings unreadable; using defaults");
                Settings::default()
            }
        };
        Self {
            inner: Arc::new(Inner {
                store: store.clone(),
                current: RwLock::new(Arc::new(settings)),
                writing: tokio::sync::Mutex::new(()),
                seen: Arc::new(SeenConversations::default()),
                log: OnceLock::new(),
                configured_stats: config.stats.clone(),
                configured_pool: config.pool.clone(),
                stats: OnceLock::new(),
                pool: OnceLock::new(),
            }),
        }
    }

    /// The settings in effect.
    pub fn current(&self) -> Arc<Settings> {
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies a partial update: validated, stored (durable), then in effect.
    pub async fn update(
        &self,
        patch: &Map<String, Value>,
        check_model: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Arc<Settings>, UpdateError> {
        let _one_at_a_time = self.inner.writing.lock().await;
        let before = self.current();
        let next = before.patched(patch, check_model, &self.inner.configured_pool)?;
        self.inner.store.put_setting(SETTING_RUNTIME, &next).await?;
        if next.notice.markdown != before.notice.markdown {
            // A new text is news to every conversation.
            self.inner.seen.clear();
        }
        let next = Arc::new(next);
        if next.retention != before.retention {
            self.apply_retention(&next);
        }
        if next.body_capture != before.body_capture {
            self.apply_body_capture(&next);
        }
        if next.pool != before.pool {
            self.apply_pool(&next);
        }
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next.clone();
        Ok(next)
    }

    /// Hands over the statistics keeper (the app does, once built) and applies the stored
    /// retention to it at once, so a runtime change survives a restart. Later calls do
    /// nothing.
    pub fn attach_stats(&self, stats: Stats) {
        if self.inner.stats.set(stats).is_ok() {
            let current = self.current();
            self.apply_retention(&current);
            self.apply_body_capture(&current);
        }
    }

    /// Hands over the pool (the app does, once built) and applies the stored thresholds to it
    /// at once, so a runtime change survives a restart. Later calls do nothing.
    pub fn attach_pool(&self, pool: Pool) {
        if self.inner.pool.set(pool).is_ok() {
            self.apply_pool(&self.current());
        }
    }

    /// Body capture in effect under `settings`.
    fn body_capture_of(&self, settings: &Settings) -> BodyCapture {
        let b = settings.body_capture;
        let c = &self.inner.configured_stats;
        BodyCapture::new(
            b.enabled.unwrap_or(c.capture_bodies),
            b.max_bytes.map_or(c.capture_max_bytes, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        )
    }

    fn apply_body_capture(&self, settings: &Settings) {
        if let Some(stats) = self.inner.stats.get() {
            stats.set_body_capture(self.body_capture_of(settings));
        }
    }

    /// Body capture as `GET /api/settings` shows it.
    pub fn body_capture_view(&self) -> Value {
        let settings = self.current();
        let c = &self.inner.configured_stats;
        let b = settings.body_capture;
        json!({
            "enabled": b.enabled.unwrap_or(c.capture_bodies),
            "maxBytes": b.max_bytes.map_or(c.capture_max_bytes, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        })
    }

    /// The pool thresholds in effect: runtime overrides over the configuration.
    pub fn pool_config(&self) -> PoolConfig {
        pool::effective(&self.inner.configured_pool, &self.current().pool)
    }

    fn apply_pool(&self, settings: &Settings) {
        if let Some(p) = self.inner.pool.get() {
            p.set_config(pool::effective(&self.inner.configured_pool, &settings.pool));
        }
    }

    /// The pool thresholds in effect as `GET /api/settings` shows them.
    pub fn pool_view(&self) -> Value {
        pool::view(&self.pool_config())
    }

    /// The retention in effect under `settings`.
    fn retention_of(&self, settings: &Settings) -> EffectiveRetention {
        let r = settings.retention;
        let c = &self.inner.configured_stats;
        EffectiveRetention {
            request_log_size: r.request_log_size.map_or(c.request_log_size, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            retention_days: r.retention_days.unwrap_or(c.retention_days),
            daily_retention_days: r
                .daily_retention_days
                .unwrap_or(DEFAULT_DAILY_RETENTION_DAYS),
        }
    }

    /// The statistics retention in effect.
    pub fn retention(&self) -> EffectiveRetention {
        self.retention_of(&self.current())
    }

    fn apply_retention(&self, settings: &Settings) {
        let Some(stats) = self.inner.stats.get() else {
            return;
        };
        let r = self.retention_of(settings);
        stats.set_request_log_size(r.request_log_size);
        stats.set_retention_days(r.retention_days);
        stats.set_daily_retention_days(r.daily_retention_days);
    }

    /// The retention in effect as `GET /api/settings` shows it.
    pub fn retention_view(&self) -> Value {
        let r = self.retention();
        json!({
            "requestLogSize": r.request_log_size,
            "retentionDays": r.retention_days,
            "dailyRetentionDays": r.daily_retention_days,
        })
    }

    /// Hands over the process's log filter control (main does, once the logger is up).
    /// Returns false when one was already installed.
    pub fn install_log_control(&self, control: LogControl) -> bool {
        self.inner.log.set(control).is_ok()
    }

    /// The log filter control, when a reloadable logger is installed.
    pub fn log_control(&self) -> Option<&LogControl> {
        self.inner.log.get()
    }

    /// The notice text, when the notice is on.
    pub fn notice_text(&self) -> Option<String> {
        self.current().notice.active().map(str::to_owned)
    }

    /// Takes the notice out of the assistant turns of `req` (the client echoes it back as
    /// assistant text; the model must never read it).
    pub fn strip_notice(&self, req: &mut Request) {
        let settings = self.current();
        // Stripped even when switched off: conversations from before still carry it.
        let stripped = notice::strip(req, &settings.notice.markdown);
        if stripped > 0 {
            tracing::debug!(turns = stripped, "operator notice removed from the history");
        }
    }

    fn adapters(&self, dialect: Dialect, req: &Request) -> Adapters {
        let settings = self.current();
        Adapters {
            tags: match dialect {
                Dialect::OpenAi => settings.thinking_format.adapter(),
                Dialect::Anthropic => None,
            },
            notice: settings.notice.active().map(|text| {
                NoticeAdapter::new(text, notice::conversation_key(req), self.inner.seen.clone())
            }),
        }
    }

    /// The SSE encoder of a streamed reply to `req`, with the settings' rewrites.
    pub fn encoder(&self, dialect: Dialect, req: &Request) -> Box<dyn ReplyEncoder> {
        self.adapters(dialect, req).encoder(dialect.encoder(req))
    }

    /// The folder of a non-streamed reply to `req`, with the settings' rewrites.
    pub fn folder(&self, dialect: Dialect, req: &Request) -> Box<dyn ReplyFolder> {
        self.adapters(dialect, req).folder(dialect.folder(req))
    }
}
