-- The audit trail of changes made in SQL (sql/006_audit.sql): each gvx_create, gvx_rotate and
-- gvx_revoke leaves one entry, by the system user of the program that loaded gvx.so (via
-- 'sql'), with what changed and never the token; failed calls leave none; cleanup removes
-- entries past audit_retention_ms.
.open audit.db
.load @EXT@
.mode list
CREATE TEMP TABLE t AS SELECT gvx_create('alice', 'CI pipeline', NULL, NULL, NULL, '{"repo":["read"]}') AS created;
SELECT 'create', action, key_id = (SELECT created ->> 'id' FROM t), key_name, owner, via,
       actor <> '', user_agent <> '', ip, detail FROM gvx_audit;
CREATE TEMP TABLE r AS SELECT gvx_rotate((SELECT created ->> 'id' FROM t), 60000) AS rotated;
SELECT 'rotate', action, key_name, detail ->> 'newKeyId' = (SELECT rotated ->> 'id' FROM r),
       detail ->> 'graceMs' FROM gvx_audit WHERE action = 'rotate';
SELECT 'revoke', gvx_revoke((SELECT rotated ->> 'id' FROM r));
SELECT 'revoked', action, key_id = (SELECT rotated ->> 'id' FROM r), quote(detail)
       FROM gvx_audit WHERE action = 'delete';
SELECT 'failures leave nothing', gvx_revoke('no such token'), gvx_revoke((SELECT created ->> 'id' FROM t), 'bob');
SELECT 'no rotation of nothing', quote(gvx_rotate('no such token'));
SELECT 'count', count(*) FROM gvx_audit;
SELECT 'no token or hash', count(*) FROM gvx_audit, t, r
 WHERE instr(coalesce(detail, '') || key_id || coalesce(key_name, ''), substr(created ->> 'key', 5)) > 0
    OR instr(coalesce(detail, '') || key_id, substr(rotated ->> 'key', 5)) > 0
    OR instr(coalesce(detail, ''), (SELECT key FROM apikey LIMIT 1)) > 0;
SELECT 'actions newest first', group_concat(action, ',') FROM (SELECT action FROM gvx_audit ORDER BY at DESC, id DESC);
INSERT INTO gvx_config (name, value) VALUES ('audit_retention_ms', 1000);
SELECT 'dry run', gvx_cleanup(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 60000, 1) ->> 'audit';
SELECT 'cleanup', gvx_cleanup(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 60000) ->> 'audit';
SELECT 'after cleanup', count(*) FROM gvx_audit;
