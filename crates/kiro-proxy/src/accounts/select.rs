//! Choosing among candidate accounts: smooth weighted round robin (the nginx algorithm) over
//! effective weights, where an account's effective weight is its operator weight × its remaining
//! quota relative to the pool's average (see `Pool`).
//!
//! Why this and not "the account with the most quota" or random choice:
//! - **No thundering herd.** Every pick lowers the winner's running weight by the total, so a
//!   burst of simultaneous requests is dealt out across accounts in weight order instead of all
//!   landing on the current favourite (which an argmax over remaining quota would do until the
//!   next quota poll).
//! - **No starvation.** Every candidate gains its weight on every pick, so any account with a
//!   positive weight wins within about `total / weight` picks; over N picks each account's count
//!   stays within a small constant of `N × weight / total` (deterministic, unlike random choice,
//!   whose spread grows with √N).
//! - **Smooth reaction to quota.** As an account's remaining quota falls, its weight (and share)
//!   falls with it; metering deductions move weights continuously between polls.
//!
//! Running weights are kept per account across picks. Candidates change from pick to pick
//! (cooldowns, concurrency caps, tried accounts); running weights are clamped to ± the current
//! total so an account returning after a long absence cannot claim a long burst.

use std::collections::HashMap;

/// Running weights of the smooth weighted round robin, by account id.
#[derive(Debug, Default)]
pub struct SmoothWeighted {
    current: HashMap<String, f64>,
}

impl SmoothWeighted {
    /// Picks one of `candidates` (id, effective weight > 0), or `forced` when it is one of them
    /// (session stickiness: the pick is still accounted, so the sticky account gets fewer of the
    /// other requests). Returns the index of the pick.
    pub fn pick(&mut self, candidates: &[(&str, f64)], forced: Option<&str>) -> Option<usize> {
        if candidates.is_empty() {
            return None;
        }
        let total: f64 = candidates.iter().map(|(_, w)| w.max(0.0)).sum();
        let mut best: Option<(usize, f64)> = None;
        for (i, (id, w)) in candidates.iter().enumerate() {
            let cur = self.current.entry((*id).to_owned()).or_insert(0.0);
            *cur = (*cur + w.max(0.0)).clamp(-total, total);
            if best.is_none_or(|(_, b)| *cur > b) {
                best = Some((i, *cur));
            }
        }
        let chosen = forced
            .and_then(|f| candidates.iter().position(|(id, _)| *id == f))
            .or(best.map(|(i, _)| i))?;
        if let Some(cur) = self.current.get_mut(candidates[chosen].0) {
            *cur -= total;
        }
        Some(chosen)
    }

    /// Forgets an account (removed from the pool).
    pub fn forget(&mut self, id: &str) {
        self.current.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(weights: &[(&str, f64)], n: usize) -> Vec<usize> {
        let mut s = SmoothWeighted::default();
        let mut c = vec![0; weights.len()];
        for _ in 0..n {
            c[s.pick(weights, None).unwrap()] += 1;
        }
        c
    }

    #[test]
    fn equal_weights_rotate() {
        let mut s = SmoothWeighted::default();
        let w = [("a", 1.0), ("b", 1.0), ("c", 1.0)];
        let picks: Vec<usize> = (0..6).map(|_| s.pick(&w, None).unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn shares_follow_weights_closely() {
        let c = counts(&[("a", 0.1), ("b", 1.0), ("c", 1.0)], 210);
        assert_eq!(c, vec![10, 100, 100]);
        let c = counts(&[("a", 5.0), ("b", 1.0), ("c", 1.0)], 7);
        assert_eq!(c, vec![5, 1, 1]);
    }

    #[test]
    fn smooth_not_bursty() {
        // With weights 5:1:1 the heavy account never wins more than 3 in a row... and the light
        // ones are interleaved rather than starved until the end.
        let mut s = SmoothWeighted::default();
        let w = [("a", 5.0), ("b", 1.0), ("c", 1.0)];
        let picks: Vec<usize> = (0..7).map(|_| s.pick(&w, None).unwrap()).collect();
        assert_eq!(picks, vec![0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn forced_pick_is_accounted() {
        let mut s = SmoothWeighted::default();
        let w = [("a", 1.0), ("b", 1.0)];
        for _ in 0..4 {
            assert_eq!(s.pick(&w, Some("a")), Some(0));
        }
        // b is owed picks now.
        assert_eq!(s.pick(&w, None), Some(1));
        assert_eq!(s.pick(&w, Some("zz")), Some(1));
        assert_eq!(s.pick(&[], None), None);
    }
}
