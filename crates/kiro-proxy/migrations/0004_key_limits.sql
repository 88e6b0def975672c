-- Client keys with limits: an optional expiry, a model allow-list and three budgets, all
-- editable with `PATCH /api/keys/{id}`. NULL means "no limit" (no expiry).
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
-- JSON array of client model names or upstream ids; empty: every model.
ALTER TABLE api_keys ADD COLUMN models TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN rpm INTEGER CHECK (rpm IS NULL OR rpm > 0);
ALTER TABLE api_keys ADD COLUMN tpm INTEGER CHECK (tpm IS NULL OR tpm > 0);
ALTER TABLE api_keys ADD COLUMN monthly_tokens INTEGER
    CHECK (monthly_tokens IS NULL OR monthly_tokens > 0);

-- Tokens (input + output + cache) each key used per calendar month (UTC, `YYYY-MM`), for the
-- monthly budget. Written in batches off the request path; deleted with the key.
CREATE TABLE api_key_monthly_usage (
    key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    month  TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    PRIMARY KEY (key_id, month)
);
