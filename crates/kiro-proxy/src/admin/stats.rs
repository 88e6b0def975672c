//! `GET /api/stats?by=key|account|model|status&period=hour|day&since=&until=`: the
//! aggregates as a series of buckets, plus totals. Per-key usage by hour and by day is
//! `by=key` with the period.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AdminState;
use super::error::ApiError;
use super::requests::{Params, params, timestamp};
use crate::stats::{self, By, Period, StatsQuery};

/// Default spans: a day of hours, a month of days.
const DEFAULT_HOURS: i64 = 24;
const DEFAULT_DAYS: i64 = 30;
/// Longest spans one query may ask for (buckets × breakdown stay bounded).
const MAX_HOURS: i64 = 24 * 93;
const MAX_DAYS: i64 = 3660;

fn query(params: Vec<(String, String)>, now: i64) -> Result<StatsQuery, ApiError> {
    let mut by = None;
    let mut period = Period::Hour;
    let mut since = None;
    let mut until = None;
    for (name, value) in params {
        match name.as_str() {
            "by" => {
                by = Some(match value.trim() {
                    "key" => By::Key,
                    "account" => By::Account,
                    "model" => By::Model,
                    "status" => By::Status,
                    _ => {
                        return Err(ApiError::bad_request(
                            "`by` must be key, account, model or status",
                        ));
                    }
                });
            }
            "period" => {
                period = match value.trim() {
                    "hour" => Period::Hour,
                    "day" => Period::Day,
                    _ => return Err(ApiError::bad_request("`period` must be hour or day")),
                };
            }
            "since" => since = Some(timestamp("since", &value)?),
            "until" => until = Some(timestamp("until", &value)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{other}` (known: by, period, since, until)"
                )));
            }
        }
    }
    let (default_span, max_span) = match period {
        Period::Hour => (DEFAULT_HOURS * 3600, MAX_HOURS * 3600),
        Period::Day => (DEFAULT_DAYS * 86_400, MAX_DAYS * 86_400),
    };
    let until = until.unwrap_or(now + 1);
    let since = since.unwrap_or(until - default_span);
    if since >= until {
        return Err(ApiError::bad_request("`until` must be later than `since`"));
    }
    if until - since > max_span {
        return Err(ApiError::bad_request(format!(
            "`since` is too far before `until`: at most {} {}s per query",
            max_span / period.secs(),
            match period {
                Period::Hour => "hour",
                Period::Day => "day",
            }
        )));
    }
    Ok(StatsQuery {
        by,
        period,
        since,
        until,
    })
}

pub(super) async fn get(
    State(state): State<AdminState>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let q = query(params(q)?, crate::store::unix_now())?;
    let series = stats::series(&state.inner.store, &q).await?;
    Ok(Json(json!({
        "period": match q.period { Period::Hour => "hour", Period::Day => "day" },
        "since": q.since - q.since.rem_euclid(q.period.secs()),
        "until": q.until,
        "buckets": series.buckets,
        "totals": series.totals,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_and_validation() {
        let q = query(Vec::new(), 1_000_000).unwrap();
        assert_eq!((q.by, q.period), (None, Period::Hour));
        assert_eq!(q.until - q.since, 24 * 3600);
        let q = query(p(&[("by", "key"), ("period", "day")]), 10_000_000).unwrap();
        assert_eq!((q.by, q.period), (Some(By::Key), Period::Day));
        for (pairs, field) in [
            (p(&[("by", "colour")]), "`by`"),
            (p(&[("period", "week")]), "`period`"),
            (p(&[("since", "soon")]), "`since`"),
            (p(&[("since", "100"), ("until", "50")]), "`until`"),
            (p(&[("since", "0"), ("until", "100000000")]), "`since`"),
            (p(&[("limit", "5")]), "`limit`"),
        ] {
            let err = query(pairs, 1_000_000).unwrap_err();
            assert!(err.message.contains(field), "{}", err.message);
        }
    }
}
