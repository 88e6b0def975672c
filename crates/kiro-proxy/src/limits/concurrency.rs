//! Requests in progress, in total and per key, with optional caps.
//!
//! A [`Permit`] is taken when a request is admitted and released when it is dropped, which the
//! middleware arranges to happen when the response body ends (or the client goes away), so a
//! streamed reply holds its slot for as long as it streams. Plain counters rather than
//! semaphores: the caps change at runtime and a full cap answers at once, nobody queues.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::shards::Sharded;

/// The counters.
#[derive(Debug, Default)]
pub struct InFlight {
    total: AtomicU64,
    per_key: Sharded<String, u64>,
}

/// Which cap was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The key's own cap (`perKeyConcurrency`).
    Key(u64),
    /// The whole proxy's cap (`maxConcurrency`).
    Global(u64),
}

/// One request's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    counters: Arc<InFlight>,
    key: String,
}

impl InFlight {
    /// Takes a slot for a request of `key`, unless the key has `per_key` requests in progress
    /// or the proxy `global` ones.
    pub fn acquire(
        self: &Arc<Self>,
        key: impl Into<String>,
        per_key: Option<u64>,
        global: Option<u64>,
    ) -> Result<Permit, Full> {
        // Taken by value: the permit keeps the caller's `String` instead of a copy of it.
        let key = key.into();
        let admitted = self.per_key.with(key.as_str(), |n| {
            if per_key.is_some_and(|cap| *n >= cap) {
                false
            } else {
                *n += 1;
                true
            }
        });
        if !admitted {
            return Err(Full::Key(per_key.unwrap_or(0)));
        }
        // From here on, dropping the permit undoes both counts.
        let permit = Permit {
            counters: self.clone(),
            key,
        };
        let before = self.total.fetch_add(1, Ordering::AcqRel);
        if let Some(cap) = global.filter(|cap| before >= *cap) {
            drop(permit);
            return Err(Full::Global(cap));
        }
        Ok(permit)
    }

    /// Requests in progress.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Acquire)
    }

    /// Requests of `key` in progress.
    pub fn of_key(&self, key: &str) -> u64 {
        self.per_key.with_existing(key, |n| *n).unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.counters.total.fetch_sub(1, Ordering::AcqRel);
        self.counters
            .per_key
            .update_or_remove(self.key.as_str(), |n| {
                *n = n.saturating_sub(1);
                *n == 0
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let f = Arc::new(InFlight::default());
        let a1 = f.acquire("a", Some(2), Some(3)).unwrap();
        let a2 = f.acquire("a", Some(2), Some(3)).unwrap();
        assert_eq!(f.acquire("a", Some(2), Some(3)).unwrap_err(), Full::Key(2));
        let b1 = f.acquire("b", Some(2), Some(3)).unwrap();
        assert_eq!(
            f.acquire("b", Some(2), Some(3)).unwrap_err(),
            Full::Global(3)
        );
        // The refused attempt left nothing behind.
        assert_eq!((f.total(), f.of_key("a"), f.of_key("b")), (3, 2, 1));
        drop(a1);
        assert_eq!(f.acquire("b", None, None).map(|_| ()), Ok(()));
        drop((a2, b1));
        assert_eq!((f.total(), f.of_key("a"), f.of_key("b")), (0, 0, 0));
        assert!(f.per_key.is_empty());
    }
}
