#!/usr/bin/env python3
"""gvx-fcgi's JSON token API (SPEC §5, §7, §9) behind a real web server.

    test_api.py --server lighttpd|apache|nginx [unittest options]     (or GVX_SERVER=...)

Each test class starts its own server (scripts/<server>/api-*.conf) on a free port with its own
database, so several runs can go in parallel; every process is stopped afterwards. A second,
independent gvx-fcgi process on the same database (spoken to over FastCGI) checks that what the
API does is seen at once elsewhere: a deleted token stops verifying there.
"""

import argparse
import json
import os
import re
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = os.environ.get("GVX_SERVER", "lighttpd")
BASE = "/api/auth/api-key"
TOKEN_RE = re.compile(r"^gvx_[A-Za-z0-9]{64}$")
TRUSTED = "https://git.example.test"
SECRET = "better-auth-secret-for-tests-0123456789"
USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}
SECRET_FILE = object()  # stands for the class's secret file in gvx_args
FIXTURE = "gitflare"  # test/fixtures/gitflare.sql, or gitflare.postgres.sql
FIXTURE_ALICE_TOKEN = "gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq"
TOKEN_FIELDS = {"id", "name", "start", "prefix", "userId", "enabled", "createdAt", "updatedAt",
                "expiresAt", "lastRequest", "requestCount", "metadata"}


def now_ms():
    return int(time.time() * 1000)


class ApiCase(unittest.TestCase):
    """One web server + database per class, and a second gvx-fcgi process for cross-checks."""

    config = None          # scripts/<server>/<config>.conf
    gvx_args = ()          # gvx-fcgi options besides --db
    fixture = None         # SQL run on the database before anything starts

    @classmethod
    def setUpClass(cls):
        cls.module = harness.server_module(SERVER)
        cls.work = harness.tmpdir(f"api-{SERVER}")
        cls.db = harness.new_database(cls.work)  # a file, or a PostgreSQL database's URI
        if cls.fixture:
            harness.load_fixture(cls.db, cls.fixture)
        cls.htpasswd = harness.write_htpasswd(cls.work / "htpasswd", USERS)
        cls.secret_file = cls.work / "session-secret"
        cls.secret_file.write_text(SECRET + "\n")
        cls.secrets = []  # every token seen: none may appear in a log
        cls.other = None
        cls.server = None
        try:
            args = ["--db", cls.db,
                    *[cls.secret_file if a is SECRET_FILE else a for a in cls.gvx_args]]
            cls.server = cls.module.start(cls.config, fcgi={"API": args}, HTPASSWD=cls.htpasswd)
            # The independent process: authorizer checks and raw FastCGI requests.
            procs, cls.other_addr = harness.start_gvx_fcgi(
                "--db", cls.db, "--trust-remote-user", "--trusted-peer", "127.0.0.1",
                log_dir=cls.work, name="gvx-fcgi-other")
            cls.other = procs[0]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server:
                cls.server.stop()
            if cls.other:
                cls.other.stop()
            dirs = [cls.work, *([cls.server.state_dir] if cls.server else [])]
            for secret in cls.secrets:
                harness.assert_not_logged(secret, *dirs)
            harness.assert_no_crash_reports(*dirs)
        finally:
            harness.remove_tmpdir(cls.work)
            if cls.server and cls.server.state_dir:
                harness.remove_tmpdir(cls.server.state_dir)

    # -- requests ---------------------------------------------------------------------------

    def auth(self, user):
        return {}

    def call(self, method, endpoint, user=None, body=None, raw=None, headers=None, **kw):
        h = dict(self.auth(user) if user else {})
        h.update(headers or {})
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
            return harness.http(method, self.server.url(BASE + endpoint), headers=h, body=raw,
                                **kw)
        if method in ("GET", "HEAD"):
            body = None  # lighttpd refuses a GET with a body (400) before gvx-fcgi sees it
        return harness.http(method, self.server.url(BASE + endpoint), headers=h,
                            json_body=body, **kw)

    def create(self, user, name, **extra):
        r = self.call("POST", "/create", user, {"name": name, **extra})
        self.assertEqual(r.status, 200, r)
        token = r.json()
        self.secrets.append(token["key"])
        return token

    def list_ids(self, user):
        r = self.call("GET", "/list", user)
        self.assertEqual(r.status, 200, r)
        return [t["id"] for t in r.json()]

    def authorize(self, token, ip="203.0.113.9"):
        """The token checked by the *other* gvx-fcgi process, as a Git authorizer would."""
        return harness.fcgi_request(self.other_addr, {
            "GVX_MODE": "authorize", "REQUEST_METHOD": "GET", "REQUEST_URI": "/repo.git/info/refs",
            "HTTP_AUTHORIZATION": harness.basic_auth("git", token), "REMOTE_ADDR": ip,
            "HTTP_USER_AGENT": "git/2.39"})

    def assertError(self, r, status, code=None, mentions=()):
        """status, a JSON {"code", "message"} body, and the message naming what is wrong."""
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r.headers)
        err = r.json()
        self.assertEqual(set(err), {"code", "message"}, err)
        self.assertRegex(err["code"], r"^[A-Z][A-Z_]*$")
        if code:
            self.assertEqual(err["code"], code, err)
        for word in mentions:
            self.assertIn(word, err["message"], err)
        return err

    def raw(self, data, **kw):
        return harness.raw_http(harness.HOST, self.server.port, data, **kw)

    def assertServerAlive(self):
        r = self.call("GET", "/list", "alice")
        self.assertIn(r.status, (200, 401), r)


class BasicAuthApi(ApiCase):
    """The web server checks HTTP Basic passwords; gvx-fcgi --trust-remote-user."""

    config = "api-basic"
    gvx_args = ("--trust-remote-user",)

    def auth(self, user):
        return {"Authorization": harness.basic_auth(user, USERS[user])}

    def test_round_trip_for_two_users(self):
        a1 = self.create("carol", "carol laptop")
        a2 = self.create("carol", "carol CI", expiresIn=3600, metadata={"team": "web"})
        b1 = self.create("dave", "dave laptop")
        for t, user in ((a1, "carol"), (a2, "carol"), (b1, "dave")):
            self.assertRegex(t["key"], TOKEN_RE)
            self.assertEqual(t["start"], t["key"][:6])
            self.assertEqual(t["userId"], user)
            self.assertTrue(TOKEN_FIELDS <= set(t), t)
        self.assertEqual(a2["metadata"], {"team": "web"})
        self.assertAlmostEqual(a2["expiresAt"], now_ms() + 3600_000, delta=60_000)

        r = self.call("GET", "/list", "carol")
        self.assertEqual(r.status, 200, r)
        listed = r.json()
        self.assertEqual({t["id"] for t in listed}, {a1["id"], a2["id"]})
        created = [t["createdAt"] for t in listed]
        self.assertEqual(created, sorted(created))  # oldest first
        for t in listed:
            self.assertNotIn("key", t)
            self.assertNotIn(a1["key"], r.text)
        self.assertEqual(self.list_ids("dave"), [b1["id"]])

        for t, user in ((a1, "carol"), (b1, "dave")):
            ok = self.authorize(t["key"])
            self.assertEqual(ok.status, 200, ok)
            self.assertEqual(ok.header("X-Gvx-User"), user)

        r = self.call("POST", "/delete", "carol", {"keyId": a1["id"]})
        self.assertEqual((r.status, r.json()), (200, {"success": True}))
        self.assertEqual(self.authorize(a1["key"]).status, 401)  # at once, in another process
        self.assertEqual(self.list_ids("carol"), [a2["id"]])
        r = self.call("POST", "/delete", "carol", {"keyId": a1["id"]})
        self.assertError(r, 404, "NOT_FOUND")

        r = self.call("POST", "/delete", "dave", {"keyId": b1["id"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.authorize(b1["key"]).status, 401)
        self.assertEqual(self.list_ids("dave"), [])
        self.assertEqual(self.authorize(a2["key"]).status, 200)

    def test_users_cannot_see_or_touch_each_others_tokens(self):
        mine = self.create("alice", "alice private")
        self.assertNotIn(mine["id"], self.list_ids("bob"))
        for method, endpoint, body in (
                ("POST", "/delete", {"keyId": mine["id"]}),
                ("POST", "/update", {"keyId": mine["id"], "name": "pwned by bob"}),
                ("POST", "/update", {"keyId": mine["id"], "enabled": False}),
                ("GET", f"/get?id={mine['id']}", None),
                ("GET", f"/activity?id={mine['id']}", None)):
            r = self.call(method, endpoint, "bob", body)
            # The same answer as for a token that does not exist: no oracle.
            self.assertError(r, 404, "NOT_FOUND")
            missing = self.call(method, endpoint.replace(mine["id"], "x" * 32), "bob",
                                body and {**body, "keyId": "x" * 32})
            self.assertEqual(r.json(), missing.json())
        r = self.call("GET", f"/get?id={mine['id']}", "alice")
        self.assertEqual((r.status, r.json()["name"], r.json()["enabled"]),
                         (200, "alice private", True))
        self.assertEqual(self.authorize(mine["key"]).status, 200)

    def test_get_and_update(self):
        t = self.create("alice", "to update")
        later = now_ms() + 7 * 86400_000
        r = self.call("POST", "/update", "alice",
                      {"keyId": t["id"], "name": "renamed ✓", "expiresAt": later})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["name"], r.json()["expiresAt"]), ("renamed ✓", later))
        self.assertNotIn("key", r.json())
        r = self.call("POST", "/update", "alice", {"keyId": t["id"], "enabled": False})
        self.assertEqual((r.status, r.json()["enabled"]), (200, False))
        self.assertEqual(self.authorize(t["key"]).status, 401)
        r = self.call("POST", "/update", "alice", {"keyId": t["id"], "enabled": True,
                                                   "expiresAt": None})
        self.assertEqual((r.status, r.json()["enabled"], r.json()["expiresAt"]),
                         (200, True, None))
        self.assertEqual(self.authorize(t["key"]).status, 200)
        r = self.call("GET", f"/get?id={t['id']}", "alice")
        self.assertEqual((r.status, r.json()["id"]), (200, t["id"]))
        self.assertError(self.call("GET", "/get", "alice"), 400, mentions=["id"])

    def test_activity_usage_and_ips(self):
        t = self.create("alice", "activity token")
        r = self.call("GET", f"/activity?id={t['id']}", "alice")
        self.assertEqual((r.status, r.json()), (200, []))
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            self.assertEqual(self.authorize(t["key"], ip=ip).status, 200)
        self.call("POST", "/update", "alice", {"keyId": t["id"], "enabled": False})
        self.assertEqual(self.authorize(t["key"], ip="192.0.2.66").status, 401)

        r = self.call("GET", f"/activity?id={t['id']}", "alice")
        self.assertEqual(r.status, 200, r)
        entries = r.json()
        self.assertEqual([e["ip"] for e in entries],
                         ["192.0.2.66", "198.51.100.3", "198.51.100.2", "198.51.100.1"])
        self.assertEqual(entries[0]["outcome"], "KEY_DISABLED")
        self.assertEqual({e["outcome"] for e in entries[1:]}, {"OK"})
        times = [e["at"] for e in entries]
        self.assertEqual(times, sorted(times, reverse=True))  # newest first
        self.assertNotIn(t["key"], r.text)
        r = self.call("GET", f"/activity?id={t['id']}&limit=2", "alice")
        self.assertEqual(len(r.json()), 2)
        self.assertError(self.call("GET", f"/activity?id={t['id']}&limit=0", "alice"), 400,
                         mentions=["limit"])

        listed = {x["id"]: x for x in self.call("GET", "/list", "alice").json()}[t["id"]]
        self.assertEqual(listed["requestCount"], 3)
        self.assertAlmostEqual(listed["lastRequest"], now_ms(), delta=60_000)
        self.assertError(self.call("GET", f"/activity?id={t['id']}", "bob"), 404, "NOT_FOUND")

    def test_invalid_parameters_name_the_field(self):
        before = self.list_ids("bob")
        cases = [
            ({"name": "ab"}, ["name", "3 to 50"]),
            ({"name": "x" * 51}, ["name", "3 to 50"]),
            ({"name": "é" * 51}, ["name", "3 to 50"]),
            ({"name": ""}, ["name"]),
            ({}, ["name", "required"]),
            ({"name": 123}, ["name", "string"]),
            ({"name": ["abc"]}, ["name", "string"]),
            ({"name": "ab\u0000c"}, ["name", "NUL"]),
            ({"name": "valid", "expiresAt": "tomorrow"}, ["expiresAt", "integer"]),
            ({"name": "valid", "expiresAt": 1.5}, ["expiresAt", "integer"]),
            ({"name": "valid", "expiresAt": now_ms() - 1000}, ["expiresAt", "future"]),
            ({"name": "valid", "expiresIn": -5}, ["expiresIn"]),
            ({"name": "valid", "expiresIn": "1h"}, ["expiresIn", "integer"]),
            ({"name": "valid", "expiresAt": now_ms() + 10**6, "expiresIn": 60}, ["expiresAt"]),
            ({"name": "valid", "prefix": "bad prefix!"}, ["prefix"]),
            ({"name": "valid", "prefix": 7}, ["prefix", "string"]),
            ({"name": "valid", "metadata": "text"}, ["metadata", "object"]),
        ]
        for body, words in cases:
            with self.subTest(body=body):
                self.assertError(self.call("POST", "/create", "bob", body), 400,
                                 "INVALID_PARAMETER", words)
        self.assertError(self.call("POST", "/delete", "bob", {"keyId": 5}), 400, None,
                         ["keyId", "string"])
        self.assertError(self.call("POST", "/delete", "bob", {}), 400, None, ["keyId"])
        self.assertError(self.call("POST", "/update", "bob", {"keyId": "x", "enabled": "no"}),
                         400, None, ["enabled"])
        # 50 code points of 2 bytes each are fine: names count characters, not bytes.
        self.create("bob", "é" * 50)
        self.assertEqual(len(self.list_ids("bob")), len(before) + 1)

    def test_malformed_bodies(self):
        before = self.list_ids("bob")
        for raw, words in ((b'{"name": "abc"', ["JSON"]),
                           (b'not json', ["JSON"]),
                           (b'', ["JSON"]),
                           (b'["name"]', ["object"]),
                           (b'{"name": "ab\xff\xfe"}', ["JSON", "encoding"]),
                           (b'{"name": "\xc3\x28abc"}', ["JSON"]),
                           (b'{"name": "ab\x00c"}', ["JSON"]),
                           (b'{"name": "abc"}\x00', ["JSON"]),
                           (b'{"name": "abc"} {"name": "def"}', ["JSON"])):
            with self.subTest(raw=raw):
                self.assertError(self.call("POST", "/create", "bob", raw=raw), 400,
                                 "INVALID_JSON", words)
        self.assertEqual(self.list_ids("bob"), before)

    def test_sql_metacharacters_are_data(self):
        evil = "x'); DROP TABLE apikey; --"
        t = self.create("bob", evil)
        r = self.call("GET", f"/get?id={t['id']}", "bob")
        self.assertEqual(r.json()["name"], evil)
        for endpoint in ("/get?id=%27%20OR%20%271%27%3D%271", "/activity?id=%22%20OR%201%3D1%20--",
                         "/get?id=%25"):
            self.assertError(self.call("GET", endpoint, "bob"), 404, "NOT_FOUND")
        self.assertError(self.call("POST", "/delete", "bob", {"keyId": "' OR '1'='1"}), 404)
        self.assertError(self.call("POST", "/delete", "bob", {"keyId": "%"}), 404)
        self.assertIn(t["id"], self.list_ids("bob"))
        with harness.db_connect(self.db) as c:
            self.assertGreater(c.execute("SELECT count(*) FROM apikey").fetchone()[0], 0)

    def test_wrong_paths_and_methods(self):
        for method, endpoint in (("GET", "/nope"), ("GET", "/"), ("GET", "/list/"),
                                 ("POST", "/creates"), ("GET", "/LIST")):
            with self.subTest(endpoint=endpoint):
                self.assertError(self.call(method, endpoint, "alice"), 404, "NOT_FOUND")
        for method, endpoint, allow in (("GET", "/create", "POST"), ("POST", "/list", "GET"),
                                        ("DELETE", "/delete", "POST"), ("PUT", "/update", "POST"),
                                        ("POST", "/get?id=x", "GET")):
            with self.subTest(method=method, endpoint=endpoint):
                r = self.call(method, endpoint, "alice", {"name": "abc"})
                self.assertError(r, 405, "METHOD_NOT_ALLOWED")
                self.assertEqual(r.header("Allow"), allow)

    def test_content_type_and_length(self):
        before = self.list_ids("alice")
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
            with self.subTest(ctype=ctype):
                r = self.call("POST", "/create", "alice", raw=b'{"name":"abc"}',
                              headers={"Content-Type": ctype})
                self.assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        auth = self.auth("alice")["Authorization"]
        r = self.raw((f"POST {BASE}/create HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                      "Content-Length: 14\r\nConnection: close\r\n\r\n"
                      '{"name":"abc"}').encode())
        self.assertError(r, 415)
        # No Content-Length (and no chunked body): 411.
        r = self.raw((f"POST {BASE}/create HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                      "Content-Type: application/json\r\nConnection: close\r\n\r\n").encode())
        self.assertError(r, 411)
        # Over 64 KiB: 413, from gvx-fcgi (the servers allow up to 1 MiB through).
        big = b'{"name":"abc","pad":"' + b"x" * (64 * 1024) + b'"}'
        self.assertError(self.call("POST", "/create", "alice", raw=big), 413,
                         "PAYLOAD_TOO_LARGE", ["65536"])
        huge = b'{"name":"abc","pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
        self.assertError(self.call("POST", "/create", "alice", raw=huge), 413)
        # Exactly 64 KiB is fine.
        pad = 64 * 1024 - len(b'{"name":"64 KiB","pad":""}')
        ok = self.call("POST", "/create", "alice",
                       raw=b'{"name":"64 KiB","pad":"' + b"y" * pad + b'"}')
        self.assertEqual(ok.status, 200, ok)
        self.secrets.append(ok.json()["key"])
        # A chunked body (no Content-Length from the client) works through every server.
        body = b'{"name":"chunked"}'
        r = self.raw((f"POST {BASE}/create HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n").encode()
                     + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        self.assertEqual(r.status, 200, r)
        self.secrets.append(r.json()["key"])
        self.assertEqual(len(self.list_ids("alice")), len(before) + 2)

    def test_truncated_body(self):
        before = self.list_ids("alice")
        auth = self.auth("alice")["Authorization"]
        # The client promises 100 bytes, sends 12 and stops: no token is created, whatever the
        # server answers (400) or whether it just drops the connection.
        r = self.raw((f"POST {BASE}/create HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 100\r\n"
                      'Connection: close\r\n\r\n{"name":"abc').encode(),
                     half_close=True, timeout=15)
        if r is not None:
            self.assertError(r, 400)
        self.assertEqual(self.list_ids("alice"), before)
        # What gvx-fcgi does itself when a server hands it less than CONTENT_LENGTH.
        r = harness.fcgi_request(self.other_addr, {
            "REQUEST_METHOD": "POST", "REQUEST_URI": f"{BASE}/create", "REMOTE_USER": "alice",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "100"}, stdin=b'{"name":"abc')
        self.assertError(r, 400, "TRUNCATED_BODY")
        for bad in ("-1", "1e3", "0x10", " 14", "99999999999999999999999"):
            with self.subTest(content_length=bad):
                r = harness.fcgi_request(self.other_addr, {
                    "REQUEST_METHOD": "POST", "REQUEST_URI": f"{BASE}/create",
                    "REMOTE_USER": "alice", "CONTENT_TYPE": "application/json",
                    "CONTENT_LENGTH": bad}, stdin=b'{"name":"abcdef"}')
                self.assertIn(r.status, (400, 413), r)
                self.assertEqual(r.json()["code"].isupper(), True)
        self.assertEqual(self.list_ids("alice"), before)

    def test_hostile_headers(self):
        # Far beyond the servers' header limits: the server refuses (400 or 431, in gvx's JSON
        # shape from scripts/errors) and lives on.
        auth = self.auth("alice")["Authorization"]
        for junk in (f"X-Junk: {'j' * 200_000}\r\n",
                     "".join(f"X-H{i}: {'v' * 50}\r\n" for i in range(2000)),
                     f"Cookie: {'c=' + 'x' * 100_000}\r\n"):
            r = self.raw((f"GET {BASE}/list HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                          f"{junk}Connection: close\r\n\r\n").encode())
            self.assertIsNotNone(r)
            self.assertIn(r.status, (400, 431), r)
            self.assertError(r, r.status)
        # Credentials the server's Basic authentication rejects never reach gvx-fcgi.
        # (lighttpd answers a wrong password after a deliberate second: one such case here.)
        for auth in ("Basic !!!!", "Basic " + "A" * 6000, "Bearer gvx_x", "Basic",
                     harness.basic_auth("alice", "wrong")):
            r = self.call("GET", "/list", headers={"Authorization": auth})
            self.assertIn(r.status, (400, 401), r)
            self.assertError(r, r.status)
        r = self.call("GET", "/list")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertTrue(r.header("WWW-Authenticate", "").startswith("Basic"), r.headers)
        self.assertServerAlive()


class SessionApi(ApiCase):
    """gvx-fcgi authenticates callers itself: better-auth session cookies, Bearer tokens."""

    config = "api-session"
    fixture = FIXTURE

    gvx_args = ("--session-secret-file", SECRET_FILE, "--trusted-origin", TRUSTED + "/",
                "--trusted-origin", "http://localhost:3000")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        expires = now_ms() + 3600_000
        with harness.db_connect(cls.db) as c:
            c.executemany(
                "INSERT INTO session (id, expires_at, token, created_at, updated_at, user_id)"
                " VALUES (?, ?, ?, 0, 0, ?)",
                [("s1", expires, "sessAliceTOKENaaaaaaaaaaaaaaaaa", "u_alice"),
                 ("s2", expires, "sessBobTOKENbbbbbbbbbbbbbbbbbbbb", "u_bob"),
                 ("s3", now_ms() - 1000, "sessExpiredTOKENccccccccccccccc", "u_alice")])
        cls.sessions = {"u_alice": "sessAliceTOKENaaaaaaaaaaaaaaaaa",
                        "u_bob": "sessBobTOKENbbbbbbbbbbbbbbbbbbbb"}

    def auth(self, user):
        value = harness.sign_cookie(self.sessions[user], SECRET)
        return {"Cookie": f"theme=dark; better-auth.session_token={value}", "Origin": TRUSTED}

    def test_cookie_round_trip_for_two_users(self):
        # Gitflare's own token for alice is in her list, created by better-auth.
        self.assertIn("GfAPk1aaaaaaaaaaaaaaaaaaaaaaaaa1", self.list_ids("u_alice"))
        a = self.create("u_alice", "alice via cookie")
        b = self.create("u_bob", "bob via cookie")
        self.assertEqual(a["userId"], "u_alice")
        self.assertIn(a["id"], self.list_ids("u_alice"))
        self.assertNotIn(a["id"], self.list_ids("u_bob"))
        self.assertError(self.call("POST", "/delete", "u_bob", {"keyId": a["id"]}), 404,
                         "NOT_FOUND")
        self.assertEqual(self.authorize(a["key"]).status, 200)
        r = self.call("POST", "/delete", "u_alice", {"keyId": a["id"]})
        self.assertEqual((r.status, r.json()), (200, {"success": True}))
        self.assertEqual(self.authorize(a["key"]).status, 401)
        self.assertNotIn(a["id"], self.list_ids("u_alice"))
        self.assertEqual(self.call("POST", "/delete", "u_bob", {"keyId": b["id"]}).status, 200)

    def test_secure_cookie_name_and_referer(self):
        value = harness.sign_cookie(self.sessions["u_bob"], SECRET)
        cookie = {"Cookie": f"__Secure-better-auth.session_token={value}"}
        r = self.call("GET", "/list", headers=cookie)
        self.assertEqual(r.status, 200, r)
        # A trusted Referer stands in for a missing Origin.
        r = self.call("POST", "/create", body={"name": "via referer"},
                      headers={**cookie, "Referer": "http://localhost:3000/settings/tokens"})
        self.assertEqual(r.status, 200, r)
        self.secrets.append(r.json()["key"])

    def test_cookie_posts_need_a_trusted_origin(self):
        before = self.list_ids("u_alice")
        value = harness.sign_cookie(self.sessions["u_alice"], SECRET)
        cookie = f"better-auth.session_token={value}"
        for extra in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"},
                      {"Referer": "https://evil.example/git.example.test"},
                      {"Origin": TRUSTED + ".evil.example"},
                      {"Origin": "https://evil.example", "Referer": TRUSTED + "/x"}):
            for endpoint, body in (("/create", {"name": "csrf"}), ("/delete", {"keyId": "x"}),
                                   ("/update", {"keyId": "x", "name": "csrf"})):
                with self.subTest(headers=extra, endpoint=endpoint):
                    r = self.call("POST", endpoint, body=body,
                                  headers={"Cookie": cookie, **extra})
                    self.assertError(r, 403, "FORBIDDEN")
        self.assertEqual(self.list_ids("u_alice"), before)
        # Reading needs no Origin.
        self.assertEqual(self.call("GET", "/list", headers={"Cookie": cookie}).status, 200)

    def test_bad_sessions_get_401(self):
        good = harness.sign_cookie(self.sessions["u_alice"], SECRET)
        token = self.sessions["u_alice"]
        for value in (token,                                               # unsigned
                      harness.sign_cookie(token, "wrong secret"),          # other secret
                      good[:-4] + "AAAA",                                  # tampered signature
                      harness.sign_cookie("sessUnknownTOKENxxxxxxxxxxxxxx", SECRET),
                      harness.sign_cookie("sessExpiredTOKENccccccccccccccc", SECRET),
                      "%zz%" + good, "." + good, "", "x" * 5000):
            with self.subTest(value=value[:40]):
                r = self.call("GET", "/list",
                              headers={"Cookie": f"better-auth.session_token={value}"})
                self.assertError(r, 401, "UNAUTHORIZED")
        self.assertError(self.call("GET", "/list"), 401, "UNAUTHORIZED")
        self.assertError(self.call("POST", "/create", body={"name": "anon"}), 401, "UNAUTHORIZED")

    def test_bearer_and_x_api_key_callers(self):
        # A token as the caller sees itself (/self); it may not list tokens (SPEC §13).
        t = self.create("u_bob", "bob bearer")
        for headers in ({"Authorization": f"Bearer {t['key']}"}, {"x-api-key": t["key"]}):
            r = self.call("GET", "/self", headers=headers)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["id"], t["id"])
            self.assertError(self.call("GET", "/list", headers=headers), 403, "FORBIDDEN")
        # A token made by better-auth (no checksum) works too.
        r = self.call("GET", "/self", headers={"Authorization": f"Bearer {FIXTURE_ALICE_TOKEN}"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], "GfAPk1aaaaaaaaaaaaaaaaaaaaaaaaa1")
        # Deleted through the cookie session: the very next Bearer call fails.
        self.assertEqual(self.call("POST", "/delete", "u_bob", {"keyId": t["id"]}).status, 200)
        r = self.call("GET", "/self", headers={"Authorization": f"Bearer {t['key']}"})
        self.assertError(r, 401, "UNAUTHORIZED")
        for bad in ("gvx_" + "A" * 64, "gvx_" + "A" * 5000, "' OR 1=1 --", "gvx_\u00e9"):
            with self.subTest(token=bad[:20]):
                r = self.call("GET", "/self", headers={"x-api-key": bad.encode().decode("latin-1")})
                self.assertError(r, 401, "UNAUTHORIZED")


class RateLimitedApi(ApiCase):
    """Issue 5: with rate limiting switched on, a token used as Bearer beyond its limit: 429."""

    config = "api-session"
    fixture = FIXTURE
    gvx_args = ("--session-secret-file", SECRET_FILE, "--trusted-origin", "http://localhost:3000")

    def test_bearer_beyond_the_limit_gets_429(self):
        with harness.db_connect(self.db) as c:
            c.executemany("INSERT INTO gvx_config (name, value) VALUES (?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                          [("rate_limit_enabled", 1), ("rate_limit_max", 3),
                           ("rate_limit_time_window", 60_000)])
            c.execute("INSERT INTO session (id, expires_at, token, created_at, updated_at,"
                      " user_id) VALUES ('s', ?, 'sessRateTOKEN', 0, 0, 'u_alice')",
                      (now_ms() + 3600_000,))
        value = harness.sign_cookie("sessRateTOKEN", SECRET)
        r = self.call("POST", "/create", body={"name": "limited"},
                      headers={"Cookie": f"better-auth.session_token={value}",
                               "Origin": "http://localhost:3000"})
        self.assertEqual(r.status, 200, r)
        token = r.json()
        self.secrets.append(token["key"])
        bearer = {"Authorization": f"Bearer {token['key']}"}
        for _ in range(3):
            self.assertEqual(self.call("GET", "/self", headers=bearer).status, 200)
        r = self.call("GET", "/self", headers=bearer)
        self.assertError(r, 429, "RATE_LIMITED")
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, r.headers)
        self.assertTrue(retry.isdigit() and 1 <= int(retry) <= 60, retry)
        # The other process agrees: the window is shared through the database.
        self.assertEqual(self.authorize(token["key"]).status, 429)
        listed = self.call("GET", f"/get?id={token['id']}",
                           headers={"Cookie": f"better-auth.session_token={value}"}).json()
        self.assertEqual(listed["requestCount"], 3)


def main():
    global SERVER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER, choices=["lighttpd", "apache", "nginx"])
    args, rest = parser.parse_known_args()
    SERVER = args.server
    binary = harness.server_module(SERVER).BINARY
    if not shutil.which(binary):
        print(f"{SERVER} is not installed ({binary}): skipped")
        return 77
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{SERVER}: {passed} passed, {failed} failed, {len(result.skipped)} skipped "
          f"in {time.monotonic() - started:.1f}s")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
