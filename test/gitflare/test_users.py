"""Where better-auth's `user` table exists: tokens of deleted and banned users are refused, and
gvx creates no token for a user id that the table lacks.

Users are made, banned and unbanned through better-auth's own HTTP API (its admin plugin
writes user.banned / ban_expires); a user's row is deleted with foreign keys off, as happens
when a tool or a D1 console deletes it, which leaves the user's apikey rows behind.
"""
import os
import subprocess
import time

from common import (Checks, Peer, args, gitflare_db, gvx_api, gvx_authorize, gvx_fleet,
                    fresh_dir, main_guard, sqlite_rows)
from gvxtest import fcgi  # noqa: E402 - on the path common.py sets


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.users")
    db = gitflare_db(a)
    with Peer(a.peer, db, admin=True) as peer, \
            gvx_fleet(a, db, extra=["--trust-remote-user"]) as fleet:
        gvx = fleet.servers[0]
        admin = peer.signup("root")
        peer.sql("UPDATE user SET role = 'admin' WHERE id = ?", admin["userId"])
        admin = peer.signup("root")  # a new session that carries the role
        users = {name: peer.signup(name) for name in ("bob", "carol", "dave")}
        tokens = {}
        for name, u in users.items():
            by_peer = peer.create(u["cookie"], f"{name} by better-auth")["key"]
            by_gvx = gvx_api(gvx, "POST", "create", cookie=u["cookie"],
                             body={"name": f"{name} by gvx"}).json()["key"]
            tokens[name] = [by_peer, by_gvx]
            for t in tokens[name]:
                c.check(gvx_authorize(gvx, t) == (200, u["userId"]), f"{name}: verifies at first")

        def ban(name, **extra):
            r = peer.http("POST", "/admin/ban-user", cookie=admin["cookie"],
                          body={"userId": users[name]["userId"], "banReason": "test", **extra})
            c.check(r["status"] == 200, f"better-auth bans {name}: {r['status']} {r['text'][:200]}")

        def gvx_status(name):
            return [gvx_authorize(gvx, t)[0] for t in tokens[name]]

        # Banned: refused; unbanned: verifies again.
        ban("bob")
        banned = peer.sql("SELECT banned, ban_expires FROM user WHERE id = ?", users["bob"]["userId"])
        c.check(banned == [{"banned": 1, "ban_expires": None}], f"better-auth's ban row: {banned}")
        c.check(gvx_status("bob") == [401, 401], f"bob banned: gvx refuses {gvx_status('bob')}")
        r = fcgi.api(gvx.address, "GET", "list",
                            extra={"HTTP_AUTHORIZATION": "Bearer " + tokens["bob"][1]})
        c.check(r.status == 401, f"bob banned: his token is no API caller either ({r.status})")
        print(f"better-auth's own verify of a banned user's token: "
              f"{peer.verify(tokens['bob'][0])['valid']}", flush=True)
        r = peer.http("POST", "/admin/unban-user", cookie=admin["cookie"],
                      body={"userId": users["bob"]["userId"]})
        c.check(r["status"] == 200, f"better-auth unbans bob: {r['status']}")
        c.check(gvx_status("bob") == [200, 200], f"bob unbanned: gvx verifies {gvx_status('bob')}")

        # A ban that has run out is no ban (better-auth lifts it at the next sign-in).
        ban("dave", banExpiresIn=1)
        c.check(gvx_status("dave") == [401, 401], f"dave banned for 1 s: {gvx_status('dave')}")
        time.sleep(1.3)
        c.check(gvx_status("dave") == [200, 200], f"dave's ban ran out: {gvx_status('dave')}")

        # Deleted with foreign keys off: the apikey rows stay, the user is gone.
        peer.sql("PRAGMA foreign_keys = OFF")
        peer.sql("DELETE FROM session WHERE user_id = ?", users["carol"]["userId"])
        peer.sql("DELETE FROM user WHERE id = ?", users["carol"]["userId"])
        peer.sql("PRAGMA foreign_keys = ON")
        left = peer.sql("SELECT count(*) AS n FROM apikey WHERE user_id = ?", users["carol"]["userId"])
        c.check(left == [{"n": 2}], f"carol's apikey rows are left behind: {left}")
        c.check(gvx_status("carol") == [401, 401], f"carol deleted: gvx refuses {gvx_status('carol')}")
        outcome = sqlite_rows(a.sqlite3, db, "SELECT outcome FROM gvx_activity "
                              "ORDER BY id DESC LIMIT 1")
        print(f"activity outcome for a deleted user's token: {outcome}", flush=True)

        # No token for a user id the user table lacks: over HTTP and through gvx.so.
        before = peer.sql("SELECT count(*) AS n FROM apikey")
        r = fcgi.api(gvx.address, "POST", "create", user="nobody", body={"name": "ghost"})
        c.check(r.status == 403 and r.json().get("code") == "USER_NOT_FOUND",
                f"gvx-fcgi refuses to create for a non-user: {r.status} {r.body!r}")
        r = fcgi.api(gvx.address, "POST", "create", user=users["carol"]["userId"],
                            body={"name": "ghost"})
        c.check(r.status == 403, f"gvx-fcgi refuses to create for the deleted user: {r.status}")
        r = fcgi.api(gvx.address, "POST", "create", user=users["bob"]["userId"],
                            body={"name": "still a user"})
        c.check(r.status == 200, f"gvx-fcgi creates for a user: {r.status}")
        shell = subprocess.run([a.sqlite3, "-batch", "-bail", db, "-cmd", f".load {a.ext}",
                                "SELECT gvx_create('nobody', 'ghost')"], capture_output=True, text=True)
        c.check(shell.returncode != 0 and "gvx_create" in shell.stderr and "no user" in shell.stderr,
                f"gvx_create refuses a non-user: rc {shell.returncode} {shell.stderr.strip()}")
        after = peer.sql("SELECT count(*) AS n FROM apikey")
        c.check(after[0]["n"] == before[0]["n"] + 1, f"only the real user's token was added: "
                f"{before} -> {after}")
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
