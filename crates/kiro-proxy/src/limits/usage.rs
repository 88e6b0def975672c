//! Tokens each stored key used this calendar month (UTC), for the monthly budget.
//!
//! Finished requests add to an in-memory book (one short shard lock, never I/O); a periodic
//! flush and the shutdown write the pending amounts to the store in one transaction. At start
//! the current month's totals are read back, so a budget survives restarts.

use kiro_wire::num::{civil_from_days, days_from_civil};

use super::shards::Sharded;
use crate::store::{MonthlyKeyUsage, Store, StoreError};

/// A calendar month, counted from year 0 (`year * 12 + month - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i64);

const SECS_PER_DAY: i64 = 86_400;

impl Month {
    /// The UTC month of Unix second `secs`.
    pub fn of(secs: i64) -> Self {
        let (year, month, _) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        Month(year * 12 + i64::from(month) - 1)
    }

    fn year_month(self) -> (i64, u32) {
        // rem_euclid(12) + 1 is in 1..=12.
        let month = u32::try_from(self.0.rem_euclid(12) + 1).unwrap_or(1);
        (self.0.div_euclid(12), month)
    }

    /// `YYYY-MM`.
    pub fn label(self) -> String {
        let (y, m) = self.year_month();
        format!("{y:04}-{m:02}")
    }

    /// Unix second at which the next month starts.
    pub fn next_start(self) -> i64 {
        let (y, m) = Month(self.0 + 1).year_month();
        days_from_civil(y, m, 1) * SECS_PER_DAY
    }
}

/// One key's month.
#[derive(Debug, Default)]
struct Entry {
    month: Option<Month>,
    /// Stored plus pending tokens of `month`.
    total: u64,
    /// Not yet written.
    pending: u64,
    /// Pending tokens of earlier months (the month turned before a flush).
    earlier: Vec<(Month, u64)>,
}

impl Entry {
    /// Moves to `month`, keeping what the old month still has to write.
    fn roll(&mut self, month: Month) {
        if self.month == Some(month) {
            return;
        }
        match self.month {
            Some(old) if self.pending > 0 => self.earlier.push((old, self.pending)),
            _ => {}
        }
        *self = Entry {
            month: Some(month),
            earlier: std::mem::take(&mut self.earlier),
            ..Entry::default()
        };
    }
}

/// The monthly totals of every key.
#[derive(Debug, Default)]
pub struct MonthlyBook {
    keys: Sharded<String, Entry>,
}

impl MonthlyBook {
    /// Reads `month`'s stored totals.
    pub async fn load(store: &Store, month: Month) -> Result<Self, StoreError> {
        let book = Self::default();
        for row in store.monthly_key_usage(&month.label()).await? {
            book.keys.with(row.key_id.as_str(), |e| {
                e.roll(month);
                e.total = row.tokens;
            });
        }
        Ok(book)
    }

    /// Adds `tokens` used by key `id` in `month`.
    pub fn add(&self, id: &str, month: Month, tokens: u64) {
        self.keys.with(id, |e| {
            e.roll(month);
            e.total = e.total.saturating_add(tokens);
            e.pending = e.pending.saturating_add(tokens);
        });
    }

    /// Tokens key `id` used in `month` (as far as this process knows).
    pub fn used(&self, id: &str, month: Month) -> u64 {
        self.keys
            .with_existing(id, |e| if e.month == Some(month) { e.total } else { 0 })
            .unwrap_or(0)
    }

    /// Takes every pending amount, to be written.
    fn take_pending(&self) -> Vec<(String, Month, u64)> {
        let mut out = Vec::new();
        self.keys.retain(|id, e| {
            for (month, tokens) in e.earlier.drain(..) {
                out.push((id.clone(), month, tokens));
            }
            match e.month {
                Some(month) if e.pending > 0 => {
                    out.push((id.clone(), month, e.pending));
                    e.pending = 0;
                }
                _ => {}
            }
            true
        });
        out
    }

    /// Puts amounts that could not be written back, to be tried again.
    fn restore(&self, deltas: Vec<(String, Month, u64)>) {
        for (id, month, tokens) in deltas {
            self.keys.with(id.as_str(), |e| {
                if e.month == Some(month) {
                    e.pending = e.pending.saturating_add(tokens);
                } else {
                    e.earlier.push((month, tokens));
                }
            });
        }
    }

    /// Writes the pending amounts; on failure they stay pending.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let deltas = self.take_pending();
        if deltas.is_empty() {
            return Ok(());
        }
        let rows: Vec<MonthlyKeyUsage> = deltas
            .iter()
            .map(|(id, month, tokens)| MonthlyKeyUsage {
                key_id: id.clone(),
                month: month.label(),
                tokens: *tokens,
            })
            .collect();
        match store.add_monthly_key_usage(&rows).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.restore(deltas);
                Err(e)
            }
        }
    }

    /// Forgets keys with nothing pending whose month is over, and keys no longer known.
    pub fn prune(&self, current: Month, known: impl Fn(&str) -> bool) {
        self.keys.retain(|id, e| {
            let idle = e.pending == 0 && e.earlier.is_empty();
            !(idle && (e.month != Some(current) || !known(id)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_their_ends() {
        assert_eq!(Month::of(0).label(), "1970-01");
        // 2024-02-29T12:00:00Z
        let leap = 1_709_208_000;
        assert_eq!(Month::of(leap).label(), "2024-02");
        // 2024-03-01T00:00:00Z
        assert_eq!(Month::of(leap).next_start(), 1_709_251_200);
        assert_eq!(Month::of(1_709_251_200).label(), "2024-03");
        assert_eq!(Month::of(1_709_251_199).label(), "2024-02");
        // December rolls into the next year: 2025-12-31T23:59:59Z → 2026-01-01.
        let dec = Month::of(1_767_225_599);
        assert_eq!(dec.label(), "2025-12");
        assert_eq!(dec.next_start(), 1_767_225_600);
    }

    #[test]
    fn pending_amounts_survive_a_month_turn_and_a_failed_write() {
        let book = MonthlyBook::default();
        let may = Month::of(1_747_000_000);
        let june = Month(may.0 + 1);
        book.add("k", may, 100);
        book.add("k", may, 50);
        assert_eq!(book.used("k", may), 150);
        book.add("k", june, 7);
        assert_eq!(book.used("k", may), 0);
        assert_eq!(book.used("k", june), 7);
        let mut pending = book.take_pending();
        pending.sort_by_key(|(_, m, _)| *m);
        assert_eq!(
            pending,
            vec![("k".to_owned(), may, 150), ("k".to_owned(), june, 7)]
        );
        assert!(book.take_pending().is_empty());
        book.restore(pending);
        assert_eq!(book.take_pending().len(), 2);
        assert_eq!(book.used("k", june), 7);
        book.prune(june, |_| true);
        assert_eq!(book.used("k", june), 7);
        book.prune(june, |_| false);
        assert_eq!(book.used("k", june), 0);
    }
}
