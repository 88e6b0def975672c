//! Token refreshes, counted where they happen (the token manager) and shown by every app's
//! `/metrics`: a process-wide counter, since refreshes are the process's.

use std::sync::OnceLock;

use prometheus::{IntCounterVec, Opts};

/// `kiro_token_refreshes_total{outcome}`.
pub(crate) fn counter() -> &'static IntCounterVec {
    static COUNTER: OnceLock<IntCounterVec> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let opts = Opts::new(
            "kiro_token_refreshes_total",
            "Access-token refreshes the token manager made, by outcome.",
        );
        // The name and labels are constants known to be valid; an error here would be a
        // programming error caught by the tests, and there is no registry to fall back on.
        IntCounterVec::new(opts, &["outcome"]).unwrap_or_else(|_| unreachable!())
    })
}

/// Counts one refresh call to the upstream: `ok` when new credentials came back and were
/// saved, `failed` otherwise.
pub fn count_refresh(ok: bool) {
    counter()
        .with_label_values(&[if ok { "ok" } else { "failed" }])
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_outcome() {
        let before = counter().with_label_values(&["failed"]).get();
        count_refresh(false);
        assert_eq!(counter().with_label_values(&["failed"]).get(), before + 1);
    }
}
