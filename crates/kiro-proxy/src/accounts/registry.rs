//! The in-memory set of pooled accounts the request path reads.
//!
//! A plain map behind a `std` read-write lock: every access is a short, synchronous critical
//! section, never held across an `.await`. Durable storage is the store's job; this is what the
//! process currently believes.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::model::{Account, Credentials};

/// The accounts of the pool, by id.
#[derive(Debug, Default)]
pub struct AccountRegistry {
    accounts: RwLock<HashMap<String, Account>>,
}

impl AccountRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the whole set (startup, reload).
    pub fn load(&self, accounts: impl IntoIterator<Item = Account>) {
        let map = accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        *self.write() = map;
    }

    /// Adds or replaces one account; returns the previous value.
    pub fn insert(&self, account: Account) -> Option<Account> {
        self.write().insert(account.id.clone(), account)
    }

    pub fn remove(&self, id: &str) -> Option<Account> {
        self.write().remove(id)
    }

    /// A copy of one account.
    pub fn get(&self, id: &str) -> Option<Account> {
        self.read().get(id).cloned()
    }

    /// Reads one account in place (no clone of the whole record).
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&Account) -> R) -> Option<R> {
        self.read().get(id).map(f)
    }

    /// Changes one account in place; `None` when it is not there.
    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut Account) -> R) -> Option<R> {
        self.write().get_mut(id).map(f)
    }

    /// Replaces an account's credentials (and, when given, its profile ARN).
    pub fn set_credentials(
        &self,
        id: &str,
        credentials: Credentials,
        profile_arn: Option<String>,
    ) -> bool {
        self.update(id, |a| {
            a.credentials = credentials;
            if profile_arn.is_some() {
                a.profile_arn = profile_arn;
            }
        })
        .is_some()
    }

    /// A copy of every account, in no particular order.
    pub fn snapshot(&self) -> Vec<Account> {
        self.read().values().cloned().collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // A panic while holding the lock leaves whole records behind (every write replaces or
    // assigns), so the data is still usable: keep serving rather than poison the pool.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Account>> {
        self.accounts.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Account>> {
        self.accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AuthMethod;

    fn account(id: &str) -> Account {
        Account {
            id: id.to_owned(),
            auth_method: AuthMethod::Social,
            label: None,
            enabled: true,
            api_region: "us-east-1".to_owned(),
            auth_region: "us-east-1".to_owned(),
            profile_arn: None,
            start_url: None,
            machine_id: "00".repeat(32),
            proxy: None,
            credentials: Credentials::default(),
        }
    }

    #[test]
    fn insert_get_update_remove() {
        let r = AccountRegistry::new();
        r.load([account("a"), account("b")]);
        assert_eq!(r.len(), 2);
        assert!(r.insert(account("a")).is_some());
        assert!(r.set_credentials(
            "a",
            Credentials {
                expires_at: Some(5),
                ..Credentials::default()
            },
            Some("arn:x".to_owned())
        ));
        assert_eq!(r.with("a", |a| a.credentials.expires_at), Some(Some(5)));
        assert_eq!(
            r.get("a").and_then(|a| a.profile_arn),
            Some("arn:x".to_owned())
        );
        assert!(r.remove("b").is_some());
        assert!(!r.set_credentials("b", Credentials::default(), None));
        assert_eq!(r.ids(), vec!["a".to_owned()]);
    }
}
