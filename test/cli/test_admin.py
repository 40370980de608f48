#!/usr/bin/env python3
"""The gvx admin command from the outside: create, list, revoke, rotate, find, its errors, and that
the token is printed once, by create (or rotate), and nowhere else.

Run by CTest with --gvx (the command), --ext (gvx.so) and --sqlite3.
"""
import argparse
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
DAY = 86_400_000


class AdminCommand(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gvx-admin-")
        self.db = os.path.join(self.dir, "gvx.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def gvx(self, *args, stdin=""):
        return subprocess.run([ARGS.gvx, *args], input=stdin, capture_output=True, text=True,
                              timeout=30)

    def ok(self, *args, stdin=""):
        r = self.gvx(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0, f"gvx {' '.join(args)}: {r.stderr}")
        return r

    def fails(self, code, message, *args, stdin=""):
        r = self.gvx(*args, stdin=stdin)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(message, r.stderr)
        self.assertEqual(r.stdout, "")
        return r

    def create(self, user="alice", name="laptop", *more):
        r = self.ok("create", "--db", self.db, "--user", user, "--name", name, *more)
        token = r.stdout.strip()
        self.assertRegex(token, r"^gvx_[A-Za-z0-9]{64}$")
        self.assertNotIn(token, r.stderr)
        return token, r.stderr

    def sql(self, statement):
        ext = os.path.splitext(ARGS.ext)[0]
        r = subprocess.run([ARGS.sqlite3, "-bail", "-batch", self.db, f".load {ext}", statement],
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()

    def tokens(self, *more):
        return json.loads(self.ok("list", "--db", self.db, "--json", *more).stdout)

    # -- the dispatcher --------------------------------------------------------------------

    def test_version_help_and_unknown_commands(self):
        r = self.ok("--version")
        self.assertRegex(r.stdout, r"^gvx \d+\.\d+\.\d+ ")
        r = self.ok("--help")
        for name in ("create", "list", "revoke", "rotate", "audit", "find"):
            self.assertIn(f"\n  {name} ", r.stdout)
        self.assertIn("usage: gvx create", self.ok("help", "create").stdout)
        self.assertIn("usage: gvx list", self.ok("list", "--help").stdout)
        self.fails(2, "unknown command 'frobnicate'", "frobnicate")
        self.fails(2, "unknown option --frob", "--frob")
        r = self.gvx()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: gvx COMMAND", r.stderr)

    def test_bad_arguments_are_refused_with_a_message(self):
        self.fails(2, "--db is required", "list")
        self.fails(2, "unknown option --frob", "list", "--db", self.db, "--frob")
        self.fails(2, "--user is required", "create", "--db", self.db, "--name", "laptop")
        self.fails(2, "--name is required", "create", "--db", self.db, "--user", "alice")
        self.fails(2, "--db needs a value", "list", "--db")
        self.fails(2, "--db is given twice", "list", "--db", self.db, "--db", self.db)
        self.fails(2, "unexpected argument extra", "list", "--db", self.db, "extra")
        self.fails(2, "--json takes no value", "list", "--db", self.db, "--json=yes")
        self.fails(2, "ID is required", "revoke", "--db", self.db)
        self.fails(2, "too many arguments", "revoke", "--db", self.db, "a", "b")
        for days in ("0", "-1", "abc", "1.5", "36501", ""):
            self.fails(2, "--expires-in must be a positive number of days", "create", "--db",
                       self.db, "--user", "alice", "--name", "laptop", "--expires-in", days)
        # A database that does not exist is not created by a typo.
        self.fails(2, "no database at", "list", "--db", self.db)
        self.fails(2, "no database at", "revoke", "--db", self.db, "x")
        self.fails(2, "no database at", "find", "--db", self.db, stdin="gvx_x")
        self.assertFalse(os.path.exists(self.db))

    # -- create ----------------------------------------------------------------------------

    def test_create_prints_a_token_that_verifies_once(self):
        token, stderr = self.create("alice", "CI pipeline")
        self.assertIn('"CI pipeline" for alice, expires never', stderr)
        self.assertEqual(self.sql(f"SELECT gvx_verify('{token}')"), "alice")
        [t] = self.tokens()
        self.assertEqual((t["userId"], t["name"], t["expiresAt"]), ("alice", "CI pipeline", None))
        self.assertEqual(t["start"], token[:6])
        self.assertIn(t["id"], stderr)

    def test_create_with_expiry_and_prefix_and_json(self):
        before = int(time.time() * 1000)
        r = self.ok("create", "--db", self.db, "--user", "bob", "--name", "deploy",
                    "--expires-in", "30", "--prefix", "deploy_", "--json")
        created = json.loads(r.stdout)
        self.assertRegex(created["key"], r"^deploy_[A-Za-z0-9]{64}$")
        self.assertAlmostEqual(created["expiresAt"], before + 30 * DAY, delta=60_000)
        self.assertEqual(r.stderr, "")
        [t] = self.tokens("--user", "bob")
        self.assertNotIn("key", t)
        self.assertEqual(t["expiresAt"], created["expiresAt"])

    def test_create_with_permissions(self):
        r = self.ok("create", "--db", self.db, "--user", "carol", "--name", "ci clone",
                    "--permissions", '{"repo":["read"]}', "--json")
        created = json.loads(r.stdout)
        self.assertEqual(created["permissions"], {"repo": ["read"]})
        [t] = self.tokens("--user", "carol")
        self.assertEqual(t["permissions"], {"repo": ["read"]})
        check = self.sql(f"SELECT gvx_check('{created['key']}', NULL, NULL, "
                         f"'{{\"repo\":[\"write\"]}}') ->> '$.error.code';")
        self.assertEqual(check, "INSUFFICIENT_PERMISSIONS")
        for bad, words in (('{"repo":["admin"]}', 'unknown action "admin"'),
                           ('{"repo:alice/../x":["read"]}', "repository path"),
                           ("[1]", "permissions must be a JSON object")):
            self.fails(2, words, "create", "--db", self.db, "--user", "carol", "--name", "bad",
                       "--permissions", bad)
        self.assertEqual(len(self.tokens("--user", "carol")), 1)

    def test_create_refuses_what_the_api_refuses_with_its_words(self):
        self.fails(2, "name must be 3 to 50 characters (got 2)", "create", "--db", self.db,
                   "--user", "alice", "--name", "ab")
        self.fails(2, "name must be 3 to 50 characters (got 51)", "create", "--db", self.db,
                   "--user", "alice", "--name", "x" * 51)
        self.fails(2, "prefix must match ^[A-Za-z0-9_-]{1,32}$", "create", "--db", self.db,
                   "--user", "alice", "--name", "laptop", "--prefix", "a b")
        self.fails(2, "--user must not be empty", "create", "--db", self.db, "--user", "",
                   "--name", "laptop")
        self.assertEqual(self.tokens(), [])

    # -- list ------------------------------------------------------------------------------

    def test_list_shows_everyone_or_one_user_and_never_a_token(self):
        a, _ = self.create("alice", "laptop")
        b, _ = self.create("bob", "desktop")
        self.create("bob", "evil name")
        # Names with control characters are refused now, but older databases may hold them.
        with sqlite3.connect(self.db) as c:
            c.execute("UPDATE apikey SET name = ? WHERE name = 'evil name'", ("evil\x1b[2Jname",))
        r = self.ok("list", "--db", self.db)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["ID", "USER", "NAME", "START"])
        self.assertEqual(len(lines), 4)
        self.assertIn("laptop", r.stdout)
        self.assertIn("evil?[2Jname", r.stdout)  # no escape sequence reaches the terminal
        self.assertNotIn("\x1b", r.stdout)
        for token in (a, b):
            self.assertNotIn(token, r.stdout)
            self.assertNotIn(token[4:], r.stdout)
        self.assertEqual({t["userId"] for t in self.tokens()}, {"alice", "bob"})
        self.assertEqual([t["name"] for t in self.tokens("--user", "alice")], ["laptop"])
        self.assertEqual(self.tokens("--user", "nobody"), [])

    # -- revoke ----------------------------------------------------------------------------

    def test_revoke_deletes_any_users_token_at_once(self):
        token, _ = self.create("alice", "laptop")
        [t] = self.tokens()
        self.assertEqual(self.ok("revoke", "--db", self.db, t["id"]).stdout,
                         f"revoked {t['id']}\n")
        self.assertEqual(self.sql(f"SELECT quote(gvx_verify('{token}'))"), "NULL")
        self.fails(1, f"no such token: {t['id']}", "revoke", "--db", self.db, t["id"])
        self.assertEqual(self.tokens(), [])

    # -- rotate ----------------------------------------------------------------------------

    def rotate(self, *more):
        return self.ok("rotate", "--db", self.db, *more)

    def test_rotate_replaces_a_token_and_prints_the_new_one_once(self):
        old, _ = self.create("alice", "deploy", "--permissions", '{"repo:alice/site":["read"]}',
                             "--expires-in", "30")
        [before] = self.tokens()
        r = self.rotate(before["id"])
        new = r.stdout.strip()
        self.assertRegex(new, r"^gvx_[A-Za-z0-9]{64}$")
        self.assertNotEqual(new, old)
        for secret in (old, new):
            self.assertNotIn(secret, r.stderr)
        [after] = self.tokens()
        self.assertIn(f"{before['id']} replaced by {after['id']} \"deploy\" for alice", r.stderr)
        self.assertIn("the old token stops now", r.stderr)
        # Same owner, name, prefix and permissions; a 30-day token becomes another 30-day one.
        for field in ("userId", "name", "prefix", "permissions"):
            self.assertEqual(after[field], before[field], field)
        self.assertEqual(after["permissions"], {"repo:alice/site": ["read"]})
        self.assertAlmostEqual(after["expiresAt"] - after["createdAt"], 30 * DAY, delta=60_000)
        self.assertEqual(self.sql(f"SELECT quote(gvx_verify('{old}'))"), "NULL")
        self.assertEqual(self.sql(f"SELECT gvx_verify('{new}')"), "alice")

    def test_rotate_with_grace_keeps_the_old_token_working_until_then(self):
        old, _ = self.create("bob", "ci runner")
        [before] = self.tokens()
        start = int(time.time() * 1000)
        r = self.rotate(before["id"], "--grace", "3600", "--expires-in", "7")
        new = r.stdout.strip()
        self.assertIn("the old token stops at ", r.stderr)
        self.assertEqual(self.sql(f"SELECT gvx_verify('{old}')"), "bob")
        self.assertEqual(self.sql(f"SELECT gvx_verify('{new}')"), "bob")
        tokens = {t["id"]: t for t in self.tokens()}
        self.assertEqual(len(tokens), 2)
        self.assertAlmostEqual(tokens[before["id"]]["expiresAt"], start + 3_600_000,
                               delta=60_000)
        [successor] = [t for i, t in tokens.items() if i != before["id"]]
        self.assertAlmostEqual(successor["expiresAt"], start + 7 * DAY, delta=60_000)

    def test_rotate_json_and_failures(self):
        self.create("carol", "laptop")
        [t] = self.tokens()
        created = json.loads(self.rotate(t["id"], "--json").stdout)
        self.assertRegex(created["key"], r"^gvx_[A-Za-z0-9]{64}$")
        self.assertEqual((created["userId"], created["name"]), ("carol", "laptop"))
        [now] = self.tokens()
        self.assertEqual(now["id"], created["id"])
        # The old id is gone; a second rotation of it finds nothing.
        self.fails(1, f"no such token: {t['id']}", "rotate", "--db", self.db, t["id"])
        for grace in ("-1", "604801", "1.5", "abc", "", "99999999999999999999"):
            self.fails(2, "--grace must be 0 to 604800 seconds (7 days)", "rotate", "--db",
                       self.db, now["id"], "--grace", grace)
        for days in ("0", "36501", "x"):
            self.fails(2, "--expires-in must be a positive number of days", "rotate", "--db",
                       self.db, now["id"], "--expires-in", days)
        self.fails(2, "ID is required", "rotate", "--db", self.db)
        self.fails(2, "ID is malformed", "rotate", "--db", self.db, "x" * 256)
        self.fails(1, "no such token: '; DROP TABLE apikey; --",
                   "rotate", "--db", self.db, "'; DROP TABLE apikey; --")
        self.fails(1, "no such token: evil?[2J", "rotate", "--db", self.db, "evil\x1b[2J")
        self.fails(2, "no database at", "rotate", "--db", self.db + ".typo", now["id"])
        self.assertFalse(os.path.exists(self.db + ".typo"))
        # Nothing changed by the refusals.
        self.assertEqual([x["id"] for x in self.tokens()], [now["id"]])

    def test_rotate_respects_the_databases_lifetime_cap(self):
        self.create("dave", "laptop")
        [t] = self.tokens()
        self.sql("INSERT OR REPLACE INTO gvx_config (name, value) "
                 "VALUES ('max_token_lifetime_ms', 86400000)")
        r = self.gvx("rotate", "--db", self.db, t["id"], "--expires-in", "30")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("beyond the maximum token lifetime of 1 days", r.stderr)
        new = self.rotate(t["id"]).stdout.strip()
        [after] = self.tokens()
        self.assertLessEqual(after["expiresAt"] - after["createdAt"], DAY)
        self.assertEqual(self.sql(f"SELECT gvx_verify('{new}')"), "dave")

    # -- audit -----------------------------------------------------------------------------

    def audit(self, *more):
        return json.loads(self.ok("audit", "--db", self.db, "--json", *more).stdout)

    def test_audit_names_who_did_what_to_which_token_and_how(self):
        me = pwd.getpwuid(os.getuid()).pw_name
        if os.getuid() == 0 and os.environ.get("SUDO_USER"):
            me += f" (sudo by {os.environ['SUDO_USER']})"
        token, _ = self.create("alice", "deploy")
        [t] = self.tokens()
        new = self.rotate(t["id"], "--grace", "60").stdout.strip()
        made_in_sql = self.sql("SELECT gvx_create('bob', 'from sql') ->> 'id'")
        [successor] = [x for x in self.tokens("--user", "alice") if x["id"] != t["id"]]
        self.ok("revoke", "--db", self.db, successor["id"])
        entries = self.audit()
        self.assertEqual([e["action"] for e in entries], ["delete", "create", "rotate", "create"])
        delete, sql_create, rotate, create = entries
        for e in (delete, rotate, create):
            self.assertEqual((e["actor"], e["via"], e["ip"]), (me, "admin", ""))
        self.assertEqual([e["userAgent"] for e in (delete, rotate, create)],
                         ["gvx revoke", "gvx rotate", "gvx create"])
        self.assertEqual((sql_create["via"], sql_create["actor"], sql_create["keyId"],
                          sql_create["owner"]), ("sql", me, made_in_sql, "bob"))
        self.assertEqual(sql_create["userAgent"], "sqlite3")
        self.assertEqual((create["keyId"], create["keyName"], create["owner"]),
                         (t["id"], "deploy", "alice"))
        self.assertEqual(rotate["detail"]["newKeyId"], successor["id"])
        self.assertEqual(rotate["detail"]["graceMs"], 60_000)
        self.assertEqual(delete["keyId"], successor["id"])
        # Filters: one owner, one token, the newest few.
        self.assertEqual([e["keyName"] for e in self.audit("--user", "bob")], ["from sql"])
        self.assertEqual([e["action"] for e in self.audit("--key", t["id"])],
                         ["rotate", "create"])
        self.assertEqual(len(self.audit("--limit", "2")), 2)
        self.assertEqual(self.audit("--user", "alice", "--key", made_in_sql), [])
        # The table for people, and never a token anywhere.
        r = self.ok("audit", "--db", self.db)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["TIME", "ACTION", "TOKEN", "NAME"])
        self.assertEqual(len(lines), 5)
        for secret in (token, new, token[4:], new[4:]):
            self.assertNotIn(secret, r.stdout + self.ok("audit", "--db", self.db,
                                                        "--json").stdout)
        self.assertEqual(self.sql(f"SELECT count(*) FROM gvx_audit WHERE instr(coalesce(detail, "
                                  f"'') || key_id, '{new[4:]}') > 0"), "0")

    def test_audit_refuses_bad_arguments_and_shows_hostile_names_harmlessly(self):
        self.create("alice", "laptop")
        for limit in ("0", "1001", "-1", "abc", ""):
            self.fails(2, "--limit must be 1 to 1000", "audit", "--db", self.db,
                       "--limit", limit)
        self.fails(2, "--key is malformed", "audit", "--db", self.db, "--key", "x" * 256)
        self.fails(2, "--user must not be empty", "audit", "--db", self.db, "--user", "")
        self.fails(2, "no database at", "audit", "--db", self.db + ".typo")
        self.assertEqual(self.audit("--key", "' OR 1=1 --"), [])
        self.assertEqual(self.audit("--user", "x'); DROP TABLE gvx_audit; --"), [])
        self.assertEqual(len(self.audit()), 1)
        # A name with an escape sequence (an older database may hold one) and a client's
        # user agent reach the terminal as '?'.
        with sqlite3.connect(self.db) as c:
            c.execute("UPDATE gvx_audit SET key_name = ?, user_agent = ?",
                      ("evil\x1b[2Jname", "agent\x07\r\n"))
        r = self.ok("audit", "--db", self.db)
        self.assertNotIn("\x1b", r.stdout)
        self.assertNotIn("\x07", r.stdout)
        self.assertIn("evil?[2Jname", r.stdout)

    # -- find ------------------------------------------------------------------------------

    def test_find_names_owner_and_id_without_using_or_printing_the_token(self):
        self.create("alice", "laptop")
        token, _ = self.create("bob", "leaky CI")
        [t] = self.tokens("--user", "bob")
        for stdin in (token, token + "\n", f"  {token}\r\n\n"):
            r = self.ok("find", "--db", self.db, stdin=stdin)
            self.assertIn("owner      bob\n", r.stdout)
            self.assertIn(f"id         {t['id']}\n", r.stdout)
            self.assertIn("name       leaky CI\n", r.stdout)
            self.assertNotIn(token, r.stdout + r.stderr)
        found = json.loads(self.ok("find", "--db", self.db, "--json", stdin=token).stdout)
        self.assertEqual((found["id"], found["userId"]), (t["id"], "bob"))
        self.assertNotIn("key", found)
        # Finding is not using: no request counted, no activity logged.
        [after] = self.tokens("--user", "bob")
        self.assertEqual(after["requestCount"], 0)
        self.assertEqual(self.sql("SELECT count(*) FROM gvx_activity"), "0")

    def test_find_failures(self):
        token, _ = self.create("bob", "leaky CI")
        [t] = self.tokens()
        self.ok("revoke", "--db", self.db, t["id"])
        r = self.fails(1, "no token in", "find", "--db", self.db, stdin=token)
        self.assertIn("it is well-formed", r.stderr)
        self.assertNotIn(token, r.stderr)
        self.fails(1, "not a well-formed gvx token", "find", "--db", self.db, stdin="gvx_abc")
        self.fails(2, "no token on standard input", "find", "--db", self.db, stdin=" \n")
        self.fails(2, "more than one word", "find", "--db", self.db, stdin=f"{token} {token}")
        self.fails(2, "too long", "find", "--db", self.db, stdin="x" * 100_000)

    # -- the database's owner --------------------------------------------------------------

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_root_creates_the_database_for_its_directorys_owner(self):
        nobody = pwd.getpwnam("nobody")
        os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
        self.create("alice", "laptop")
        st = os.stat(self.db)
        self.assertEqual((st.st_uid, st.st_gid), (nobody.pw_uid, nobody.pw_gid))
        self.assertEqual(st.st_mode & 0o777, 0o640)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                self.assertEqual(os.stat(self.db + suffix).st_uid, nobody.pw_uid, suffix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--gvx", required=True)
    parser.add_argument("--ext", required=True)
    parser.add_argument("--sqlite3", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
