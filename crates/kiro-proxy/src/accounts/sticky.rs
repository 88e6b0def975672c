//! Session stickiness: the account a client session last used, so that one conversation stays on
//! one account (its upstream conversation state and prompt cache live there) while that account
//! is usable. Bounded: entries expire after a TTL without use, and when the map is full the
//! least recently used entry goes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Binding {
    account: String,
    used: Instant,
}

/// Session key → account id, with a TTL and a size bound.
#[derive(Debug)]
pub struct StickySessions {
    ttl: Duration,
    max: usize,
    map: HashMap<String, Binding>,
}

impl StickySessions {
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max: max.max(1),
            map: HashMap::new(),
        }
    }

    /// New limits (a runtime change): bindings older than the new TTL read as expired, and
    /// a smaller bound applies from the next new session.
    pub fn set_limits(&mut self, ttl: Duration, max: usize) {
        self.ttl = ttl;
        self.max = max.max(1);
    }

    /// The account bound to `session`, if the binding has not expired.
    pub fn get(&self, session: &str, now: Instant) -> Option<&str> {
        self.map
            .get(session)
            .filter(|b| now.saturating_duration_since(b.used) < self.ttl)
            .map(|b| b.account.as_str())
    }

    /// Binds `session` to `account` (or refreshes the binding).
    pub fn bind(&mut self, session: &str, account: &str, now: Instant) {
        if let Some(b) = self.map.get_mut(session) {
            if b.account != account {
                account.clone_into(&mut b.account);
            }
            b.used = now;
            return;
        }
        if self.map.len() >= self.max {
            let ttl = self.ttl;
            self.map
                .retain(|_, b| now.saturating_duration_since(b.used) < ttl);
        }
        if self.map.len() >= self.max {
            // Still full of live sessions: the least recently used one goes (O(n), only when
            // the map is full).
            if let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, b)| b.used)
                .map(|(k, _)| k.clone())
            {
                self.map.remove(&oldest);
            }
        }
        self.map.insert(
            session.to_owned(),
            Binding {
                account: account.to_owned(),
                used: now,
            },
        );
    }

    /// Forgets every session bound to `account` (removed from the pool).
    pub fn forget_account(&mut self, account: &str) {
        self.map.retain(|_, b| b.account != account);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_expires_and_stays_bounded() {
        let t0 = Instant::now();
        let mut s = StickySessions::new(Duration::from_secs(10), 2);
        s.bind("s1", "a", t0);
        assert_eq!(s.get("s1", t0), Some("a"));
        assert_eq!(s.get("s1", t0 + Duration::from_secs(10)), None);
        s.bind("s1", "b", t0 + Duration::from_secs(1));
        assert_eq!(s.get("s1", t0 + Duration::from_secs(5)), Some("b"));
        s.bind("s2", "a", t0 + Duration::from_secs(2));
        s.bind("s3", "c", t0 + Duration::from_secs(3));
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.get("s1", t0 + Duration::from_secs(3)),
            None,
            "LRU evicted"
        );
        assert_eq!(s.get("s3", t0 + Duration::from_secs(3)), Some("c"));
        s.forget_account("c");
        assert_eq!(s.get("s3", t0 + Duration::from_secs(3)), None);
    }
}
