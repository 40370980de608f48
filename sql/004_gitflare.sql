-- gvx schema, version 4: living beside Gitflare (better-auth) on one database.
--
-- No view on apikey any more: SQLite's ALTER TABLE ... RENAME checks every view, and drizzle's
-- rebuild of apikey (create __new_apikey, copy, drop apikey, rename) failed on gvx_tokens
-- ("no such table: main.apikey") between its drop and its rename. gvx.so now makes gvx_tokens
-- a TEMP view of each connection that loads it, which no other connection sees.
DROP VIEW IF EXISTS gvx_tokens;

-- What gvx decided about a token, kept where better-auth does not write. better-auth's
-- verification writes back the whole apikey row it read, so a disable made through gvx between
-- its read and its write is undone in apikey, and gvx's increments are overwritten. gvx reads
-- both: a token disabled here stays disabled for gvx until gvx enables it, and request_count
-- (and last_request) never fall below what gvx last wrote. Rows of tokens that no longer exist
-- are removed by revoke and cleanup.
CREATE TABLE IF NOT EXISTS gvx_key_state (
    key_id TEXT PRIMARY KEY NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    request_count INTEGER NOT NULL DEFAULT 0,
    last_request INTEGER
) WITHOUT ROWID;
