-- gvx_tokens shows each token's permissions (SPEC §13): better-auth's JSON, NULL = read and
-- write on every repository. Views hold no data: dropping and recreating it loses nothing.
DROP VIEW IF EXISTS gvx_tokens;
CREATE VIEW gvx_tokens AS
SELECT id, name, start, prefix, user_id, enabled, created_at, updated_at, expires_at,
       last_request, request_count, remaining, rate_limit_enabled, rate_limit_time_window,
       rate_limit_max, metadata, permissions
FROM apikey;
