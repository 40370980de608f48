"""drizzle's rebuild of apikey succeeds on a database gvx shares, and gvx restores its indexes.

A better-auth schema change that SQLite cannot ALTER makes drizzle-kit generate a table
rebuild: create `__new_apikey`, copy, drop `apikey`, rename. The migration below is what
drizzle-kit writes for a change of a column default on Gitflare's apikey (plus the indexes
better-auth's schema declares); it runs through drizzle's real migrator (one transaction) and,
on a second file, statement by statement without a transaction (as D1 applies a file).

Also the unsupported order: on a database gvx created first, Gitflare's first migration stops at
CREATE TABLE `apikey` (README "Sharing a database with Gitflare").
"""
import os
import re

from common import (Checks, Peer, PeerError, args, gitflare_db, gvx_api, gvx_authorize,
                    gvx_fleet, fresh_dir, index_names, main_guard, migration_statements,
                    write_migrations)
from gvxtest import fcgi  # noqa: E402 - on the path common.py sets

GVX_INDEXES = ["gvx_apikey_expires", "gvx_apikey_key", "gvx_apikey_user"]


def rebuild_statements(fixtures):
    """drizzle-kit's rebuild of Gitflare's apikey, rate_limit_enabled now defaulting to false."""
    create = next(s for s in migration_statements(fixtures) if s.startswith("CREATE TABLE `apikey`"))
    columns = re.findall(r"^\s*`(\w+)` ", create, re.M)
    new = create.replace("CREATE TABLE `apikey`", "CREATE TABLE `__new_apikey`")
    new = new.replace("`rate_limit_enabled` integer DEFAULT true",
                      "`rate_limit_enabled` integer DEFAULT false")
    quoted = ", ".join(f'"{c}"' for c in columns)
    return ["PRAGMA foreign_keys=OFF;",
            new + "\n",
            f"INSERT INTO `__new_apikey`({quoted}) SELECT {quoted} FROM `apikey`;",
            "DROP TABLE `apikey`;",
            "ALTER TABLE `__new_apikey` RENAME TO `apikey`;",
            "PRAGMA foreign_keys=ON;",
            "CREATE INDEX `apikey_key_idx` ON `apikey` (`key`);",
            "CREATE INDEX `apikey_userId_idx` ON `apikey` (`user_id`);"]


def shared_db_rebuild(a, c, how):
    db = gitflare_db(a, name=f"{how}.db")
    folder = write_migrations(os.path.join(a.work, f"{how}-migrations"), [
        ("0000_flowery_shatterstar", migration_statements(a.fixtures)),
        ("0001_apikey_rebuild", rebuild_statements(a.fixtures))])
    with Peer(a.peer, db, ddl=False) as peer, gvx_fleet(a, db) as fleet:
        gvx = fleet.servers[0]
        alice = peer.signup("alice")
        by_peer = peer.create(alice["cookie"], "made by better-auth")
        by_gvx = gvx_api(gvx, "POST", "create", cookie=alice["cookie"],
                         body={"name": "made by gvx", "metadata": {"ci": True}}).json()
        for t in (by_peer, by_gvx):
            c.check(gvx_authorize(gvx, t["key"])[0] == 200, f"{how}: gvx verifies before")
        c.check(index_names(peer) == GVX_INDEXES, f"{how}: gvx's indexes before: {index_names(peer)}")
        rows_before = peer.sql("SELECT id, key, user_id, request_count, metadata FROM apikey ORDER BY id")

        try:
            if how == "drizzle-migrator":
                peer.call("migrate", folder=folder)
            else:
                with open(os.path.join(folder, "0001_apikey_rebuild.sql")) as f:
                    peer.call("exec", sql=f.read())
            c.check(True, f"{how}: the rebuild ran")
        except PeerError as e:
            c.check(False, f"{how}: the rebuild failed: {e}")
        tables = [r["name"] for r in peer.sql(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '%apikey'")]
        c.check(tables == ["apikey"], f"{how}: apikey is there, __new_apikey is not: {tables}")
        c.check(peer.sql("SELECT id, key, user_id, request_count, metadata FROM apikey ORDER BY id")
                == rows_before, f"{how}: every row came through the rebuild")
        default = [r["dflt_value"] for r in peer.sql("SELECT * FROM pragma_table_info('apikey')")
                   if r["name"] == "rate_limit_enabled"]
        c.check(default == ["false"], f"{how}: the new table is drizzle's: default {default}")
        after_rebuild = index_names(peer)
        print(f"{how}: indexes on apikey right after the rebuild: {after_rebuild}", flush=True)

        # The running gvx-fcgi restores its indexes by itself at its next use.
        for t in (by_peer, by_gvx):
            c.check(gvx_authorize(gvx, t["key"])[0] == 200, f"{how}: gvx verifies after")
            c.check(peer.verify(t["key"])["valid"], f"{how}: better-auth verifies after")
        restored = index_names(peer)
        c.check(restored == sorted(GVX_INDEXES + ["apikey_key_idx", "apikey_userId_idx"]),
                f"{how}: gvx restored its indexes: {restored}")
        plan = peer.sql("EXPLAIN QUERY PLAN SELECT id FROM apikey WHERE key = ?", "x")
        c.check(any("INDEX" in r["detail"] for r in plan), f"{how}: lookups by key use an index")
        r = gvx_api(gvx, "GET", "list", cookie=alice["cookie"])
        c.check(r.status == 200 and len(r.json()) == 2, f"{how}: gvx lists both after: {r.status}")
        integrity = peer.sql("PRAGMA integrity_check")
        c.check(integrity == [{"integrity_check": "ok"}], f"{how}: integrity {integrity}")
        fk = peer.sql("PRAGMA foreign_key_check")
        c.check(fk == [], f"{how}: foreign keys hold: {fk}")


def gvx_first(a, c):
    """The unsupported order: gvx made the file, then Gitflare's first migration runs."""
    db = os.path.join(a.work, "gvx-first.db")
    with gvx_fleet(a, db, extra=["--trust-remote-user"]) as fleet:
        r = fcgi.api(fleet.servers[0].address, "POST", "create", user="alice",
                            body={"name": "made first"})
        c.check(r.status == 200, f"gvx-first: gvx made its schema and a token ({r.status})")
        token = r.json()["key"]
    folder = write_migrations(os.path.join(a.work, "gvx-first-migrations"),
                              [("0000_flowery_shatterstar", migration_statements(a.fixtures))])
    with Peer(a.peer, db, ddl=False) as peer:
        try:
            peer.call("migrate", folder=folder)
            c.check(False, "gvx-first: Gitflare's migration unexpectedly succeeded")
        except PeerError as e:
            c.check("CREATE TABLE `apikey`" in str(e),
                    f"gvx-first: Gitflare's migration stops at apikey: {e}")
        tables = sorted(r["name"] for r in peer.sql(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'gvx%' "
            "AND name NOT LIKE '\\_\\_%' ESCAPE '\\'"))
        c.check(tables == ["apikey"], f"gvx-first: drizzle rolled the whole migration back: {tables}")

    # The README's way out: a new file made by Gitflare's migrations, the tokens copied over.
    moved = gitflare_db(a, name="moved.db")
    with Peer(a.peer, moved, ddl=False) as peer:
        peer.sql("INSERT INTO user (id, name, email, email_verified, created_at, updated_at) "
                 "VALUES ('alice', 'Alice', 'alice@example.com', 1, 0, 0)")
        peer.sql(f"ATTACH '{db}' AS old")
        peer.sql("INSERT INTO apikey SELECT * FROM old.apikey")
        peer.sql("DETACH old")
        c.check(peer.verify(token)["valid"], "moved: better-auth verifies the copied token")
    with gvx_fleet(a, moved) as fleet:
        c.check(gvx_authorize(fleet.servers[0], token) == (200, "alice"),
                "moved: gvx verifies the copied token")


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.rebuild")
    shared_db_rebuild(a, c, "drizzle-migrator")
    shared_db_rebuild(a, c, "statement-by-statement")
    gvx_first(a, c)
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
