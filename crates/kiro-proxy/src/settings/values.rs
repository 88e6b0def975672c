//! The settings an operator changes at runtime, as stored (one JSON object under the
//! `runtime_settings` key of the store's settings table), and the partial update of
//! `PUT /api/settings` with its validation: every error names its field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::thinking::ThinkingFormat;
use crate::config::{MAX_CAPTURE_MAX_BYTES, MIN_CAPTURE_MAX_BYTES, PoolConfig};

/// Longest notice accepted (characters): it is appended to replies.
pub const MAX_NOTICE_CHARS: usize = 4_000;
/// Longest model name accepted.
const MAX_MODEL_CHARS: usize = 200;

/// Runtime settings. Absent fields of a stored object take their defaults, so a newer build
/// reads an older row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The model clients are offered when they name none (the console's playground); the
    /// client APIs themselves require a model.
    pub default_model: Option<String>,
    /// How thinking is shown to OpenAI Chat Completions clients.
    pub thinking_format: ThinkingFormat,
    pub notice: Notice,
    /// Statistics retention set at runtime; what is not set comes from the configuration.
    pub retention: Retention,
    /// Body capture set at runtime; what is not set comes from the configuration.
    pub body_capture: BodyCaptureSetting,
    /// Pool thresholds set at runtime (field → value, as `GET` names them; see
    /// [`super::pool`]); what is not set comes from the configuration.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub pool: Map<String, Value>,
}

/// Runtime overrides of body capture (see `crate::stats`). `None`: the configured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BodyCaptureSetting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// Largest request log accepted (as in the configuration).
pub const MAX_REQUEST_LOG_SIZE: u64 = 10_000_000;
/// Longest retention accepted, in days (as in the configuration).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Longest daily-aggregate retention accepted, in days (a century).
pub const MAX_DAILY_RETENTION_DAYS: u32 = 36_500;

/// Runtime overrides of the statistics retention (see `crate::stats`). `None`: the
/// configured value (the daily retention's: `stats::DEFAULT_DAILY_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Retention {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_log_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_retention_days: Option<u32>,
}

/// The operator notice (see [`super::notice`]). Off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Notice {
    pub enabled: bool,
    pub markdown: String,
}

impl Notice {
    /// The text to show, when the notice is on.
    pub fn active(&self) -> Option<&str> {
        let text = self.markdown.trim();
        (self.enabled && !text.is_empty()).then_some(text)
    }
}

/// A rejected update: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub(super) fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn wrong_type(field: &str, expected: &str, got: &Value) -> FieldError {
    field_error(field, format!("must be {expected}, not {}", type_name(got)))
}

/// Fields `GET /api/settings` shows that are changed elsewhere, and where.
pub const READ_ONLY: [(&str, &str); 2] = [
    ("modelMapping", "is changed with PUT /api/model-mapping"),
    ("logLevel", "is changed with PUT /api/settings/log-level"),
];

impl Settings {
    /// `self` with the fields of `patch` applied. `check_model` validates a default model
    /// (against the catalogue and mapping) and says what is wrong.
    /// `configured_pool` is the configuration the pool overrides apply over.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        check_model: impl Fn(&str) -> Result<(), String>,
        configured_pool: &PoolConfig,
    ) -> Result<Settings, FieldError> {
        let mut next = self.clone();
        for (field, value) in patch {
            match field.as_str() {
                "defaultModel" => next.default_model = default_model(value, &check_model)?,
                "thinkingFormat" => next.thinking_format = thinking_format(value)?,
                "notice" => next.notice = notice(&self.notice, value)?,
                "retention" => next.retention = retention(self.retention, value)?,
                "bodyCapture" => next.body_capture = body_capture(self.body_capture, value)?,
                "pool" => next.pool = super::pool::patched(configured_pool, &self.pool, value)?,
                other => {
                    if let Some((_, why)) = READ_ONLY.iter().find(|(name, _)| *name == other) {
                        return Err(field_error(other, *why));
                    }
                    return Err(field_error(
                        other,
                        "is not a setting (defaultModel, thinkingFormat, notice, retention, \
                         bodyCapture, pool)",
                    ));
                }
            }
        }
        Ok(next)
    }
}

fn default_model(
    value: &Value,
    check_model: &impl Fn(&str) -> Result<(), String>,
) -> Result<Option<String>, FieldError> {
    const FIELD: &str = "defaultModel";
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => {
            let name = s.trim();
            if name.chars().count() > MAX_MODEL_CHARS {
                return Err(field_error(
                    FIELD,
                    format!("is longer than {MAX_MODEL_CHARS} characters"),
                ));
            }
            check_model(name).map_err(|m| field_error(FIELD, m))?;
            Ok(Some(name.to_owned()))
        }
        other => Err(wrong_type(FIELD, "a model name or null", other)),
    }
}

fn thinking_format(value: &Value) -> Result<ThinkingFormat, FieldError> {
    const FIELD: &str = "thinkingFormat";
    match value {
        Value::String(s) => ThinkingFormat::parse(s.trim())
            .ok_or_else(|| field_error(FIELD, format!("must be {}", ThinkingFormat::VALUES))),
        other => Err(wrong_type(FIELD, ThinkingFormat::VALUES, other)),
    }
}

fn notice(current: &Notice, value: &Value) -> Result<Notice, FieldError> {
    let Value::Object(fields) = value else {
        return Err(wrong_type(
            "notice",
            "an object {\"enabled\": bool, \"markdown\": string}",
            value,
        ));
    };
    let mut next = current.clone();
    for (field, v) in fields {
        match field.as_str() {
            "enabled" => match v {
                Value::Bool(b) => next.enabled = *b,
                other => return Err(wrong_type("notice.enabled", "a boolean", other)),
            },
            "markdown" => match v {
                Value::String(s) => {
                    if s.chars().count() > MAX_NOTICE_CHARS {
                        return Err(field_error(
                            "notice.markdown",
                            format!("is longer than {MAX_NOTICE_CHARS} characters"),
                        ));
                    }
                    next.markdown = s.trim().to_owned();
                }
                Value::Null => next.markdown.clear(),
                other => return Err(wrong_type("notice.markdown", "a string", other)),
            },
            other => {
                return Err(field_error(
                    &format!("notice.{other}"),
                    "is not a notice field (enabled, markdown)",
                ));
            }
        }
    }
    if next.enabled && next.markdown.is_empty() {
        return Err(field_error(
            "notice.markdown",
            "must be set when the notice is enabled",
        ));
    }
    Ok(next)
}

/// A whole number in `min..=max` for `field`; `null` gives `None` (back to the configured
/// value).
fn bounded(field: &str, value: &Value, min: u64, max: u64) -> Result<Option<u64>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_u64() {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(field_error(
                field,
                format!("must be a whole number from {min} to {max}"),
            )),
        },
        other => Err(wrong_type(field, "a whole number or null", other)),
    }
}

fn retention(current: Retention, value: &Value) -> Result<Retention, FieldError> {
    let Value::Object(fields) = value else {
        return Err(wrong_type(
            "retention",
            "an object {\"requestLogSize\"?, \"retentionDays\"?, \"dailyRetentionDays\"?}",
            value,
        ));
    };
    let days = |field: &str, v: &Value, max: u32| {
        bounded(field, v, 1, u64::from(max)).map(|d| d.map(|d| u32::try_from(d).unwrap_or(max)))
    };
    let mut next = current;
    for (field, v) in fields {
        match field.as_str() {
            "requestLogSize" => {
                next.request_log_size =
                    bounded("retention.requestLogSize", v, 0, MAX_REQUEST_LOG_SIZE)?;
            }
            "retentionDays" => {
                next.retention_days = days("retention.retentionDays", v, MAX_RETENTION_DAYS)?;
            }
            "dailyRetentionDays" => {
                next.daily_retention_days =
                    days("retention.dailyRetentionDays", v, MAX_DAILY_RETENTION_DAYS)?;
            }
            other => {
                return Err(field_error(
                    &format!("retention.{other}"),
                    "is not a retention field (requestLogSize, retentionDays, dailyRetentionDays)",
                ));
            }
        }
    }
    Ok(next)
}

fn body_capture(
    current: BodyCaptureSetting,
    value: &Value,
) -> Result<BodyCaptureSetting, FieldError> {
    let Value::Object(fields) = value else {
        return Err(wrong_type(
            "bodyCapture",
            "an object {\"enabled\"?, \"maxBytes\"?}",
            value,
        ));
    };
    let mut next = current;
    for (field, v) in fields {
        match field.as_str() {
            "enabled" => match v {
                Value::Bool(b) => next.enabled = Some(*b),
                Value::Null => next.enabled = None,
                other => {
                    return Err(wrong_type(
                        "bodyCapture.enabled",
                        "a boolean or null",
                        other,
                    ));
                }
            },
            "maxBytes" => {
                next.max_bytes = bounded(
                    "bodyCapture.maxBytes",
                    v,
                    MIN_CAPTURE_MAX_BYTES as u64,
                    MAX_CAPTURE_MAX_BYTES as u64,
                )?;
            }
            other => {
                return Err(field_error(
                    &format!("bodyCapture.{other}"),
                    "is not a body capture field (enabled, maxBytes)",
                ));
            }
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(s: &Settings, v: Value) -> Result<Settings, FieldError> {
        let Value::Object(map) = v else { panic!() };
        s.patched(
            &map,
            |m| {
                if m.starts_with("claude") {
                    Ok(())
                } else {
                    Err(format!("`{m}` is not a known model"))
                }
            },
            &PoolConfig::default(),
        )
    }

    #[test]
    fn partial_updates_keep_the_rest() {
        let s = Settings::default();
        let s = patch(&s, json!({"thinkingFormat": "think"})).unwrap();
        assert_eq!(s.thinking_format, ThinkingFormat::ThinkTags);
        let s = patch(&s, json!({"notice": {"enabled": true, "markdown": " hi "}})).unwrap();
        assert_eq!(s.notice.active(), Some("hi"));
        let s = patch(&s, json!({"notice": {"enabled": false}})).unwrap();
        assert_eq!(s.notice.markdown, "hi");
        assert_eq!(s.notice.active(), None);
        assert_eq!(s.thinking_format, ThinkingFormat::ThinkTags);
        let s = patch(&s, json!({"defaultModel": "claude-sonnet-4.5"})).unwrap();
        assert_eq!(s.default_model.as_deref(), Some("claude-sonnet-4.5"));
        let s = patch(&s, json!({"defaultModel": null})).unwrap();
        assert_eq!(s.default_model, None);
        let s = patch(
            &s,
            json!({"retention": {"requestLogSize": 0, "retentionDays": 7}}),
        )
        .unwrap();
        assert_eq!(s.retention.request_log_size, Some(0));
        let s = patch(&s, json!({"retention": {"retentionDays": null}})).unwrap();
        assert_eq!(s.retention.retention_days, None);
        assert_eq!(s.retention.request_log_size, Some(0));
        assert_eq!(s.thinking_format, ThinkingFormat::ThinkTags);
        let s = patch(&s, json!({"bodyCapture": {"enabled": true}})).unwrap();
        assert_eq!(s.body_capture.enabled, Some(true));
        let s = patch(&s, json!({"bodyCapture": {"maxBytes": 1024}})).unwrap();
        assert_eq!(
            s.body_capture,
            BodyCaptureSetting {
                enabled: Some(true),
                max_bytes: Some(1024)
            }
        );
        let s = patch(&s, json!({"bodyCapture": {"enabled": null}})).unwrap();
        assert_eq!(s.body_capture.enabled, None);
        let s = patch(&s, json!({"pool": {"maxConcurrency": 3}})).unwrap();
        assert_eq!(s.pool["maxConcurrency"], 3);
        assert_eq!(s.retention.request_log_size, Some(0));
    }

    #[test]
    fn errors_name_the_field() {
        let s = Settings::default();
        let field = |v: Value| patch(&s, v).unwrap_err().field;
        assert_eq!(field(json!({"thinkingFormat": "tags"})), "thinkingFormat");
        assert_eq!(field(json!({"thinkingFormat": 3})), "thinkingFormat");
        assert_eq!(field(json!({"defaultModel": "gpt-9"})), "defaultModel");
        assert_eq!(field(json!({"defaultModel": true})), "defaultModel");
        assert_eq!(field(json!({"notice": "on"})), "notice");
        assert_eq!(
            field(json!({"notice": {"enabled": "yes"}})),
            "notice.enabled"
        );
        assert_eq!(
            field(json!({"notice": {"enabled": true}})),
            "notice.markdown"
        );
        assert_eq!(field(json!({"notice": {"colour": "red"}})), "notice.colour");
        assert_eq!(
            field(json!({"notice": {"markdown": "x".repeat(MAX_NOTICE_CHARS + 1)}})),
            "notice.markdown"
        );
        assert_eq!(field(json!({"pool": []})), "pool");
        assert_eq!(
            field(json!({"pool": {"circuitFailures": 0}})),
            "pool.circuitFailures"
        );
        assert_eq!(field(json!({"bodyCapture": true})), "bodyCapture");
        assert_eq!(
            field(json!({"bodyCapture": {"enabled": "yes"}})),
            "bodyCapture.enabled"
        );
        assert_eq!(
            field(json!({"bodyCapture": {"maxBytes": 10}})),
            "bodyCapture.maxBytes"
        );
        assert_eq!(
            field(json!({"bodyCapture": {"maxBytes": 16 * 1024 * 1024 + 1}})),
            "bodyCapture.maxBytes"
        );
        assert_eq!(
            field(json!({"bodyCapture": {"colour": 1}})),
            "bodyCapture.colour"
        );
        assert_eq!(field(json!({"retention": 5})), "retention");
        assert_eq!(
            field(json!({"retention": {"requestLogSize": -1}})),
            "retention.requestLogSize"
        );
        assert_eq!(
            field(json!({"retention": {"retentionDays": 0}})),
            "retention.retentionDays"
        );
        assert_eq!(
            field(json!({"retention": {"dailyRetentionDays": "a year"}})),
            "retention.dailyRetentionDays"
        );
        assert_eq!(
            field(json!({"retention": {"retentionDays": 1.5}})),
            "retention.retentionDays"
        );
        assert_eq!(field(json!({"retention": {"weeks": 1}})), "retention.weeks");
        assert_eq!(field(json!({"bogus": 1})), "bogus");
        let e = patch(&s, json!({"logLevel": "debug"})).unwrap_err();
        assert!(e.to_string().contains("/api/settings/log-level"), "{e}");
    }

    #[test]
    fn stored_rows_tolerate_missing_fields() {
        let s: Settings = serde_json::from_value(json!({"thinkingFormat": "thinking"})).unwrap();
        assert_eq!(s.thinking_format, ThinkingFormat::ThinkingTags);
        assert_eq!(s.notice, Notice::default());
    }
}
