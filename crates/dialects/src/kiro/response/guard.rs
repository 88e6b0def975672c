//! Output guards the upstream does not offer (it has no stop-sequence or max-tokens field):
//! stop sequences on the visible text, and an output budget for `max_tokens`.

use super::usage::CHARS_PER_TOKEN;

/// Watches the visible text for the client's stop sequences. Text that could be the start of a
/// stop sequence completed by the next chunk is held back, and only that much.
#[derive(Debug, Default)]
pub(crate) struct StopGuard {
    sequences: Vec<String>,
    /// Bytes of the longest sequence, bounding what is held back.
    longest: usize,
    held: String,
}

/// What a chunk of text becomes once the guard has seen it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Guarded {
    /// Text safe to emit now.
    pub emit: String,
    /// The stop sequence found; text after it is discarded and the reply ends.
    pub matched: Option<String>,
}

impl StopGuard {
    pub fn new(sequences: &[String]) -> Self {
        let sequences: Vec<String> = sequences
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        let longest = sequences.iter().map(String::len).max().unwrap_or(0);
        StopGuard {
            sequences,
            longest,
            held: String::new(),
        }
    }

    /// Takes the chunk by value: without stop sequences (the common case) it is emitted as
    /// is, with no copy per frame.
    pub fn push(&mut self, chunk: impl Into<String>) -> Guarded {
        let chunk = chunk.into();
        if self.sequences.is_empty() {
            return Guarded {
                emit: chunk,
                matched: None,
            };
        }
        let mut s = std::mem::take(&mut self.held);
        if s.is_empty() {
            s = chunk;
        } else {
            s.push_str(&chunk);
        }
        // The earliest match wins; at the same position, the longest sequence.
        let found = self
            .sequences
            .iter()
            .filter_map(|seq| s.find(seq.as_str()).map(|at| (at, seq)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())));
        if let Some((at, seq)) = found {
            let matched = Some(seq.clone());
            s.truncate(at);
            return Guarded { emit: s, matched };
        }
        // Everything before the earliest suffix that some sequence starts with is safe: no
        // match can begin there any more.
        let start_min = s.len().saturating_sub(self.longest.saturating_sub(1));
        let hold_from = (start_min..s.len())
            .filter(|&i| s.is_char_boundary(i))
            .find(|&i| self.sequences.iter().any(|seq| seq.starts_with(&s[i..])))
            .unwrap_or(s.len());
        self.held = s.split_off(hold_from);
        Guarded {
            emit: s,
            matched: None,
        }
    }

    /// Releases held text: the text stream was interrupted (a tool call) or ended, so it can no
    /// longer complete a stop sequence.
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// The `max_tokens` budget, counted with the same chars-per-token heuristic as the output
/// estimate, so that the cut and the reported usage agree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputBudget {
    limit_chars: Option<u64>,
}

impl OutputBudget {
    pub fn new(max_tokens: Option<u64>) -> Self {
        OutputBudget {
            limit_chars: max_tokens.map(|t| t.saturating_mul(CHARS_PER_TOKEN)),
        }
    }

    /// How much of `s` fits after `used_chars` chars of output: the whole of it, or a prefix
    /// and `true` when the budget runs out inside `s`. A reply ending exactly at the limit is
    /// not cut.
    pub fn take<'a>(&self, used_chars: u64, s: &'a str) -> (&'a str, bool) {
        let Some(limit) = self.limit_chars else {
            return (s, false);
        };
        let remaining = limit.saturating_sub(used_chars);
        let remaining = usize::try_from(remaining).unwrap_or(usize::MAX);
        match s.char_indices().nth(remaining) {
            None => (s, false),
            Some((cut, _)) => (&s[..cut], true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_inside_one_chunk() {
        let mut g = StopGuard::new(&["END".into()]);
        let r = g.push("abcENDdef");
        assert_eq!(r.emit, "abc");
        assert_eq!(r.matched.as_deref(), Some("END"));
    }

    #[test]
    fn partial_is_held_then_released() {
        let mut g = StopGuard::new(&["END".into()]);
        assert_eq!(g.push("abcE").emit, "abc");
        assert_eq!(g.push("Nx").emit, "ENx");
        assert_eq!(g.push("EN").emit, "");
        assert_eq!(g.flush(), "EN");
    }

    #[test]
    fn earliest_then_longest() {
        let mut g = StopGuard::new(&["bc".into(), "abcd".into(), "ab".into()]);
        assert_eq!(g.push("xabcd").matched.as_deref(), Some("abcd"));
    }

    #[test]
    fn multibyte_hold_is_on_char_boundaries() {
        let mut g = StopGuard::new(&["我们".into()]);
        assert_eq!(g.push("好我").emit, "好");
        let r = g.push("们");
        assert_eq!(r.emit, "");
        assert_eq!(r.matched.as_deref(), Some("我们"));
    }

    #[test]
    fn budget_cuts_on_chars() {
        let b = OutputBudget::new(Some(1));
        assert_eq!(b.take(0, "abcd"), ("abcd", false));
        assert_eq!(b.take(2, "我们好"), ("我们", true));
        assert_eq!(b.take(4, "x"), ("", true));
        assert_eq!(OutputBudget::new(None).take(u64::MAX, "x"), ("x", false));
    }
}
