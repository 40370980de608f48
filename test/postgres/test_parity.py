#!/usr/bin/env python3
"""gvx-fcgi on PostgreSQL serves what it serves on SQLite: rotation, the per-user token cap and
counted refusals, through the FastCGI API and authorizer, with two gvx-fcgi processes on one
PostgreSQL 15 server (test/postgres/pgcluster.py) as two machines would run them.

    test_parity.py [unittest options]      (GVX_FCGI names the gvx-fcgi binary)

  - POST /rotate with REMOTE_USER and as Bearer: a new token with the same name, permissions
    and metadata; the old one stops at once, or after graceSeconds; another user's token is
    404, another token 403, hostile input 400; the lifetime cap holds for the successor;
  - eight concurrent /rotate of one token through both processes: one 200, seven 404;
  - max_tokens_per_user 5 and 24 concurrent /create through both processes: five 200, the
    rest 400 TOO_MANY_TOKENS, five tokens stored;
  - 600 unknown credentials from 600 addresses: all 401, every one counted, and the rows
    they take stay within activity_unknown_max_rows (plus what two connections racing can add);
    a token's repeated refusals are one /activity entry with its count;
  - no token appears in gvx-fcgi's output.
Exit status 77 (skipped) when PostgreSQL 15 is not installed.
"""
import concurrent.futures
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import harness  # noqa: E402
import pgcluster  # noqa: E402

API = "/api/auth/api-key"
PROJECT = {"repo:alice/project": ["read", "write"]}


def call_api(addr, method, endpoint, user=None, body=None, bearer=None):
    """One API request as the web server passes it: REMOTE_USER for a signed-in user, or the
    client's Authorization: Bearer header."""
    data = json.dumps(body).encode() if body is not None else b""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": API + endpoint}
    if user:
        params["REMOTE_USER"] = user
    if bearer:
        params["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    if body is not None:
        params.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))})
    return harness.fcgi_request(addr, params, stdin=data)


def authorize(addr, token, repo="alice/project", ip="198.51.100.7"):
    """The authorizer's answer for a clone of repo with this token as the password."""
    return harness.fcgi_request(addr, {
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": f"/git/{repo}.git/info/refs?service=git-upload-pack",
        "HTTP_AUTHORIZATION": harness.basic_auth("git", token), "REMOTE_ADDR": ip,
        "HTTP_USER_AGENT": "git/2.39"}, role="AUTHORIZER")


class ParityCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = pgcluster.available()
        if why:
            raise unittest.SkipTest(why)
        cls.work = harness.tmpdir("pg-parity")
        cls.pg = pgcluster.Server.create(cls.work / "pg")
        cls.tokens = []

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        for token in cls.tokens:
            harness.assert_not_logged(token, cls.work / "logs")
        harness.assert_no_crash_reports(cls.work / "logs")

    def setUp(self):
        self.db = self.pg.create_database(self.id().rsplit(".", 1)[-1].lower())
        (self.work / "logs").mkdir(exist_ok=True)
        uri = self.pg.uri(self.db, connect_timeout=2)
        self.addrs = []
        for name in ("gvx-fcgi-a", "gvx-fcgi-b"):
            procs, addr = harness.start_gvx_fcgi("--db", uri, "--trust-remote-user",
                                                 "--trusted-peer", "127.0.0.1",
                                                 log_dir=self.work / "logs", name=name)
            self.addCleanup(lambda ps=procs: [p.stop() for p in ps])
            self.addrs.append(addr)
        self.a, self.b = self.addrs

    def keep(self, reply):
        """The token object of a 200 reply; its key is checked for in the logs at the end."""
        self.assertEqual(reply.status, 200, reply)
        token = reply.json()
        self.tokens.append(token["key"])
        return token

    def create(self, body, user="alice", addr=None):
        return self.keep(call_api(addr or self.a, "POST", "/create", user, body))

    def assert_error(self, reply, status, code):
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.json()["code"], code, reply)

    def sql(self, statement, params=()):
        with self.pg.connect(self.db) as c:
            rows = c.execute(statement, params).fetchall()
        return rows[0][0] if rows else None

    def set_config(self, name, value):
        self.sql("INSERT INTO gvx_config (name, value) VALUES (?, ?) ON CONFLICT (name) "
                 "DO UPDATE SET value = excluded.value", (name, str(value)))


class Rotation(ParityCase):
    def test_rotate_as_the_user_and_as_the_token(self):
        old = self.create({"name": "deploy", "permissions": PROJECT,
                           "metadata": {"env": "prod"}, "expiresIn": 30 * 86400})
        self.assertEqual(authorize(self.b, old["key"]).status, 200)
        # Through the other process: same name, permissions, metadata and life; a new key.
        new = self.keep(call_api(self.b, "POST", "/rotate", "alice", {"keyId": old["id"]}))
        self.assertNotEqual((new["id"], new["key"]), (old["id"], old["key"]))
        self.assertEqual((new["name"], new["permissions"], new["metadata"]),
                         ("deploy", PROJECT, {"env": "prod"}))
        self.assertEqual(new["expiresAt"] - new["createdAt"],
                         old["expiresAt"] - old["createdAt"])
        self.assertEqual(authorize(self.a, old["key"]).status, 401)
        self.assertEqual(authorize(self.a, new["key"]).status, 200)
        self.assertEqual(authorize(self.a, new["key"], repo="alice/other").status, 403)
        # As Bearer: a token rotates itself, and only itself.
        mine = self.keep(call_api(self.a, "POST", "/rotate", bearer=new["key"], body={}))
        self.assertEqual(mine["permissions"], PROJECT)
        self.assertEqual(authorize(self.b, new["key"]).status, 401)
        other = self.create({"name": "another"})
        self.assert_error(call_api(self.a, "POST", "/rotate", bearer=mine["key"],
                                   body={"keyId": other["id"]}), 403, "FORBIDDEN")
        self.assertEqual(authorize(self.b, other["key"]).status, 200)
        listed = call_api(self.b, "GET", "/list", "alice").json()
        self.assertEqual(sorted(t["id"] for t in listed), sorted([mine["id"], other["id"]]))

    def test_grace_other_users_and_hostile_input(self):
        old = self.create({"name": "laptop"})
        new = self.keep(call_api(self.a, "POST", "/rotate", "alice",
                                 {"keyId": old["id"], "graceSeconds": 2}))
        self.assertEqual(authorize(self.b, old["key"]).status, 200)
        self.assertEqual(authorize(self.b, new["key"]).status, 200)
        time.sleep(2.5)
        self.assertEqual(authorize(self.b, old["key"]).status, 401)
        self.assertEqual(authorize(self.b, new["key"]).status, 200)
        bobs = self.create({"name": "bob's"}, user="bob")
        self.assert_error(call_api(self.a, "POST", "/rotate", "alice", {"keyId": bobs["id"]}),
                          404, "NOT_FOUND")
        before = self.sql("SELECT count(*) FROM apikey")
        for body in ({"keyId": new["id"], "graceSeconds": 7 * 86400 + 1},
                     {"keyId": new["id"], "graceSeconds": -1},
                     {"keyId": new["id"], "expiresIn": -5},
                     {"keyId": "x" * 300}, {"keyId": 5}, {}):
            r = call_api(self.a, "POST", "/rotate", "alice", body)
            self.assertIn(r.status, (400, 404), f"{body}: {r}")
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), before)
        self.assertEqual(authorize(self.b, bobs["key"], repo="bob/x").status, 200)

    def test_lifetime_cap_counts_from_the_successors_creation(self):
        day = 86_400_000
        self.set_config("max_token_lifetime_ms", day)
        t = self.create({"name": "capped"})
        self.assertEqual(t["expiresAt"], t["createdAt"] + day)
        self.sql("UPDATE apikey SET created_at = created_at - ?, expires_at = expires_at - ? "
                 "WHERE id = ?", (day // 2, day // 2, t["id"]))
        self.assert_error(call_api(self.a, "POST", "/rotate", "alice",
                                   {"keyId": t["id"], "expiresIn": 10 * 86400}),
                          400, "INVALID_PARAMETER")
        new = self.keep(call_api(self.a, "POST", "/rotate", "alice", {"keyId": t["id"]}))
        self.assertEqual(new["expiresAt"], new["createdAt"] + day)

    def test_concurrent_rotations_of_one_token_one_wins(self):
        t = self.create({"name": "contested"})
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(
                lambda i: call_api(self.addrs[i % 2], "POST", "/rotate", "alice",
                                   {"keyId": t["id"]}), range(8)))
        statuses = sorted(r.status for r in replies)
        self.assertEqual(statuses, [200] + [404] * 7, replies)
        winner = self.keep(next(r for r in replies if r.status == 200))
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), 1)
        self.assertEqual(authorize(self.a, winner["key"]).status, 200)


class TokenCap(ParityCase):
    def test_cap_holds_across_processes(self):
        self.set_config("max_tokens_per_user", 5)
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            replies = list(pool.map(
                lambda i: call_api(self.addrs[i % 2], "POST", "/create", "alice",
                                   {"name": f"racing {i}"}), range(24)))
        made = [self.keep(r) for r in replies if r.status == 200]
        self.assertEqual(len(made), 5, [r.status for r in replies])
        for r in replies:
            if r.status != 200:
                self.assert_error(r, 400, "TOO_MANY_TOKENS")
        self.assertEqual(self.sql("SELECT count(*) FROM apikey WHERE user_id = 'alice'"), 5)
        # Another user has room; revoking one of alice's makes room for one.
        self.create({"name": "bob's"}, user="bob")
        r = call_api(self.b, "POST", "/delete", "alice", {"keyId": made[0]["id"]})
        self.assertEqual(r.status, 200, r)
        self.create({"name": "after a revoke"}, addr=self.b)
        self.assert_error(call_api(self.a, "POST", "/create", "alice", {"name": "one too many"}),
                          400, "TOO_MANY_TOKENS")


class Refusals(ParityCase):
    def test_unknown_credentials_take_bounded_rows(self):
        cap = 50
        self.set_config("activity_unknown_max_rows", cap)
        unknown = "gvx_" + "Q" * 64
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(
                lambda i: authorize(self.addrs[i % 2], unknown,
                                    ip=f"10.{i // 250}.{i % 250}.1").status, range(600)))
        self.assertEqual(statuses, [401] * 600)
        self.assertEqual(self.sql("SELECT sum(count)::bigint FROM gvx_activity "
                                  "WHERE key_id IS NULL"), 600)
        # Two connections racing past the cap add at most one row and one overflow row each.
        self.assertLessEqual(self.sql("SELECT count(*) FROM gvx_activity"), cap + 4)

    def test_repeated_refusals_are_one_counted_entry(self):
        t = self.create({"name": "switched off"})
        r = call_api(self.a, "POST", "/update", "alice", {"keyId": t["id"], "enabled": False})
        self.assertEqual(r.status, 200, r)
        for i in range(6):
            self.assertEqual(authorize(self.addrs[i % 2], t["key"]).status, 401)
        entries = call_api(self.b, "GET", f"/activity?id={t['id']}", "alice").json()
        self.assertEqual(len(entries), 1, entries)
        self.assertEqual((entries[0]["outcome"], entries[0]["count"], entries[0]["ip"]),
                         ("KEY_DISABLED", 6, "198.51.100.7"))
        self.assertGreaterEqual(entries[0]["lastAt"], entries[0]["at"])


def main():
    program = unittest.main(argv=sys.argv, exit=False, verbosity=2)
    result = program.result
    if result.skipped and result.wasSuccessful() and result.testsRun <= len(result.skipped):
        return 77
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
