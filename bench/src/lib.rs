//! Shared pieces of the benchmark tools.

/// Percentile of a sorted slice (nearest rank).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Counts the occurrences of a byte pattern in a body that arrives in chunks, including
/// occurrences split across two chunks. Used to count events in a response (upstream frames
/// carry their event type as a header string; SSE events carry `event: <type>`), so a check
/// run can prove that every upstream content frame became exactly one event downstream.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Vec<u8>,
    /// The last `pattern.len() - 1` bytes seen, to find matches that straddle two chunks.
    carry: Vec<u8>,
    count: u64,
}

impl Matcher {
    pub fn new(pattern: &[u8]) -> Self {
        Self {
            pattern: pattern.to_vec(),
            carry: Vec::new(),
            count: 0,
        }
    }

    /// Feeds the next chunk; returns the number of new matches it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> u64 {
        let m = self.pattern.len();
        if m == 0 {
            return 0;
        }
        // Matches that start in the carry and end in this chunk.
        let mut found = 0;
        if !self.carry.is_empty() {
            let head = &chunk[..chunk.len().min(m - 1)];
            let mut joined = Vec::with_capacity(self.carry.len() + head.len());
            joined.extend_from_slice(&self.carry);
            joined.extend_from_slice(head);
            found += count_in(&joined, &self.pattern);
        }
        found += count_in(chunk, &self.pattern);
        // Keep the tail for the next chunk (bytes of a match already counted cannot start
        // another one shorter than the pattern, so an overlap with a counted match is harmless
        // for the non-self-overlapping patterns this is used with).
        let keep = m - 1;
        if chunk.len() >= keep {
            self.carry.clear();
            self.carry.extend_from_slice(&chunk[chunk.len() - keep..]);
        } else {
            self.carry.extend_from_slice(chunk);
            let excess = self.carry.len().saturating_sub(keep);
            self.carry.drain(..excess);
        }
        self.count += found;
        found
    }

    /// Matches so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

fn count_in(hay: &[u8], pattern: &[u8]) -> u64 {
    if hay.len() < pattern.len() {
        return 0;
    }
    hay.windows(pattern.len()).filter(|w| *w == pattern).count() as u64
}

#[cfg(test)]
mod tests {
    use super::{Matcher, percentile};

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn matcher_counts_across_any_split() {
        let body = b"event: a\n\nevent: content_block_delta\n\nxx event: content_block_delta\n\n";
        let pat = b"event: content_block_delta";
        for cut1 in 0..body.len() {
            for cut2 in cut1..body.len() {
                let mut m = Matcher::new(pat);
                m.feed(&body[..cut1]);
                m.feed(&body[cut1..cut2]);
                m.feed(&body[cut2..]);
                assert_eq!(m.count(), 2, "cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn matcher_byte_by_byte() {
        let body = b"assistantResponseEvent..assistantResponseEventassistantResponseEvent";
        let mut m = Matcher::new(b"assistantResponseEvent");
        for b in body {
            m.feed(std::slice::from_ref(b));
        }
        assert_eq!(m.count(), 3);
    }
}
