"""test/fixtures/gitflare.sql holds what better-auth 1.4.9 really writes with Gitflare's
configuration, and the README's claims about Gitflare's tokens hold.

The real better-auth creates and verifies tokens on a database made by Gitflare's migration;
the fixture must have the same schema, and its rows the same constant columns, value types and
metadata encoding. Then, with gvx.so on the fixture: Gitflare's tokens carry
rate_limit_enabled = 0, so gvx's rate limit (once switched on) exempts them.
"""
import os
import sqlite3
import subprocess

from common import Checks, Peer, args, gitflare_db, fresh_dir, main_guard

# Columns better-auth writes the same way for every token Gitflare creates.
CONSTANT = ["prefix", "refill_interval", "refill_amount", "last_refill_at", "rate_limit_enabled",
            "rate_limit_time_window", "rate_limit_max", "request_count", "remaining", "permissions"]
METADATA = {"repo": "alice/site", "ci": True}  # the fixture's first token's metadata
README_CLAIM = "so gvx's rate limit exempts them"


def schema(conn):
    return {name: " ".join(sql.split()) for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE '\\_\\_%' "
        "ESCAPE '\\' ORDER BY name")}


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.fixture")
    db = gitflare_db(a)
    with Peer(a.peer, db, ddl=False) as peer:
        alice = peer.signup("alice")
        made = [peer.create(alice["cookie"], "CI", metadata=METADATA),
                peer.create(alice["cookie"], "x"),
                peer.create(alice["cookie"], "old laptop", expiresIn=86400)]
        for t in made:
            c.check(peer.verify(t["key"])["valid"], "better-auth verifies its token")
        real = peer.sql("SELECT *, typeof(enabled) AS t_enabled, typeof(created_at) AS t_created, "
                        "typeof(last_request) AS t_last FROM apikey ORDER BY created_at")
    real_conn = sqlite3.connect(db)
    fixture = sqlite3.connect(":memory:")
    with open(os.path.join(a.fixtures, "gitflare.sql")) as f:
        fixture.executescript(f.read())
    fixture.row_factory = sqlite3.Row

    real_schema = schema(real_conn)
    fixture_schema = schema(fixture)
    for name, sql in fixture_schema.items():
        c.check(real_schema.get(name) == sql, f"fixture's {name} is Gitflare's:\n  fixture: {sql}\n"
                f"  real:    {real_schema.get(name)}")
    c.check(set(fixture_schema) == set(real_schema) - {"__drizzle_migrations"},
            f"fixture has every table and index: {sorted(set(real_schema) ^ set(fixture_schema))}")

    rows = [dict(r) for r in fixture.execute(
        "SELECT *, typeof(enabled) AS t_enabled, typeof(created_at) AS t_created, "
        "typeof(last_request) AS t_last FROM apikey ORDER BY id")]
    for col in CONSTANT:
        want = {r[col] for r in real}
        c.check(len(want) == 1, f"better-auth writes {col} the same for every token: {want}")
        got = {r[col] for r in rows}
        c.check(got == want, f"fixture's {col}: {got}, better-auth writes {want}")
    for col in ("t_enabled", "t_created", "t_last"):
        c.check({r[col] for r in rows} == {r[col] for r in real}, f"value types of {col}")
    c.check(rows[0]["metadata"] == real[0]["metadata"],
            f"metadata encoded as better-auth does: {rows[0]['metadata']!r} vs {real[0]['metadata']!r}")
    c.check(rows[1]["metadata"] == real[1]["metadata"] == "null",
            f"no metadata is the text 'null': {rows[1]['metadata']!r} vs {real[1]['metadata']!r}")
    c.check(all(r["last_request"] is not None for r in real) and
            all(r["request_count"] == 0 for r in real),
            "better-auth's verify sets last_request and leaves request_count at 0")
    c.check(all(len(r["start"]) == 6 and r["start"].startswith(r["prefix"]) for r in rows + real),
            "start is the token's first 6 characters")

    # The README's claim: with gvx's rate limit switched on, Gitflare's tokens are exempt.
    readme = open(os.path.join(a.fixtures, "..", "..", "README.md")).read()
    c.check(README_CLAIM in readme, f"README says: {README_CLAIM!r}")
    copy = os.path.join(a.work, "fixture.db")
    subprocess.run([a.sqlite3, copy], input=open(os.path.join(a.fixtures, "gitflare.sql")).read(),
                   text=True, check=True)
    out = subprocess.run(
        [a.sqlite3, "-batch", "-bail", copy, "-cmd", f".load {a.ext}",
         "INSERT OR REPLACE INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 2);",
         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
         "SELECT count(gvx_verify('gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq')) "
         "FROM n;"], capture_output=True, text=True)
    c.check(out.returncode == 0 and out.stdout.strip() == "5",
            f"a Gitflare token verifies 5 times under a limit of 2: {out.stdout!r} {out.stderr!r}")
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
