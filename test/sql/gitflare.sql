-- A Gitflare database: its tokens verify with gvx, gvx's tokens live beside them, and none of
-- its own data or schema changes.
.open gitflare.db
.read @FIXTURES@/gitflare.sql
CREATE TEMP TABLE before AS SELECT sql FROM sqlite_master WHERE name IN ('user', 'session', 'apikey');
.load @EXT@
.mode list
SELECT 'alice', gvx_verify('gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq', '198.51.100.7', 'git/2.39.5');
SELECT 'bob, name of one character', gvx_verify('gvx_QWErtyUIopASdfGHjklZXcvBNmqweRTYuiopASDFghJKLzxcvbnmQWERtyuIOP');
SELECT 'expired', gvx_check('gvx_ZZexpiredTOKENaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') ->> '$.error.code';
SELECT 'disabled', gvx_check('gvx_DDdisabledTOKENbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') ->> '$.error.code';
SELECT 'no checksum, still valid', gvx_check_format('gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq');
SELECT 'usage', name, request_count, last_request > 1736000000000 FROM apikey WHERE user_id = 'u_alice' ORDER BY created_at;
SELECT 'double-encoded metadata', gvx_list('u_alice') ->> '$[0].metadata.repo';
SELECT 'null metadata', quote(gvx_list('u_bob') ->> '$[0].metadata');
SELECT 'gvx token for a Gitflare user', gvx_verify(gvx_create('u_bob', 'made by gvx') ->> 'key');
SELECT 'schema unchanged', count(*) FROM before JOIN sqlite_master USING (sql);
SELECT 'gvx objects', group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE name LIKE 'gvx%' ORDER BY name);
PRAGMA foreign_keys = ON;
SELECT 'foreign keys', count(*) FROM pragma_foreign_key_check;
SELECT 'integrity', * FROM pragma_integrity_check;
