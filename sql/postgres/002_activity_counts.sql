-- gvx schema for PostgreSQL, version 2: what sql/002 and sql/003 did on SQLite.
--
-- Refused verifications are counted, not logged one by one, so that clients without a valid
-- token cannot grow the database without bound (SPEC §14). A refusal (outcome other than OK)
-- adds to the row of the same token (key_id; NULL for a credential that names no token),
-- outcome, client address, user agent and token start that began less than a minute earlier:
-- count grows and last_at moves. Past a cap (gvx_config activity_unknown_max_rows,
-- activity_refusals_per_token) refusals are added to one row per token and outcome with
-- ip = '' and key_start = ''. Successful verifications keep one row each.
ALTER TABLE gvx_activity ADD COLUMN IF NOT EXISTS count bigint NOT NULL DEFAULT 1;
ALTER TABLE gvx_activity ADD COLUMN IF NOT EXISTS last_at bigint;
-- The same columns as SQLite's gvx_activity_refusal, with key_id as coalesce(key_id, ''): a
-- btree finds "no token" by equality then, in the one statement that records any refusal
-- (token ids are never empty).
CREATE INDEX IF NOT EXISTS gvx_activity_refusal
    ON gvx_activity (coalesce(key_id, ''), outcome, ip, key_start, at) WHERE outcome <> 'OK';

-- gvx_tokens shows each token's permissions (SPEC §13): better-auth's JSON, NULL = read and
-- write on every repository. A view holds no data; the new column comes last.
CREATE OR REPLACE VIEW gvx_tokens AS
SELECT id, name, start, prefix, user_id, enabled, created_at, updated_at, expires_at,
       last_request, request_count, remaining, rate_limit_enabled, rate_limit_time_window,
       rate_limit_max, metadata, permissions
FROM apikey;
