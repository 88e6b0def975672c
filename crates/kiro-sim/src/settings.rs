//! Run-time settings (`GET/PATCH /_sim/settings`, CLI flags): pacing, metering, validation
//! ceilings, device-login timing, request-log size.

use serde::{Deserialize, Serialize};

/// Response timing. All zero (the default) means "answer at full speed": the whole stream is
/// then written as one body chunk.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pace {
    /// Delay before the response headers.
    pub headers_ms: u64,
    /// Delay between the headers and the first frame.
    pub first_event_ms: u64,
    /// Delay between frames.
    pub frame_interval_ms: u64,
    /// When set, text/thinking/tool frames are spaced so output flows at this many tokens per
    /// second (about four characters per token); replaces `frame_interval_ms` for those frames.
    pub tokens_per_second: Option<f64>,
}

impl Pace {
    /// True when nothing needs a timer.
    pub fn is_instant(&self) -> bool {
        self.headers_ms == 0
            && self.first_event_ms == 0
            && self.frame_interval_ms == 0
            && self.tokens_per_second.is_none()
    }
}

/// A partial [`Pace`]: only the given fields replace the base.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaceOverride {
    pub headers_ms: Option<u64>,
    pub first_event_ms: Option<u64>,
    pub frame_interval_ms: Option<u64>,
    pub tokens_per_second: Option<f64>,
}

impl PaceOverride {
    pub fn apply(&self, base: Pace) -> Pace {
        Pace {
            headers_ms: self.headers_ms.unwrap_or(base.headers_ms),
            first_event_ms: self.first_event_ms.unwrap_or(base.first_event_ms),
            frame_interval_ms: self.frame_interval_ms.unwrap_or(base.frame_interval_ms),
            tokens_per_second: self.tokens_per_second.or(base.tokens_per_second),
        }
    }
}

/// Everything a test may change while the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub pace: Pace,
    /// Credits charged per chat before the model multiplier (`usage = multiplier × base`).
    pub base_credit: f64,
    /// V10 byte ceiling of the request body.
    pub max_body_bytes: usize,
    /// Token estimate above which chat answers `CONTENT_LENGTH_EXCEEDS_THRESHOLD`; `None` means
    /// the model's context window.
    pub context_token_ceiling: Option<u64>,
    /// V5 tool-name limit.
    pub max_tool_name_len: usize,
    /// V6 tool-description limit (characters).
    pub max_tool_description_chars: usize,
    /// Characters per text frame of the default answer; 0 = varied sizes (3–12), like the
    /// service.
    pub chunk_chars: usize,
    /// `expiresIn` of tokens issued to new accounts.
    pub expires_in: u64,
    /// `authorization_pending` answers before a device login succeeds.
    pub device_pending_polls: u32,
    /// `interval` of device authorizations (seconds; 0 disables `slow_down`).
    pub device_interval: u64,
    /// `expiresIn` of device authorizations (seconds).
    pub device_expires_in: u64,
    /// Device logins succeed by themselves after the pending polls; when false they wait for
    /// `POST /_sim/device/{user_code}/approve`.
    pub device_auto_approve: bool,
    /// Honour `[[sim:…]]` markers in the last user message.
    pub triggers: bool,
    /// Keep a log of requests (and of the streams served).
    pub record_requests: bool,
    /// Entries kept in the request log (oldest dropped first).
    pub request_log_capacity: usize,
}

impl Default for Settings {
    fn default() -> Self {
        let v = crate::validate::ValidationConfig::default();
        Settings {
            pace: Pace::default(),
            base_credit: 0.01,
            max_body_bytes: v.max_body_bytes,
            context_token_ceiling: v.context_token_ceiling,
            max_tool_name_len: v.max_tool_name_len,
            max_tool_description_chars: v.max_tool_description_chars,
            chunk_chars: 0,
            expires_in: 3600,
            device_pending_polls: 2,
            device_interval: 1,
            device_expires_in: 600,
            device_auto_approve: true,
            triggers: true,
            record_requests: true,
            request_log_capacity: 1000,
        }
    }
}

impl Settings {
    /// The validation rules' configuration.
    pub fn validation(&self) -> crate::validate::ValidationConfig {
        crate::validate::ValidationConfig {
            max_body_bytes: self.max_body_bytes,
            context_token_ceiling: self.context_token_ceiling,
            max_tool_name_len: self.max_tool_name_len,
            max_tool_description_chars: self.max_tool_description_chars,
        }
    }

    /// Applies a JSON merge patch (only the keys present change).
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Settings, serde_json::Error> {
        let mut current = serde_json::to_value(self)?;
        merge(&mut current, patch);
        serde_json::from_value(current)
    }
}

/// RFC 7386 merge: objects merge key by key, anything else replaces.
pub fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(slot) if v.is_object() && slot.is_object() => merge(slot, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
