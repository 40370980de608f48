-- gvx schema, version 6: the audit trail.
--
-- One row per change made through gvx (create, update, disable, enable, rotate, delete), in the
-- change's own transaction: when (at, ms), what (action, detail: JSON of what changed), which
-- token (key_id, key_name: its name then), whose (owner: its user_id), who (actor, via:
-- session, remote_user, token, admin, sql) and from where (ip, user_agent). Never a token or
-- its hash. Read by the owner through GET /audit, by the operator with `gvx audit` or SQL;
-- pruned by cleanup after audit_retention_ms.

CREATE TABLE IF NOT EXISTS gvx_audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key_name TEXT,
    owner TEXT NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail TEXT
);
CREATE INDEX IF NOT EXISTS gvx_audit_owner ON gvx_audit(owner, at);
CREATE INDEX IF NOT EXISTS gvx_audit_key ON gvx_audit(key_id, at);
CREATE INDEX IF NOT EXISTS gvx_audit_at ON gvx_audit(at);
