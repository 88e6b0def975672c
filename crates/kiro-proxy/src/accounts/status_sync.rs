//! The pool's side of the store's `status` column.
//!
//! The pool writes an account's health there (`active`, `cooldown`, `exhausted`,
//! `circuit_open`, `needs_login`, with a reason) whenever it changes, so operators see it and a
//! `needs_login` survives a restart. The operator's `POST /api/accounts/{id}/reset` (and an
//! import or login with new credentials) sets it back to `active` and announces an accounts
//! change; on reload, an `active` row for an account whose last written status was something
//! else means "an operator reset it": the pool then forgets its cooldown, exhaustion, login
//! problem and circuit.
//!
//! Writes happen on a background task ([`Pool::pending_statuses`] / [`Pool::note_persisted`]),
//! never on the request path. `persisted` is updated only once a write landed, so a reload that
//! races a pending write sees no spurious reset.

use std::time::Instant;

use super::pool::{Health, Pool, Slot};

/// The status of a healthy account (the store's default).
pub const STATUS_ACTIVE: &str = crate::store::DEFAULT_ACCOUNT_STATUS;
/// A status restored at start: the account stays out until an operator acts.
pub const STATUS_NEEDS_LOGIN: &str = "needs_login";

/// A status the store should hold for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub account_id: String,
    pub status: &'static str,
    pub reason: Option<String>,
}

fn desired(slot: &Slot, now: Instant) -> (&'static str, Option<String>) {
    match &slot.health {
        Some(Health::NeedsLogin { reason }) => (STATUS_NEEDS_LOGIN, Some(reason.clone())),
        Some(Health::Exhausted { reason, .. }) if slot.exhausted_until(now).is_some() => {
            ("exhausted", Some(reason.clone()))
        }
        Some(Health::Cooldown { until, reason }) if *until > now => {
            ("cooldown", Some(reason.clone()))
        }
        _ if slot.circuit.open_until(now).is_some() => ("circuit_open", None),
        _ => (STATUS_ACTIVE, None),
    }
}

impl Pool {
    /// Accounts whose stored status differs from their health now.
    pub fn pending_statuses(&self) -> Vec<StatusChange> {
        let now = Instant::now();
        let state = self.lock();
        let mut out: Vec<StatusChange> = state
            .accounts
            .iter()
            .filter_map(|(id, slot)| {
                let (status, reason) = desired(slot, now);
                // Never written nor read: a new account, whose row says `active` already.
                let persisted = slot.persisted.as_deref().unwrap_or(STATUS_ACTIVE);
                (persisted != status).then(|| StatusChange {
                    account_id: id.clone(),
                    status,
                    reason,
                })
            })
            .collect();
        out.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        out
    }

    /// A status write landed.
    pub fn note_persisted(&self, id: &str, status: &str) {
        let mut state = self.lock();
        if let Some(slot) = state.accounts.get_mut(id) {
            slot.persisted = Some(status.to_owned());
        }
    }

    /// Resolves when some account's health changed (its status may need writing).
    pub async fn status_changed(&self) {
        self.shared.status_wake.notified().await;
    }

    /// Aligns the pool with an account's store row (at start and on every reload): weight, a
    /// restored `needs_login`, and an operator's reset. Returns true when the pool reset the
    /// account's health because its row went back to `active`.
    pub fn sync_record(
        &self,
        id: &str,
        stored_status: &str,
        stored_reason: Option<&str>,
        weight: u32,
    ) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let slot = state.slot(id, now);
        slot.weight = weight;
        let reset = match slot.persisted.as_deref() {
            None => {
                if stored_status == STATUS_NEEDS_LOGIN {
                    slot.health = Some(Health::NeedsLogin {
                        reason: stored_reason.unwrap_or(STATUS_NEEDS_LOGIN).to_owned(),
                    });
                }
                false
            }
            Some(previous) => stored_status == STATUS_ACTIVE && previous != STATUS_ACTIVE,
        };
        slot.persisted = Some(stored_status.to_owned());
        if reset {
            slot.health = None;
            slot.circuit.reset();
            slot.quota.due_by(now);
        }
        drop(state);
        if reset {
            tracing::info!(account = id, "account reset by an operator");
            self.shared.quota_wake.notify_one();
            self.shared.status_wake.notify_one();
        }
        reset
    }
}
