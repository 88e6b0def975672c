//! A map split into independently locked shards, for per-key and per-IP counters.
//!
//! Each operation locks one shard for a few hundred nanoseconds (no `.await`, no I/O under the
//! lock), so requests of different keys or addresses rarely meet on the same lock.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 32;

#[derive(Debug)]
pub struct Sharded<K, V> {
    shards: Box<[Mutex<HashMap<K, V>>]>,
    hasher: RandomState,
}

impl<K: Eq + Hash, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<K: Eq + Hash, V> Sharded<K, V> {
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, V>> {
        let n = self.shards.len();
        let index = usize::try_from(self.hasher.hash_one(key) % n as u64).unwrap_or(0);
        // A panic while a shard is locked leaves plain counters behind: still usable.
        match self.shards[index].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `f` on the entry of `key`, created with `V::default()` if absent.
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        V: Default,
    {
        let mut shard = self.shard(key);
        if let Some(v) = shard.get_mut(key) {
            return f(v);
        }
        let mut v = V::default();
        let r = f(&mut v);
        shard.insert(key.to_owned(), v);
        r
    }

    /// Runs `f` on the entry of `key` if there is one.
    pub fn with_existing<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shard(key).get_mut(key).map(f)
    }

    /// Runs `f` on the entry of `key` (if any) and removes it when `f` says so.
    pub fn update_or_remove<Q>(&self, key: &Q, f: impl FnOnce(&mut V) -> bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut shard = self.shard(key);
        if shard.get_mut(key).is_some_and(f) {
            shard.remove(key);
        }
    }

    /// Keeps only the entries for which `keep` is true, one shard at a time.
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for shard in self.shards.iter() {
            let mut shard = match shard.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            shard.retain(|k, v| keep(k, v));
        }
    }

    /// Number of entries.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match s.lock() {
                Ok(guard) => guard.len(),
                Err(poisoned) => poisoned.into_inner().len(),
            })
            .sum()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_created_updated_and_removed() {
        let m: Sharded<String, u32> = Sharded::default();
        assert_eq!(
            m.with("a", |v| {
                *v += 1;
                *v
            }),
            1
        );
        assert_eq!(
            m.with("a", |v| {
                *v += 1;
                *v
            }),
            2
        );
        assert_eq!(m.with_existing("b", |v| *v), None);
        m.update_or_remove("a", |v| {
            *v -= 1;
            *v == 0
        });
        assert_eq!(m.len(), 1);
        m.update_or_remove("a", |v| {
            *v -= 1;
            *v == 0
        });
        assert!(m.is_empty());
        for i in 0..100 {
            m.with(format!("k{i}").as_str(), |v| *v = i);
        }
        m.retain(|_, v| *v % 2 == 0);
        assert_eq!(m.len(), 50);
    }
}
