//! Structured logs: `tracing` to stderr as text or JSON lines (`KIRO_LOG_FORMAT`), filtered by
//! `KIRO_LOG`, with a filter that can be replaced while the service runs
//! (`PUT /api/settings/log-level`). The HTTP layer wraps every request in a span carrying its
//! `request_id`, so every line a request causes names it.
//!
//! Secrets never reach a log line: tokens and keys are held in `Secret` (whose `Debug` is
//! `[redacted]`), request headers are never logged, and request paths are logged without their
//! query string.

use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// The filter in effect when `KIRO_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "info";

/// `KIRO_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (`tracing`'s default format).
    #[default]
    Text,
    /// One JSON object per line, the request span's fields under `span`.
    Json,
}

impl LogFormat {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("`{other}` is not a log format (use text or json)")),
        }
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogInitError {
    #[error("invalid log filter: {0}")]
    Filter(String),
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a filter such as `debug` or `info,kiro_proxy=debug,hyper=warn` and returns it
/// normalised (trimmed, lower-case levels). Every directive must name a level: a bare word
/// that is not one (`verbose`) would otherwise be read as a target name and silently log
/// nothing new.
pub fn check_filter(value: &str) -> Result<String, String> {
    let mut directives = Vec::new();
    for d in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (target, level) = match d.rsplit_once('=') {
            Some((t, l)) => (Some(t.trim()), l.trim()),
            None => (None, d),
        };
        let level = level.to_ascii_lowercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(format!(
                "`{d}`: the level must be one of trace, debug, info, warn, error or off"
            ));
        }
        match target {
            Some("") => return Err(format!("`{d}` has an empty target")),
            Some(t) => directives.push(format!("{t}={level}")),
            None => directives.push(level),
        }
    }
    if directives.is_empty() {
        return Err("the filter is empty (e.g. \"info\" or \"info,kiro_proxy=debug\")".to_owned());
    }
    let normalised = directives.join(",");
    EnvFilter::try_new(&normalised).map_err(|e| format!("`{normalised}`: {e}"))?;
    Ok(normalised)
}

type ApplyFn = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

/// Changes the log filter of the running process. Cheap to clone.
#[derive(Clone)]
pub struct LogControl {
    inner: Arc<LogInner>,
}

struct LogInner {
    apply: ApplyFn,
    current: Mutex<String>,
}

impl std::fmt::Debug for LogControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogControl")
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl LogControl {
    /// The filter in effect.
    pub fn current(&self) -> String {
        self.inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the filter; returns the normalised one. The error names what is wrong.
    pub fn set(&self, filter: &str) -> Result<String, String> {
        let normalised = check_filter(filter)?;
        let parsed = EnvFilter::try_new(&normalised).map_err(|e| e.to_string())?;
        let mut current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (self.inner.apply)(parsed)?;
        current.clone_from(&normalised);
        Ok(normalised)
    }
}

/// How to log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub format: LogFormat,
    /// The initial filter (checked with [`check_filter`]).
    pub filter: String,
    /// Colour codes in text lines (for a terminal).
    pub ansi: bool,
}

/// Installs the process's logger writing to `writer`, and returns the handle that changes its
/// filter. Once per process.
pub fn install<W>(options: &LogOptions, writer: W) -> Result<LogControl, LogInitError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = check_filter(&options.filter).map_err(LogInitError::Filter)?;
    let env_filter =
        EnvFilter::try_new(&filter).map_err(|e| LogInitError::Filter(e.to_string()))?;
    let (filter_layer, handle) = reload::Layer::<EnvFilter, Registry>::new(env_filter);
    let (text, json) = match options.format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(options.ansi)
                    .with_writer(writer),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter_layer)
        .with(text)
        .with(json)
        .try_init()
        .map_err(|_| LogInitError::AlreadyInstalled)?;
    Ok(LogControl {
        inner: Arc::new(LogInner {
            apply: Box::new(move |f| handle.reload(f).map_err(|e| e.to_string())),
            current: Mutex::new(filter),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_and_normalised() {
        assert_eq!(check_filter(" DEBUG ").unwrap(), "debug");
        assert_eq!(
            check_filter("info, kiro_proxy=Debug ,hyper=warn").unwrap(),
            "info,kiro_proxy=debug,hyper=warn"
        );
        assert_eq!(
            check_filter("kiro_proxy::http=trace").unwrap(),
            "kiro_proxy::http=trace"
        );
        for bad in ["", " , ", "verbose", "kiro_proxy", "=debug", "info,x=loud"] {
            assert!(check_filter(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(LogFormat::parse("JSON"), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(""), Ok(LogFormat::Text));
        assert!(LogFormat::parse("xml").is_err());
    }
}
