-- Initial schema. Timestamps are Unix seconds (UTC). Secrets live only in `accounts.credentials`,
-- sealed with the master key (see src/crypto.rs); client keys and the admin token only as SHA-256.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    auth_method   TEXT NOT NULL CHECK (auth_method IN ('social', 'idc', 'apiKey')),
    label         TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    weight        INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
    api_region    TEXT NOT NULL,
    auth_region   TEXT NOT NULL,
    profile_arn   TEXT,
    start_url     TEXT,
    machine_id    TEXT NOT NULL,
    -- Sealed JSON of the credentials: `v1:` + base64(nonce || AES-256-GCM ciphertext).
    credentials   TEXT NOT NULL,
    -- Health state, written by the pool.
    status        TEXT NOT NULL DEFAULT 'active',
    status_reason TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    -- First 8 characters of the key: lets an operator recognise a key without revealing it.
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL, -- JSON
    updated_at INTEGER NOT NULL
);
