-- Captured request and reply bodies (see src/stats/): only while the operator has body capture
-- on (`PUT /api/settings` `bodyCapture`, `KIRO_CAPTURE_BODIES`). Secrets are redacted and each
-- body is capped before it is written. One row per request log row, deleted with it (pruning
-- by size or retention), so bodies never outlive the request they belong to.
CREATE TABLE request_bodies (
    log_seq   INTEGER PRIMARY KEY REFERENCES request_log (seq) ON DELETE CASCADE,
    -- The client's request body (text; a body that is not UTF-8 is stored lossily).
    request   TEXT,
    -- The reply the client got, as JSON: the response body, or the fold of a streamed reply.
    response  TEXT,
    -- Whether either body was cut at the cap.
    truncated INTEGER NOT NULL CHECK (truncated IN (0, 1))
);
