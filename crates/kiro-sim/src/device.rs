//! OIDC client registrations and device-code login sessions (spec §3.2–3.4), as data plus the
//! pure poll rule: pending for N polls, `slow_down` when polled faster than `interval`,
//! `expired_token` after `expiresIn`, `access_denied` when denied.

use serde::Serialize;

use crate::errors::ErrorKind;
use crate::models::Tier;

/// Registrations live about 90 days (spec §2.2).
pub const REGISTRATION_LIFETIME_SECS: i64 = 90 * 86_400;
/// What `slow_down` adds to a session's interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_SECS: u64 = 5;

/// One `POST /client/register` result.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Where a device login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    /// Tokens were issued; the code cannot be used again.
    Consumed,
}

/// One `POST /device_authorization` session.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceSession {
    #[serde(skip)]
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    pub start_url: String,
    pub expires_at_ms: i64,
    pub interval_secs: u64,
    /// `authorization_pending` answers left before auto-approval.
    pub pending_left: u32,
    /// When false, only an explicit approval ends the pending state.
    pub auto_approve: bool,
    pub last_poll_ms: Option<i64>,
    pub polls: u32,
    pub state: DeviceState,
    /// Account to update on success (else one is created); set by approval or by success.
    pub account: Option<String>,
    /// Tier of an account created by this login.
    pub tier: Option<Tier>,
}

/// What a device-code poll gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    Error(ErrorKind),
    /// Issue tokens now.
    Success,
}

impl DeviceSession {
    /// Applies one poll at `now_ms` and says what to answer. Updates the session.
    pub fn poll(&mut self, now_ms: i64) -> PollOutcome {
        self.polls += 1;
        if self.state == DeviceState::Consumed {
            return PollOutcome::Error(ErrorKind::InvalidGrant);
        }
        if now_ms >= self.expires_at_ms {
            return PollOutcome::Error(ErrorKind::ExpiredToken);
        }
        if self.state == DeviceState::Denied {
            return PollOutcome::Error(ErrorKind::AccessDenied);
        }
        let too_fast = self.interval_secs > 0
            && self.last_poll_ms.is_some_and(|last| {
                now_ms.saturating_sub(last) < (self.interval_secs as i64).saturating_mul(1000)
            });
        self.last_poll_ms = Some(now_ms);
        if too_fast {
            self.interval_secs += SLOW_DOWN_STEP_SECS;
            return PollOutcome::Error(ErrorKind::SlowDown);
        }
        if self.state == DeviceState::Approved {
            return PollOutcome::Success;
        }
        if self.pending_left > 0 {
            self.pending_left -= 1;
            return PollOutcome::Error(ErrorKind::AuthorizationPending);
        }
        if self.auto_approve {
            PollOutcome::Success
        } else {
            PollOutcome::Error(ErrorKind::AuthorizationPending)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> DeviceSession {
        DeviceSession {
            device_code: "d".into(),
            user_code: "ABCD-EFGH".into(),
            client_id: "c".into(),
            start_url: "https://view.awsapps.com/start".into(),
            expires_at_ms: 600_000,
            interval_secs: 1,
            pending_left: 2,
            auto_approve: true,
            last_poll_ms: None,
            polls: 0,
            state: DeviceState::Pending,
            account: None,
            tier: None,
        }
    }

    #[test]
    fn pending_then_success() {
        let mut s = session();
        assert_eq!(
            s.poll(0),
            PollOutcome::Error(ErrorKind::AuthorizationPending)
        );
        assert_eq!(
            s.poll(1000),
            PollOutcome::Error(ErrorKind::AuthorizationPending)
        );
        assert_eq!(s.poll(2000), PollOutcome::Success);
    }

    #[test]
    fn slow_down_expired_denied() {
        let mut s = session();
        s.poll(0);
        assert_eq!(s.poll(500), PollOutcome::Error(ErrorKind::SlowDown));
        assert_eq!(s.interval_secs, 6);
        assert_eq!(s.poll(600_000), PollOutcome::Error(ErrorKind::ExpiredToken));
        let mut d = session();
        d.state = DeviceState::Denied;
        assert_eq!(d.poll(0), PollOutcome::Error(ErrorKind::AccessDenied));
    }
}
