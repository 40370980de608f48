-- The round trip of the extension on an empty file: create, verify, usage, revoke.
.open basic.db
.load @EXT@
.mode list
CREATE TEMP TABLE t AS SELECT gvx_create('alice', 'CI pipeline') AS created;
SELECT 'key shape', length(created ->> 'key') = 68 AND (created ->> 'key') GLOB 'gvx_*'
       AND gvx_check_format(created ->> 'key') FROM t;
SELECT 'response fields', created ->> 'name', created ->> 'userId', created ->> 'prefix',
       created ->> 'enabled', created ->> 'requestCount', quote(created ->> 'expiresAt'),
       quote(created ->> 'lastRequest'), length(created ->> 'id') FROM t;
SELECT 'start', (created ->> 'start') = substr(created ->> 'key', 1, 6) FROM t;
SELECT 'stored hash only', key = gvx_key_hash(t.created ->> 'key'), length(key)
       FROM apikey, t WHERE apikey.id = t.created ->> 'id';
SELECT 'verify', gvx_verify(created ->> 'key') FROM t;
SELECT 'verify again', gvx_verify(created ->> 'key', '203.0.113.9', 'git/2.39.5') FROM t;
SELECT 'usage', request_count, last_request IS NOT NULL FROM gvx_tokens;
SELECT 'activity', outcome, ip, user_agent FROM gvx_activity ORDER BY id;
SELECT 'check ok', gvx_check(created ->> 'key') ->> 'valid',
       gvx_check(created ->> 'key') ->> '$.key.requestCount' FROM t;
SELECT 'list has no key', json_array_length(gvx_list('alice')),
       gvx_list('alice') ->> '$[0].key' IS NULL, gvx_list('alice') ->> '$[0].name';
SELECT 'revoke', gvx_revoke(created ->> 'id') FROM t;
SELECT 'revoked', quote(gvx_verify(created ->> 'key')) FROM t;
SELECT 'check revoked', gvx_check(created ->> 'key') FROM t;
SELECT 'revoke twice', gvx_revoke(created ->> 'id') FROM t;
SELECT 'other user''s', gvx_revoke(gvx_create('bob', 'bob token') ->> 'id', 'alice');
SELECT 'expiry', quote(gvx_verify(gvx_create('alice', 'expiring', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 100000) ->> 'key'));
SELECT 'custom prefix', substr(gvx_create('alice', 'prefixed', NULL, 'acme_') ->> 'key', 1, 5);
SELECT 'metadata', gvx_create('alice', 'with metadata', NULL, NULL, '{"team":"web"}') ->> '$.metadata.team';
SELECT 'purge', gvx_purge_expired(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 200000);
SELECT 'left', count(*) FROM apikey;
SELECT 'cleanup', gvx_cleanup(NULL, 1);
SELECT 'wal', * FROM pragma_journal_mode;
