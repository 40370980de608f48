-- gvx schema, version 1.
--
-- apikey is better-auth's API-key table exactly as Gitflare has it (same columns, types and
-- defaults; times are INTEGER milliseconds, booleans 0/1). On a database that already has it,
-- CREATE TABLE IF NOT EXISTS leaves it untouched: gvx only adds indexes and its own gvx_* objects.

CREATE TABLE IF NOT EXISTS apikey (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    start TEXT,
    prefix TEXT,
    key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    refill_interval INTEGER,
    refill_amount INTEGER,
    last_refill_at INTEGER,
    enabled INTEGER DEFAULT 1,
    rate_limit_enabled INTEGER DEFAULT 1,
    rate_limit_time_window INTEGER DEFAULT 86400000,
    rate_limit_max INTEGER DEFAULT 10,
    request_count INTEGER DEFAULT 0,
    remaining INTEGER,
    last_request INTEGER,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    permissions TEXT,
    metadata TEXT
);

-- Verification looks tokens up by hash; lists by owner, oldest first; cleanup by expiry.
CREATE INDEX IF NOT EXISTS gvx_apikey_key ON apikey(key);
CREATE INDEX IF NOT EXISTS gvx_apikey_user ON apikey(user_id, created_at);
CREATE INDEX IF NOT EXISTS gvx_apikey_expires ON apikey(expires_at) WHERE expires_at IS NOT NULL;

-- Settings both gvx.so and gvx-fcgi honour (see README, "Configuration").
CREATE TABLE IF NOT EXISTS gvx_config (
    name TEXT PRIMARY KEY NOT NULL,
    value
) WITHOUT ROWID;

-- One row per verification, successful or not. key_id is NULL for an unknown token, whose
-- first 6 characters alone are kept in key_start. Pruned by gvx_purge_expired().
CREATE TABLE IF NOT EXISTS gvx_activity (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    key_id TEXT,
    key_start TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS gvx_activity_key ON gvx_activity(key_id, at);
CREATE INDEX IF NOT EXISTS gvx_activity_at ON gvx_activity(at);

-- Fixed-window rate limiting: the window a token is in and how many requests it admitted.
CREATE TABLE IF NOT EXISTS gvx_rate_window (
    key_id TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
) WITHOUT ROWID;

-- A user's tokens without their hashes: SELECT * FROM gvx_tokens WHERE user_id = 'alice'.
CREATE VIEW IF NOT EXISTS gvx_tokens AS
SELECT id, name, start, prefix, user_id, enabled, created_at, updated_at, expires_at,
       last_request, request_count, remaining, rate_limit_enabled, rate_limit_time_window,
       rate_limit_max, metadata
FROM apikey;
