-- Least privilege in SQL (SPEC §13): permissions on gvx_create, gvx_check asked for a
-- permission, gvx_rotate with and without grace, the lifetime cap, hostile permissions.
.open scopes.db
.load @EXT@
.mode list
CREATE TEMP TABLE t AS SELECT
    gvx_create('alice', 'clone only', NULL, NULL, NULL, '{"repo":["read"]}') AS ro,
    gvx_create('alice', 'deploy', NULL, NULL, '{"env":"prod"}',
               '{"repo:alice/project":["read","write"]}') AS one,
    gvx_create('alice', 'full') AS full;
SELECT 'returned', ro ->> '$.permissions.repo', one -> 'permissions', quote(full ->> 'permissions') FROM t;
SELECT 'stored', name, quote(permissions) FROM apikey ORDER BY rowid;
SELECT 'view', name, quote(permissions) FROM gvx_tokens ORDER BY created_at, name;
SELECT 'listed', gvx_list('alice') -> '$[0].permissions';
-- gvx_verify asks for no permission: every live token verifies.
SELECT 'verify', gvx_verify(ro ->> 'key'), gvx_verify(one ->> 'key'), gvx_verify(full ->> 'key') FROM t;
-- gvx_check(token, ip, user_agent, permissions): better-auth's rule; repo covers repo:<path>.
SELECT 'ro read', gvx_check(ro ->> 'key', NULL, NULL, '{"repo":["read"]}') ->> 'valid' FROM t;
SELECT 'ro write', gvx_check(ro ->> 'key', '198.51.100.7', 'git/2.39.5', '{"repo":["write"]}') -> 'error' FROM t;
SELECT 'ro one repo', gvx_check(ro ->> 'key', NULL, NULL, '{"repo:bob/x":["read"]}') ->> 'valid' FROM t;
SELECT 'one here', gvx_check(one ->> 'key', NULL, NULL, '{"repo:alice/project":["read","write"]}') ->> 'valid' FROM t;
SELECT 'one elsewhere', gvx_check(one ->> 'key', NULL, NULL, '{"repo:alice/other":["read"]}') ->> '$.error.code' FROM t;
SELECT 'one everywhere', gvx_check(one ->> 'key', NULL, NULL, '{"repo":["read"]}') ->> '$.error.code' FROM t;
SELECT 'full', gvx_check(full ->> 'key', NULL, NULL, '{"repo:any/thing":["read","write"]}') ->> 'valid' FROM t;
SELECT 'empty request', gvx_check(full ->> 'key', NULL, NULL, '{}') ->> '$.error.code' FROM t;
SELECT 'other app', gvx_check(full ->> 'key', NULL, NULL, '{"files":["read"]}') ->> '$.error.code' FROM t;
SELECT 'refusal logged', outcome, ip, user_agent FROM gvx_activity WHERE outcome <> 'OK' ORDER BY id LIMIT 1;
SELECT 'refusals do not count', request_count FROM apikey WHERE name = 'clone only';
-- A column better-auth wrote, and one nobody can read.
UPDATE apikey SET permissions = '"{\"repo\":[\"write\"]}"' WHERE name = 'full';
SELECT 'double-encoded', gvx_check(full ->> 'key', NULL, NULL, '{"repo":["write"]}') ->> 'valid',
       gvx_check(full ->> 'key', NULL, NULL, '{"repo":["read"]}') ->> 'valid' FROM t;
UPDATE apikey SET permissions = '{"repo":"read,write"}' WHERE name = 'full';
SELECT 'unreadable', gvx_check(full ->> 'key', NULL, NULL, '{"repo":["read"]}') ->> '$.error.code',
       gvx_list('alice') -> '$[2].permissions' FROM t;
UPDATE apikey SET permissions = NULL WHERE name = 'full';
-- Rotation: same name, permissions and metadata; the old token stops at once by default.
CREATE TEMP TABLE r AS SELECT gvx_rotate(one ->> 'id') AS new FROM t;
SELECT 'rotated', new ->> 'name', new -> 'permissions', new -> 'metadata', length(new ->> 'key'),
       (new ->> 'id') <> (one ->> 'id') FROM r, t;
SELECT 'old stops', quote(gvx_verify(one ->> 'key')), gvx_verify(new ->> 'key') FROM r, t;
CREATE TEMP TABLE g AS SELECT gvx_rotate(ro ->> 'id', 3600000) AS new FROM t;
SELECT 'grace', gvx_verify(ro ->> 'key'), gvx_verify(new ->> 'key'),
       (SELECT expires_at - CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) BETWEEN 3590000 AND 3610000
        FROM apikey WHERE id = ro ->> 'id') FROM g, t;
SELECT 'rotate unknown', quote(gvx_rotate('no-such-id'));
SELECT 'rotate null', quote(gvx_rotate(NULL));
-- The lifetime cap counts from created_at, also for a rotated token.
INSERT INTO gvx_config (name, value) VALUES ('max_token_lifetime_ms', 86400000);
CREATE TEMP TABLE c AS SELECT gvx_create('alice', 'capped') AS capped;
SELECT 'capped', (capped ->> 'expiresAt') - (capped ->> 'createdAt') FROM c;
CREATE TEMP TABLE cr AS SELECT gvx_rotate(capped ->> 'id') AS new FROM c;
SELECT 'capped rotated', (new ->> 'expiresAt') - (new ->> 'createdAt') FROM cr;
DELETE FROM gvx_config;
-- Hostile permissions: each an error naming what is wrong; nothing is created.
SELECT count(*) FROM apikey;
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"issues":["read"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo":["read","admin"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo:alice/../bob":["read"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo:alice/%2e%2e/bob":["read"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo:alice//x":["read"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo:alice/x.git":["read"]}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo":"read"}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '["repo"]');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo":["read"]');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, '{"repo":[' || substr(replace(hex(zeroblob(20)), '00', '"read",'), 1, 139) || ']}');
SELECT gvx_create('alice', 'bad', NULL, NULL, NULL, 42);
SELECT gvx_check(key, NULL, NULL, 'not json') FROM (SELECT 'gvx_x' AS key);
SELECT gvx_rotate((SELECT id FROM apikey LIMIT 1), -1);
SELECT gvx_rotate((SELECT id FROM apikey LIMIT 1), 604800001);
SELECT count(*) FROM apikey;
