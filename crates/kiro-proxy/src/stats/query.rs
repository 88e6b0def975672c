//! Reading the statistics back: the request log with filters and keyset paging, and the
//! aggregates as a series of buckets.

use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::store::{Store, StoreError};

/// Which requests of the log to list. Times are Unix milliseconds.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// A key id (`config:0`, `loopback`, a stored key's id) or a stored key's prefix.
    pub key: Option<String>,
    pub account: Option<String>,
    /// Matches the model asked for or the upstream model.
    pub model: Option<String>,
    pub status: Option<StatusFilter>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Rows at most.
    pub limit: u32,
    /// Continue after this cursor (from [`RequestPage::next`]).
    pub before: Option<Cursor>,
}

/// A status filter: one code, a class, or failed / succeeded requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Code(u16),
    /// The hundreds digit: `4` for `4xx`.
    Class(u16),
    /// Refused, failed, or failed in band.
    Error,
    Ok,
}

impl StatusFilter {
    /// `429`, `4xx`, `error`, `ok`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => return Some(Self::Error),
            "ok" => return Some(Self::Ok),
            _ => {}
        }
        let b = s.as_bytes();
        if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && s[1..].eq_ignore_ascii_case("xx") {
            return Some(Self::Class(u16::from(b[0] - b'0')));
        }
        s.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(Self::Code)
    }
}

/// A position in the log, newest first: `(started_at_ms, seq)` of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub started_at_ms: i64,
    pub seq: i64,
}

impl Cursor {
    /// The text form `<ms>_<seq>` (opaque to clients).
    pub fn encode(&self) -> String {
        format!("{}_{}", self.started_at_ms, self.seq)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (ms, seq) = s.split_once('_')?;
        Some(Self {
            started_at_ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// One request of the log, as the admin API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub request_id: String,
    /// Unix seconds.
    pub time: i64,
    pub time_ms: i64,
    pub key_id: Option<String>,
    pub key_prefix: Option<String>,
    pub key_name: Option<String>,
    pub client_ip: Option<String>,
    pub dialect: String,
    pub stream: bool,
    pub model_requested: Option<String>,
    pub model_upstream: Option<String>,
    pub account: Option<String>,
    pub attempts: i64,
    pub status: i64,
    pub stop_reason: Option<String>,
    pub error: Option<String>,
    /// What the client was told with the error (redacted, capped).
    pub error_message: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub credits: f64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub upstream_ms: f64,
    pub client_disconnected: bool,
}

/// A page of the log, newest first.
#[derive(Debug, Clone)]
pub struct RequestPage {
    pub requests: Vec<LogEntry>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

const LOG_COLUMNS: &str = "seq, request_id, started_at_ms, key_id, key_prefix, key_name, \
     client_ip, dialect, stream, model_requested, model_upstream, account_id, attempts, status, \
     stop_reason, error, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
     credits, latency_ms, ttft_ms, upstream_ms, client_disconnected, error_message";

fn log_entry(row: &SqliteRow) -> Result<(Cursor, LogEntry), StoreError> {
    let started_at_ms: i64 = row.try_get("started_at_ms")?;
    let cursor = Cursor {
        started_at_ms,
        seq: row.try_get("seq")?,
    };
    Ok((
        cursor,
        LogEntry {
            request_id: row.try_get("request_id")?,
            time: started_at_ms.div_euclid(1000),
            time_ms: started_at_ms,
            key_id: row.try_get("key_id")?,
            key_prefix: row.try_get("key_prefix")?,
            key_name: row.try_get("key_name")?,
            client_ip: row.try_get("client_ip")?,
            dialect: row.try_get("dialect")?,
            stream: row.try_get("stream")?,
            model_requested: row.try_get("model_requested")?,
            model_upstream: row.try_get("model_upstream")?,
            account: row.try_get("account_id")?,
            attempts: row.try_get("attempts")?,
            status: row.try_get("status")?,
            stop_reason: row.try_get("stop_reason")?,
            error: row.try_get("error")?,
            error_message: row.try_get("error_message")?,
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
            cache_read_tokens: row.try_get("cache_read_tokens")?,
            cache_write_tokens: row.try_get("cache_write_tokens")?,
            credits: row.try_get("credits")?,
            latency_ms: row.try_get("latency_ms")?,
            ttft_ms: row.try_get("ttft_ms")?,
            upstream_ms: row.try_get("upstream_ms")?,
            client_disconnected: row.try_get("client_disconnected")?,
        },
    ))
}

/// The requests of the log matching `f`, newest first.
pub async fn list_requests(store: &Store, f: &RequestFilter) -> Result<RequestPage, StoreError> {
    let mut q: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {LOG_COLUMNS} FROM request_log WHERE 1 = 1"));
    if let Some(key) = &f.key {
        q.push(" AND (key_id = ")
            .push_bind(key.clone())
            .push(" OR key_prefix = ")
            .push_bind(key.clone())
            .push(")");
    }
    if let Some(account) = &f.account {
        q.push(" AND account_id = ").push_bind(account.clone());
    }
    if let Some(model) = &f.model {
        q.push(" AND (model_requested = ")
            .push_bind(model.clone())
            .push(" OR model_upstream = ")
            .push_bind(model.clone())
            .push(")");
    }
    match f.status {
        None => {}
        Some(StatusFilter::Code(code)) => {
            q.push(" AND status = ").push_bind(i64::from(code));
        }
        Some(StatusFilter::Class(hundreds)) => {
            let low = i64::from(hundreds) * 100;
            q.push(" AND status >= ")
                .push_bind(low)
                .push(" AND status < ")
                .push_bind(low + 100);
        }
        Some(StatusFilter::Error) => {
            q.push(" AND (error IS NOT NULL OR status >= 400)");
        }
        Some(StatusFilter::Ok) => {
            q.push(" AND error IS NULL AND status < 400");
        }
    }
    if let Some(since) = f.since_ms {
        q.push(" AND started_at_ms >= ").push_bind(since);
    }
    if let Some(until) = f.until_ms {
        q.push(" AND started_at_ms < ").push_bind(until);
    }
    if let Some(c) = f.before {
        q.push(" AND (started_at_ms, seq) < (")
            .push_bind(c.started_at_ms)
            .push(", ")
            .push_bind(c.seq)
            .push(")");
    }
    let limit = f.limit.max(1);
    // One more than asked tells whether a next page exists.
    q.push(" ORDER BY started_at_ms DESC, seq DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = q.build().fetch_all(store.sqlite()).await?;
    let mut requests = Vec::with_capacity(rows.len().min(limit as usize));
    let mut next = None;
    for (i, row) in rows.iter().enumerate() {
        if i == limit as usize {
            break;
        }
        let (cursor, entry) = log_entry(row)?;
        requests.push(entry);
        if i + 1 == limit as usize && rows.len() > limit as usize {
            next = Some(cursor);
        }
    }
    Ok(RequestPage { requests, next })
}

/// The newest request of the log with this id (clients may reuse an `x-request-id`).
pub async fn get_request(store: &Store, request_id: &str) -> Result<Option<LogEntry>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {LOG_COLUMNS} FROM request_log WHERE request_id = ? \
         ORDER BY started_at_ms DESC, seq DESC LIMIT 1"
    ))
    .bind(request_id)
    .fetch_optional(store.sqlite())
    .await?;
    row.as_ref()
        .map(|r| log_entry(r).map(|(_, e)| e))
        .transpose()
}

/// The captured bodies of one request (secrets redacted, each capped), when capture was on.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredBodies {
    pub request: Option<String>,
    pub response: Option<String>,
    /// Whether either body was cut at the cap (the text then ends with a marker).
    pub truncated: bool,
}

/// [`get_request`] with the request's captured bodies, if any were stored.
pub async fn get_request_with_bodies(
    store: &Store,
    request_id: &str,
) -> Result<Option<(LogEntry, Option<StoredBodies>)>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {LOG_COLUMNS}, b.request AS body_request, b.response AS body_response, \
         b.truncated AS body_truncated, b.log_seq AS body_seq \
         FROM request_log LEFT JOIN request_bodies b ON b.log_seq = request_log.seq \
         WHERE request_id = ? ORDER BY started_at_ms DESC, seq DESC LIMIT 1"
    ))
    .bind(request_id)
    .fetch_optional(store.sqlite())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (_, entry) = log_entry(&row)?;
    let seq: Option<i64> = row.try_get("body_seq")?;
    let bodies = match seq {
        Some(_) => Some(StoredBodies {
            request: row.try_get("body_request")?,
            response: row.try_get("body_response")?,
            truncated: row.try_get("body_truncated")?,
        }),
        None => None,
    };
    Ok(Some((entry, bodies)))
}

/// The period of the aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
}

impl Period {
    pub fn secs(self) -> i64 {
        match self {
            Period::Hour => 3600,
            Period::Day => 86_400,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Period::Hour => "stats_hourly",
            Period::Day => "stats_daily",
        }
    }
}

/// What the series is broken down by, besides time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Key,
    Account,
    Model,
    Status,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Key => "s.key_id",
            By::Account => "s.account_id",
            By::Model => "s.model",
            By::Status => "s.status_class",
        }
    }
}

/// A series of aggregates: buckets in `[since, until)` (Unix seconds; `since` rounded down to
/// the period).
#[derive(Debug, Clone, Copy)]
pub struct StatsQuery {
    pub by: Option<By>,
    pub period: Period,
    pub since: i64,
    pub until: i64,
}

/// One bucket (of one key, account, model or status class when broken down).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// Unix seconds of the bucket's start.
    pub start: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Counts and sums over some requests.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub credits: f64,
    pub avg_latency_ms: f64,
    /// Over the requests that produced content.
    pub avg_ttft_ms: Option<f64>,
    #[serde(skip)]
    latency_ms_sum: f64,
    #[serde(skip)]
    ttft_ms_sum: f64,
    #[serde(skip)]
    ttft_count: i64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.credits += o.credits;
        self.latency_ms_sum += o.latency_ms_sum;
        self.ttft_ms_sum += o.ttft_ms_sum;
        self.ttft_count += o.ttft_count;
        self.averages();
    }

    fn averages(&mut self) {
        self.avg_latency_ms = if self.requests > 0 {
            self.latency_ms_sum / self.requests as f64
        } else {
            0.0
        };
        self.avg_ttft_ms = (self.ttft_count > 0).then(|| self.ttft_ms_sum / self.ttft_count as f64);
    }
}

/// The aggregates of `q`, oldest bucket first, and their totals.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub buckets: Vec<Bucket>,
    pub totals: Totals,
}

/// An empty dimension value (no key, no account) reads as `null`.
fn dimension(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub async fn series(store: &Store, q: &StatsQuery) -> Result<Series, StoreError> {
    let since = q.since - q.since.rem_euclid(q.period.secs());
    let (dim_select, dim_group, join) = match q.by {
        None => (String::new(), String::new(), ""),
        Some(By::Key) => (
            ", s.key_id AS dim, k.prefix AS key_prefix, k.name AS key_name".to_owned(),
            ", s.key_id".to_owned(),
            " LEFT JOIN api_keys k ON k.id = s.key_id",
        ),
        Some(by) => (
            format!(", {} AS dim", by.column()),
            format!(", {}", by.column()),
            "",
        ),
    };
    // Every interpolated piece is a constant chosen above, never input.
    let sql = format!(
        "SELECT s.bucket AS bucket{dim_select}, SUM(s.requests) AS requests, \
         SUM(s.errors) AS errors, SUM(s.input_tokens) AS input_tokens, \
         SUM(s.output_tokens) AS output_tokens, SUM(s.cache_read_tokens) AS cache_read_tokens, \
         SUM(s.cache_write_tokens) AS cache_write_tokens, SUM(s.credits) AS credits, \
         SUM(s.latency_ms_sum) AS latency_ms_sum, SUM(s.ttft_ms_sum) AS ttft_ms_sum, \
         SUM(s.ttft_count) AS ttft_count \
         FROM {table} s{join} WHERE s.bucket >= ? AND s.bucket < ? \
         GROUP BY s.bucket{dim_group} ORDER BY s.bucket{dim_group}",
        table = q.period.table(),
    );
    let rows = sqlx::query(&sql)
        .bind(since)
        .bind(q.until)
        .fetch_all(store.sqlite())
        .await?;
    let mut buckets = Vec::with_capacity(rows.len());
    let mut totals = Totals::default();
    for row in &rows {
        let mut t = Totals {
            requests: row.try_get("requests")?,
            errors: row.try_get("errors")?,
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
            cache_read_tokens: row.try_get("cache_read_tokens")?,
            cache_write_tokens: row.try_get("cache_write_tokens")?,
            credits: row.try_get("credits")?,
            latency_ms_sum: row.try_get("latency_ms_sum")?,
            ttft_ms_sum: row.try_get("ttft_ms_sum")?,
            ttft_count: row.try_get("ttft_count")?,
            ..Totals::default()
        };
        t.averages();
        totals.add(&t);
        let mut b = Bucket {
            start: row.try_get("bucket")?,
            key: None,
            key_prefix: None,
            key_name: None,
            account: None,
            model: None,
            status: None,
            totals: t,
        };
        match q.by {
            None => {}
            Some(By::Key) => {
                b.key = Some(dimension(row.try_get("dim")?));
                b.key_prefix = Some(row.try_get("key_prefix")?);
                b.key_name = Some(row.try_get("key_name")?);
            }
            Some(By::Account) => b.account = Some(dimension(row.try_get("dim")?)),
            Some(By::Model) => b.model = Some(dimension(row.try_get("dim")?)),
            Some(By::Status) => b.status = Some(row.try_get("dim")?),
        }
        buckets.push(b);
    }
    Ok(Series { buckets, totals })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters() {
        assert_eq!(StatusFilter::parse("429"), Some(StatusFilter::Code(429)));
        assert_eq!(StatusFilter::parse("4xx"), Some(StatusFilter::Class(4)));
        assert_eq!(StatusFilter::parse("5XX"), Some(StatusFilter::Class(5)));
        assert_eq!(StatusFilter::parse("error"), Some(StatusFilter::Error));
        assert_eq!(StatusFilter::parse("ok"), Some(StatusFilter::Ok));
        assert_eq!(StatusFilter::parse("42"), None);
        assert_eq!(StatusFilter::parse("6xx"), None);
        assert_eq!(StatusFilter::parse("teapot"), None);
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            started_at_ms: 1_700_000_000_123,
            seq: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("nonsense"), None);
        assert_eq!(Cursor::parse("1_x"), None);
    }
}
