-- gvx schema, version 3: refused verifications are counted, not logged one by one, so that
-- clients without a valid token cannot grow the database without bound (SPEC §14).
--
-- A refusal (outcome other than OK) adds to the row of the same token (key_id; NULL for a
-- credential that names no token), outcome, client address, user agent and token start that
-- began less than a minute earlier: count grows and last_at moves. Past a cap (gvx_config
-- activity_unknown_max_rows, activity_refusals_per_token) refusals are added to one row per
-- token and outcome with ip = '' and key_start = ''. Successful verifications keep one row each.
ALTER TABLE gvx_activity ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE gvx_activity ADD COLUMN last_at INTEGER;
CREATE INDEX IF NOT EXISTS gvx_activity_refusal
    ON gvx_activity(key_id, outcome, ip, key_start, at) WHERE outcome <> 'OK';
