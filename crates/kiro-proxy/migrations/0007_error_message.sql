-- What the client was told when a request failed (redacted of secrets and capped when written),
-- so the request log says why without turning on body capture.
ALTER TABLE request_log ADD COLUMN error_message TEXT;
