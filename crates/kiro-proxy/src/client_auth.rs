//! Who may use the proxy's client API.
//!
//! A request carries a key as `Authorization: Bearer <key>` or `x-api-key: <key>` (both dialects
//! accept both). Valid keys are those of `KIRO_API_KEYS` and the keys created with
//! `POST /api/keys`. Every key is compared as a SHA-256 digest in constant time, against every
//! known digest, so neither timing nor early exit reveals anything.
//!
//! When no key is configured at all, only loopback clients are served: a fresh install is usable
//! from the same machine and closed to the network. A request carrying proxy forwarding headers
//! (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) is not treated as loopback even from 127.0.0.1,
//! because a local reverse proxy would otherwise open the service to everyone behind it.
//!
//! Stored keys are cached in memory with their limits: [`ClientAuth::reload`] is called after
//! every create, change or delete (the admin API does it), so the request path never waits on
//! the database. A disabled or expired stored key is refused with a message saying so; its
//! other limits (models, rates, budget) are enforced by `crate::limits`, which reads them from
//! the [`KeyPolicy`] that [`ClientAuth::admit`] hands back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use http::HeaderMap;
use kiro_wire::types::Secret;

use crate::crypto::{ct_eq, hash_secret_bytes};
use crate::store::{KeySettings, Store, StoreError, unix_now};

/// How often at most `last_used_at` of one key is written.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The caller a request was accepted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdentity {
    /// A key from `KIRO_API_KEYS` (index in the configured list).
    ConfiguredKey { index: usize },
    /// A key created with the admin API.
    StoredKey { id: String, name: String },
    /// No key configured and the client is on this machine.
    Loopback,
}

/// Why a request was refused; every case is a 401 in the client's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("{}", self.message())]
    MissingKey,
    #[error("{}", self.message())]
    InvalidKey,
    /// No key exists yet and the client is not on loopback.
    #[error("{}", self.message())]
    NoKeysConfigured,
    /// A stored key the operator disabled.
    #[error("{}", self.message())]
    KeyDisabled,
    /// A stored key past its expiry.
    #[error("{}", self.message())]
    KeyExpired,
}

impl AuthFailure {
    /// A message for the client.
    pub fn message(&self) -> &'static str {
        match self {
            Self::MissingKey => {
                "Missing API key: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`."
            }
            Self::InvalidKey => "Invalid API key.",
            Self::NoKeysConfigured => {
                "No API key is configured on this kiro-proxy, so only clients on the same machine \
                 are served. Set KIRO_API_KEYS=<key>[,<key>…] or create a key with POST /api/keys \
                 (admin token required), then send it as `Authorization: Bearer <key>` or \
                 `x-api-key: <key>`."
            }
            Self::KeyDisabled => {
                "This API key has been disabled by the operator of this kiro-proxy; ask them to \
                 enable it or for a new key."
            }
            Self::KeyExpired => {
                "This API key has expired; ask the operator of this kiro-proxy for a new key."
            }
        }
    }
}

/// A stored key's identity and limits, as cached for the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    pub id: String,
    pub name: String,
    /// The non-secret first characters of the key.
    pub prefix: String,
    pub settings: KeySettings,
}

/// A request accepted by [`ClientAuth::admit`]: who it is, and the limits of a stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub identity: ClientIdentity,
    /// `Some` for a stored key (configured keys and loopback have no per-key limits).
    pub policy: Option<Arc<KeyPolicy>>,
}

#[derive(Debug)]
struct StoredKey {
    hash: [u8; 32],
    enabled: bool,
    policy: Arc<KeyPolicy>,
}

#[derive(Debug)]
struct Inner {
    configured: Vec<[u8; 32]>,
    stored: RwLock<Vec<StoredKey>>,
    store: Store,
    last_touch: Mutex<HashMap<String, Instant>>,
}

/// Client key check; cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    inner: Arc<Inner>,
}

impl ClientAuth {
    /// Builds the check from the configured keys and the keys in `store`.
    pub async fn new(configured: &[Secret], store: Store) -> Result<Self, StoreError> {
        let auth = Self {
            inner: Arc::new(Inner {
                configured: configured
                    .iter()
                    .map(|k| hash_secret_bytes(k.expose()))
                    .collect(),
                stored: RwLock::new(Vec::new()),
                store,
                last_touch: Mutex::new(HashMap::new()),
            }),
        };
        auth.reload().await?;
        Ok(auth)
    }

    /// Re-reads the stored keys (after a key was created, changed or deleted).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let mut keys = Vec::new();
        for record in self.inner.store.list_keys().await? {
            let Some(hash) = decode_hash(&record.key_hash) else {
                tracing::warn!(key_id = %record.id, "stored API key hash is malformed; ignoring it");
                continue;
            };
            keys.push(StoredKey {
                hash,
                enabled: record.enabled,
                policy: Arc::new(KeyPolicy {
                    id: record.id,
                    name: record.name,
                    prefix: record.prefix,
                    settings: record.settings,
                }),
            });
        }
        *self
            .inner
            .stored
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
        Ok(())
    }

    /// The cached limits of stored key `id`.
    pub fn policy(&self, id: &str) -> Option<Arc<KeyPolicy>> {
        self.read_stored()
            .iter()
            .find(|k| k.policy.id == id)
            .map(|k| k.policy.clone())
    }

    /// How many keys come from `KIRO_API_KEYS` (they are known by their index: `config:N`).
    pub fn configured_count(&self) -> usize {
        self.inner.configured.len()
    }

    /// Whether any key (configured or stored, enabled or not) exists.
    pub fn has_keys(&self) -> bool {
        !self.inner.configured.is_empty() || !self.read_stored().is_empty()
    }

    /// Decides whether a request with `headers` from `peer` may use the proxy.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<ClientIdentity, AuthFailure> {
        self.admit(headers, peer).map(|a| a.identity)
    }

    /// [`ClientAuth::authenticate`], also handing back a stored key's limits.
    pub fn admit(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Admission, AuthFailure> {
        let presented = presented_keys(headers);
        if !self.has_keys() {
            return if peer.is_some_and(is_loopback) && !is_forwarded(headers) {
                Ok(Admission {
                    identity: ClientIdentity::Loopback,
                    policy: None,
                })
            } else {
                Err(AuthFailure::NoKeysConfigured)
            };
        }
        if presented.is_empty() {
            return Err(AuthFailure::MissingKey);
        }
        // A refused stored key is reported only when no other presented key is good.
        let mut refused = None;
        for key in presented {
            match self.match_key(&hash_secret_bytes(key)) {
                Some(Ok(admission)) => {
                    if let Some(policy) = &admission.policy {
                        self.touch(&policy.id);
                    }
                    return Ok(admission);
                }
                Some(Err(failure)) => refused = refused.or(Some(failure)),
                None => {}
            }
        }
        Err(refused.unwrap_or(AuthFailure::InvalidKey))
    }

    /// Compares `hash` with every known digest, without early exit; a stored key that matches
    /// but is disabled or expired is an `Err`.
    fn match_key(&self, hash: &[u8; 32]) -> Option<Result<Admission, AuthFailure>> {
        let mut found = None;
        for (index, known) in self.inner.configured.iter().enumerate() {
            if ct_eq(known, hash) && found.is_none() {
                found = Some(Ok(Admission {
                    identity: ClientIdentity::ConfiguredKey { index },
                    policy: None,
                }));
            }
        }
        for key in self.read_stored().iter() {
            if ct_eq(&key.hash, hash) && found.is_none() {
                found = Some(stored_admission(key, unix_now()));
            }
        }
        found
    }

    fn read_stored(&self) -> std::sync::RwLockReadGuard<'_, Vec<StoredKey>> {
        self.inner
            .stored
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `last_used_at` in the background, at most once per [`TOUCH_INTERVAL`] per key.
    fn touch(&self, id: &str) {
        let now = Instant::now();
        {
            let mut last = self
                .inner
                .last_touch
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last
                .get(id)
                .is_some_and(|t| now.duration_since(*t) < TOUCH_INTERVAL)
            {
                return;
            }
            last.insert(id.to_owned(), now);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.inner.store.clone();
        let id = id.to_owned();
        runtime.spawn(async move {
            if let Err(e) = store.touch_key(&id, unix_now()).await {
                tracing::debug!(key_id = %id, error = %e, "cannot record API key use");
            }
        });
    }
}

fn stored_admission(key: &StoredKey, now: i64) -> Result<Admission, AuthFailure> {
    if !key.enabled {
        return Err(AuthFailure::KeyDisabled);
    }
    if key.policy.settings.expires_at.is_some_and(|at| at <= now) {
        return Err(AuthFailure::KeyExpired);
    }
    Ok(Admission {
        identity: ClientIdentity::StoredKey {
            id: key.policy.id.clone(),
            name: key.policy.name.clone(),
        },
        policy: Some(key.policy.clone()),
    })
}

/// The keys a request presents: a Bearer token and/or `x-api-key`.
fn presented_keys(headers: &HeaderMap) -> Vec<&str> {
    let mut keys = Vec::with_capacity(2);
    for value in headers.get_all(http::header::AUTHORIZATION) {
        if let Some(token) = value.to_str().ok().and_then(bearer_token) {
            keys.push(token);
        }
    }
    for value in headers.get_all("x-api-key") {
        if let Ok(key) = value.to_str() {
            let key = key.trim();
            if !key.is_empty() {
                keys.push(key);
            }
        }
    }
    keys
}

/// The token of `Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

fn is_forwarded(headers: &HeaderMap) -> bool {
    ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h))
}

fn decode_hash(hex_text: &str) -> Option<[u8; 32]> {
    hex::decode(hex_text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn loopback_includes_mapped_v4() {
        assert!(is_loopback("127.0.0.1".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("10.0.0.1".parse().unwrap()));
    }
}
