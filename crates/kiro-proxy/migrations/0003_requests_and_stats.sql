-- The request log and the statistics aggregates (see src/stats/). Written in batches by a
-- background task, never on the request path. No prompt or completion text is stored.
--
-- Key columns: a stored key's id, `config:<index>` for a key of KIRO_API_KEYS, `loopback` for
-- a keyless loopback client; NULL in the log (and '' in the aggregates) when the request was
-- refused before a key was recognised.

-- The most recent requests (capped at `stats.request_log_size` rows, pruned by
-- `stats.retention_days`). Times are Unix milliseconds.
CREATE TABLE request_log (
    seq                 INTEGER PRIMARY KEY,
    request_id          TEXT NOT NULL,
    started_at_ms       INTEGER NOT NULL,
    key_id              TEXT,
    key_prefix          TEXT,
    key_name            TEXT,
    client_ip           TEXT,
    dialect             TEXT NOT NULL,
    stream              INTEGER NOT NULL CHECK (stream IN (0, 1)),
    model_requested     TEXT,
    model_upstream      TEXT,
    account_id          TEXT,
    attempts            INTEGER NOT NULL,
    status              INTEGER NOT NULL,
    stop_reason         TEXT,
    error               TEXT,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    cache_read_tokens   INTEGER NOT NULL,
    cache_write_tokens  INTEGER NOT NULL,
    credits             REAL NOT NULL,
    latency_ms          REAL NOT NULL,
    ttft_ms             REAL,
    upstream_ms         REAL NOT NULL,
    client_disconnected INTEGER NOT NULL CHECK (client_disconnected IN (0, 1))
);
CREATE INDEX request_log_time ON request_log (started_at_ms, seq);
CREATE INDEX request_log_request_id ON request_log (request_id);

-- Aggregates per hour and per day (bucket = Unix seconds of the period's start, UTC), per key,
-- account, model (the upstream id, else the one asked for) and status class (`2xx`, `4xx`,
-- `5xx`, …). `errors` counts requests that failed, before or during the reply.
CREATE TABLE stats_hourly (
    bucket             INTEGER NOT NULL,
    key_id             TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    model              TEXT NOT NULL,
    status_class       TEXT NOT NULL,
    requests           INTEGER NOT NULL,
    errors             INTEGER NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    credits            REAL NOT NULL,
    latency_ms_sum     REAL NOT NULL,
    ttft_ms_sum        REAL NOT NULL,
    ttft_count         INTEGER NOT NULL,
    upstream_ms_sum    REAL NOT NULL,
    PRIMARY KEY (bucket, key_id, account_id, model, status_class)
) WITHOUT ROWID;

CREATE TABLE stats_daily (
    bucket             INTEGER NOT NULL,
    key_id             TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    model              TEXT NOT NULL,
    status_class       TEXT NOT NULL,
    requests           INTEGER NOT NULL,
    errors             INTEGER NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    credits            REAL NOT NULL,
    latency_ms_sum     REAL NOT NULL,
    ttft_ms_sum        REAL NOT NULL,
    ttft_count         INTEGER NOT NULL,
    upstream_ms_sum    REAL NOT NULL,
    PRIMARY KEY (bucket, key_id, account_id, model, status_class)
) WITHOUT ROWID;
