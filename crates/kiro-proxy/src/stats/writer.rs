//! The background writer: batches of records into the request log and the aggregates, one
//! transaction per batch; the log kept at its size; hourly pruning of old detail.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{Msg, Shared, redact};
use crate::store::StoreError;
use crate::telemetry::{CapturedBodies, KeyRef, RequestRecord};

/// Most records written in one transaction.
const MAX_BATCH: usize = 512;
/// How long the first record of a batch waits for company: one commit (an fsync) per quarter
/// second at most, however busy the proxy.
const LINGER: Duration = Duration::from_millis(250);
/// Period of the retention pruning.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Pause before a failed batch is tried once more.
const RETRY_AFTER: Duration = Duration::from_secs(1);

const HOUR_SECS: i64 = 3600;
const DAY_SECS: i64 = 86_400;

pub(super) async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<RequestRecord> = Vec::with_capacity(MAX_BATCH);
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    let mut prefixes = Prefixes::default();
    let mut next_prune = Instant::now();
    loop {
        let first = tokio::select! {
            msg = rx.recv() => msg,
            () = tokio::time::sleep_until(next_prune) => {
                if let Err(e) = prune(&shared).await {
                    tracing::warn!(error = %e, "could not prune old statistics");
                }
                next_prune = Instant::now() + PRUNE_EVERY;
                continue;
            }
        };
        let Some(first) = first else {
            // Every handle is gone.
            return;
        };
        take(first, &mut batch, &mut acks);
        let deadline = Instant::now() + LINGER;
        while acks.is_empty() && batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => take(msg, &mut batch, &mut acks),
                Ok(None) | Err(_) => break,
            }
        }
        if !batch.is_empty() {
            write_with_retry(&shared, &mut prefixes, &batch).await;
            batch.clear();
        }
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
    }
}

fn take(msg: Msg, batch: &mut Vec<RequestRecord>, acks: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Msg::Record(r) => batch.push(r),
        Msg::Flush(ack) => acks.push(ack),
    }
}

async fn write_with_retry(shared: &Shared, prefixes: &mut Prefixes, batch: &[RequestRecord]) {
    let mut result = write(shared, prefixes, batch).await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, records = batch.len(), "could not write statistics; retrying");
        tokio::time::sleep(RETRY_AFTER).await;
        result = write(shared, prefixes, batch).await;
    }
    match result {
        Ok(()) => {
            shared
                .written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::error!(error = %e, records = batch.len(), "statistics lost");
            shared
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
    }
}

/// The key columns of a record: id, prefix, name; and its captured bodies, ready to store.
struct KeyColumns<'a> {
    id: Option<std::borrow::Cow<'a, str>>,
    prefix: Option<String>,
    name: Option<&'a str>,
    bodies: Option<BodyColumns>,
}

/// A record's captured bodies, redacted and capped.
struct BodyColumns {
    request: String,
    response: Option<String>,
    truncated: bool,
}

/// Redacts and caps what the request path captured (here, off the request path).
fn body_columns(c: &CapturedBodies) -> BodyColumns {
    // Lossy decoding only ever lengthens the text: shorter means a prefix was captured.
    let whole = c.request.len() >= c.request_len;
    let (request, request_cut) = redact::cap(
        redact::redact(&c.request),
        whole,
        c.request_len,
        c.max_bytes,
    );
    let (response, response_cut) = match &c.response {
        Some(json) => {
            let text = json.to_string();
            let len = text.len();
            let (text, cut) = redact::cap(redact::redact(&text), true, len, c.max_bytes);
            (Some(text), cut)
        }
        None => (None, false),
    };
    BodyColumns {
        request,
        response,
        truncated: request_cut || response_cut,
    }
}

/// The key id as stored (see the migration).
pub(super) fn key_id(key: &KeyRef) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match key {
        KeyRef::Configured { index } => Some(Cow::Owned(format!("config:{index}"))),
        KeyRef::Stored { id, .. } => Some(Cow::Borrowed(id)),
        KeyRef::Loopback => Some(Cow::Borrowed("loopback")),
        KeyRef::None => None,
    }
}

/// `2xx`, `4xx`, …
pub(super) fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

/// Whether a request counts as an error: refused, failed, or failed in band.
pub(super) fn is_error(r: &RequestRecord) -> bool {
    r.error.is_some() || r.status >= 400
}

/// The display prefixes of stored keys, read from `api_keys` on first sight.
#[derive(Debug, Default)]
struct Prefixes(HashMap<String, Option<String>>);

impl Prefixes {
    /// Bounds the cache: keys come and go, an operator has few at a time.
    const MAX: usize = 10_000;

    async fn get(&mut self, pool: &SqlitePool, id: &str) -> Result<Option<String>, StoreError> {
        if let Some(p) = self.0.get(id) {
            return Ok(p.clone());
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT prefix FROM api_keys WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?;
        let prefix = row.map(|(p,)| p);
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(id.to_owned(), prefix.clone());
        Ok(prefix)
    }
}

/// One aggregate row's key: bucket, key id, account, model, status class.
type AggKey<'a> = (i64, &'a str, &'a str, &'a str, &'static str);

#[derive(Debug, Default, Clone, Copy)]
struct Agg {
    requests: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    credits: f64,
    latency_ms_sum: f64,
    ttft_ms_sum: f64,
    ttft_count: i64,
    upstream_ms_sum: f64,
}

impl Agg {
    fn add(&mut self, r: &RequestRecord) {
        self.requests += 1;
        self.errors += i64::from(is_error(r));
        self.input_tokens += to_i64(r.input_tokens);
        self.output_tokens += to_i64(r.output_tokens);
        self.cache_read_tokens += to_i64(r.cache_read_input_tokens);
        self.cache_write_tokens += to_i64(r.cache_creation_input_tokens);
        self.credits += r.credits;
        self.latency_ms_sum += r.latency_ms;
        if let Some(t) = r.ttft_ms {
            self.ttft_ms_sum += t;
            self.ttft_count += 1;
        }
        self.upstream_ms_sum += r.upstream_ms;
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn write(
    shared: &Shared,
    prefixes: &mut Prefixes,
    batch: &[RequestRecord],
) -> Result<(), StoreError> {
    let log_size = shared.request_log_size.load(Ordering::Relaxed);
    let pool = shared.store.sqlite();
    // Looked up before the transaction, whose first statement then is a write: a deferred
    // transaction that reads first can fail to upgrade its lock when another writer commits.
    let keys: Vec<KeyColumns<'_>> = {
        let mut keys = Vec::with_capacity(batch.len());
        for r in batch {
            let prefix = match &r.key {
                KeyRef::Stored { id, .. } => prefixes.get(pool, id).await?,
                _ => None,
            };
            keys.push(KeyColumns {
                id: key_id(&r.key),
                prefix,
                name: match &r.key {
                    KeyRef::Stored { name, .. } => Some(name.as_str()),
                    _ => None,
                },
                bodies: r
                    .bodies
                    .as_deref()
                    .filter(|_| log_size > 0)
                    .map(body_columns),
            });
        }
        keys
    };
    let mut tx = pool.begin().await?;
    if log_size > 0 {
        for (r, k) in batch.iter().zip(&keys) {
            insert_log_row(&mut tx, r, k).await?;
            if let Some(b) = &k.bodies {
                sqlx::query(
                    "INSERT INTO request_bodies (log_seq, request, response, truncated) \
                     VALUES (last_insert_rowid(), ?, ?, ?)",
                )
                .bind(&b.request)
                .bind(b.response.as_deref())
                .bind(b.truncated)
                .execute(&mut *tx)
                .await?;
            }
        }
        // Row ids grow by one per insert and only the oldest rows are ever deleted, so this
        // keeps the newest `log_size` rows.
        sqlx::query("DELETE FROM request_log WHERE seq <= (SELECT MAX(seq) FROM request_log) - ?")
            .bind(i64::try_from(log_size).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
    }
    for (table, period) in [("stats_hourly", HOUR_SECS), ("stats_daily", DAY_SECS)] {
        let mut rows: HashMap<AggKey<'_>, Agg> = HashMap::new();
        for (r, k) in batch.iter().zip(&keys) {
            let secs = r.started_at_ms.div_euclid(1000);
            let key: AggKey<'_> = (
                secs - secs.rem_euclid(period),
                k.id.as_deref().unwrap_or(""),
                r.account_id.as_deref().unwrap_or(""),
                r.model_upstream
                    .as_deref()
                    .or(r.model_requested.as_deref())
                    .unwrap_or(""),
                status_class(r.status),
            );
            rows.entry(key).or_default().add(r);
        }
        for (key, agg) in rows {
            upsert_aggregate(&mut tx, table, key, &agg).await?;
        }
    }
    if log_size == 0 {
        sqlx::query("DELETE FROM request_log")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_log_row(
    tx: &mut Transaction<'_, Sqlite>,
    r: &RequestRecord,
    k: &KeyColumns<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO request_log (request_id, started_at_ms, key_id, key_prefix, key_name, \
         client_ip, dialect, stream, model_requested, model_upstream, account_id, attempts, \
         status, stop_reason, error, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, credits, latency_ms, ttft_ms, upstream_ms, client_disconnected, \
         error_message) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.request_id)
    .bind(r.started_at_ms)
    .bind(k.id.as_deref())
    .bind(k.prefix.as_deref())
    .bind(k.name)
    .bind(r.client_ip.map(|ip| ip.to_string()))
    .bind(r.dialect)
    .bind(r.stream)
    .bind(r.model_requested.as_deref())
    .bind(r.model_upstream.as_deref())
    .bind(r.account_id.as_deref())
    .bind(i64::from(r.attempts))
    .bind(i64::from(r.status))
    .bind(r.stop_reason)
    .bind(r.error.as_deref())
    .bind(to_i64(r.input_tokens))
    .bind(to_i64(r.output_tokens))
    .bind(to_i64(r.cache_read_input_tokens))
    .bind(to_i64(r.cache_creation_input_tokens))
    .bind(r.credits)
    .bind(r.latency_ms)
    .bind(r.ttft_ms)
    .bind(r.upstream_ms)
    .bind(r.client_disconnected)
    .bind(r.error_message.as_deref().map(stored_error_message))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_aggregate(
    tx: &mut Transaction<'_, Sqlite>,
    table: &'static str,
    (bucket, key_id, account_id, model, class): AggKey<'_>,
    a: &Agg,
) -> Result<(), StoreError> {
    // `table` is one of two constants, never input.
    let sql = format!(
        "INSERT INTO {table} (bucket, key_id, account_id, model, status_class, requests, errors, \
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, credits, \
         latency_ms_sum, ttft_ms_sum, ttft_count, upstream_ms_sum) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (bucket, key_id, account_id, model, status_class) DO UPDATE SET \
         requests = requests + excluded.requests, errors = errors + excluded.errors, \
         input_tokens = input_tokens + excluded.input_tokens, \
         output_tokens = output_tokens + excluded.output_tokens, \
         cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, \
         cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, \
         credits = credits + excluded.credits, \
         latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, \
         ttft_ms_sum = ttft_ms_sum + excluded.ttft_ms_sum, \
         ttft_count = ttft_count + excluded.ttft_count, \
         upstream_ms_sum = upstream_ms_sum + excluded.upstream_ms_sum"
    );
    sqlx::query(&sql)
        .bind(bucket)
        .bind(key_id)
        .bind(account_id)
        .bind(model)
        .bind(class)
        .bind(a.requests)
        .bind(a.errors)
        .bind(a.input_tokens)
        .bind(a.output_tokens)
        .bind(a.cache_read_tokens)
        .bind(a.cache_write_tokens)
        .bind(a.credits)
        .bind(a.latency_ms_sum)
        .bind(a.ttft_ms_sum)
        .bind(a.ttft_count)
        .bind(a.upstream_ms_sum)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Drops request log rows and hourly aggregates older than the retention, daily aggregates
/// older than the daily retention, and log rows over the size (after a runtime change).
pub(super) async fn prune(shared: &Shared) -> Result<(), StoreError> {
    let days = i64::from(shared.retention_days.load(Ordering::Relaxed).max(1));
    let daily_days = i64::from(shared.daily_retention_days.load(Ordering::Relaxed).max(1));
    let log_size = shared.request_log_size.load(Ordering::Relaxed);
    let now = crate::store::unix_now();
    let cutoff_secs = now - days * DAY_SECS;
    let pool = shared.store.sqlite();
    let log = sqlx::query("DELETE FROM request_log WHERE started_at_ms < ?")
        .bind(cutoff_secs.saturating_mul(1000))
        .execute(pool)
        .await?;
    let hourly = sqlx::query("DELETE FROM stats_hourly WHERE bucket < ?")
        .bind(cutoff_secs)
        .execute(pool)
        .await?;
    let daily = sqlx::query("DELETE FROM stats_daily WHERE bucket < ?")
        .bind(now - daily_days * DAY_SECS)
        .execute(pool)
        .await?;
    if log_size == 0 {
        sqlx::query("DELETE FROM request_log").execute(pool).await?;
    } else {
        sqlx::query("DELETE FROM request_log WHERE seq <= (SELECT MAX(seq) FROM request_log) - ?")
            .bind(i64::try_from(log_size).unwrap_or(i64::MAX))
            .execute(pool)
            .await?;
    }
    if log.rows_affected() + hourly.rows_affected() + daily.rows_affected() > 0 {
        tracing::info!(
            request_log = log.rows_affected(),
            hourly = hourly.rows_affected(),
            daily = daily.rows_affected(),
            days,
            daily_days,
            "pruned statistics past their retention"
        );
    }
    Ok(())
}

/// Longest error message kept in the log, in bytes.
const ERROR_MESSAGE_MAX: usize = 500;

/// An error message as the log keeps it: secrets redacted, cut at [`ERROR_MESSAGE_MAX`] bytes.
fn stored_error_message(message: &str) -> String {
    let redacted = super::redact::redact(message);
    let len = redacted.len();
    super::redact::cap(redacted, true, len, ERROR_MESSAGE_MAX).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(529), "5xx");
        assert_eq!(status_class(0), "other");
    }

    #[test]
    fn key_ids() {
        assert_eq!(
            key_id(&KeyRef::Configured { index: 2 }).as_deref(),
            Some("config:2")
        );
        assert_eq!(key_id(&KeyRef::Loopback).as_deref(), Some("loopback"));
        assert_eq!(key_id(&KeyRef::None), None);
    }
}
