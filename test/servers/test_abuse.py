#!/usr/bin/env python3
"""What an anonymous client can cost, and where secrets must never go (SPEC §14), behind one
real web server started from the configurations in scripts/<server>/.

    python3 test/servers/test_abuse.py --server lighttpd|apache|nginx [TEST_NAME_PART...]

Exit code 77 (CTest's skip) when the server, git or fcgiwrap (nginx) is not installed.

- A flood of 20,000 mixed bad credentials (unknown, malformed, mistyped passwords, expired,
  disabled and revoked tokens, from 200 client addresses with random user agents) through the
  Git configuration grows the database by at most 1 MiB; a token's own trail survives it and
  a cleanup run with a small activity_max_rows; the typed password is in no database file.
- Files and sockets that gvx-fcgi creates are not readable by other users.
- An unprivileged local user (nobody) cannot reach the API's gvx-fcgi with a forged
  REMOTE_USER.
- No token in any log (also one typed as the Basic user name at the API), nor in the
  environment of git-http-backend's hooks (a pre-receive hook dumps its environment).
- A 2 MiB push sent with Content-Length (not chunked) lands.
- Apache: a slow anonymous body does not delay the next request.

Paths come from the environment as for harness.py (GVX_FCGI, GVX_EXT, SQLITE3).
"""

import os
import pathlib
import random
import socket
import stat
import string
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import test_git  # noqa: E402  (its Site: a server, a database, bare repositories, git)

SERVER = "lighttpd"  # set from the command line in main()
BASE = "/api/auth/api-key"
FLOOD = 20_000
MIB = 1 << 20
PASSWORD = "Zq8#Wombat-2024!"  # what a user might type by mistake instead of a token
USERS = {"alice": "alice-pw", "bob": "bob-pw"}
ALNUM = string.ascii_letters + string.digits


def random_token(prefix="gvx_"):
    return prefix + "".join(random.choice(ALNUM) for _ in range(64))


def database_bytes(db):
    """The database's size once its WAL is folded in (what it costs on disk)."""
    with harness.sqlite(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (db, f"{db}-wal") if os.path.exists(p))


def db_files(db):
    return [pathlib.Path(p) for p in (db, f"{db}-wal", f"{db}-shm") if os.path.exists(p)]


SUPPORT_DIR = pathlib.Path(__file__).resolve().parents[1] / "support"  # gvxtest


def as_nobody(code, *args):
    """Runs python3 -c code as the unprivileged user nobody; its (returncode, output)."""
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        sys.executable, "-c", code, *map(str, args)],
                       capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin",
                            "PYTHONPATH": str(SUPPORT_DIR),
                            "PYTHONDONTWRITEBYTECODE": "1"})
    return r.returncode, r.stdout + r.stderr


# Sent by nobody: a FastCGI request to the API's gvx-fcgi claiming to be alice.
FORGED_REQUEST = r"""
import json, sys
from gvxtest import fcgi
addr = sys.argv[1]
try:
    r = fcgi.request(addr, {
        "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/auth/api-key/create",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "19",
        "REMOTE_USER": "alice", "REMOTE_ADDR": "127.0.0.1"}, stdin=b'{"name":"stolen!!"}')
except OSError as e:
    print("refused:", e.__class__.__name__, e)
    sys.exit(0)
print("answered", r.status, r.body[:200])
sys.exit(1 if r.status == 200 else 0)
"""


class Flood:
    """FLOOD requests with bad credentials of every kind, from many client addresses."""

    def __init__(self, port, path, kinds, threads=6, addresses=200):
        self.port, self.path, self.kinds = port, path, kinds
        self.threads, self.addresses = threads, addresses
        self.statuses = {}
        self.errors = 0
        self.lock = threading.Lock()

    def one(self, i):
        auth = self.kinds[i % len(self.kinds)]()
        agent = "flood/" + "".join(random.choice(ALNUM) for _ in range(random.randint(8, 60)))
        head = (f"GET {self.path} HTTP/1.1\r\nHost: {harness.HOST}\r\nUser-Agent: {agent}\r\n"
                + (f"Authorization: {auth}\r\n" if auth else "") + "Connection: close\r\n\r\n")
        source = f"127.0.{1 + i % self.addresses // 250}.{2 + i % self.addresses % 250}"
        try:
            with socket.create_connection((harness.HOST, self.port), timeout=30,
                                          source_address=(source, 0)) as s:
                s.sendall(head.encode())
                data = b""
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    data += c
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        except OSError:
            status = 0
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def run(self, total=FLOOD):
        counter = iter(range(total))
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                self.one(i)

        ts = [threading.Thread(target=worker) for _ in range(self.threads)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.monotonic() - t0


class GitAbuse(unittest.TestCase):
    """The Git configuration where every request needs a token: the authorizer sees all."""

    @classmethod
    def setUpClass(cls):
        cls.site = test_git.Site(SERVER, "git-everything-with-token")
        cls.site.start()
        cls.addClassCleanup(cls.site.stop)
        cls.hook_env = cls.site.dir / "hook-env"
        hook = cls.site.repos / test_git.REPO / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\nenv >> '{cls.hook_env}'\ncat >/dev/null\nexit 0\n")
        hook.chmod(0o755)
        if os.geteuid() == 0 and SERVER == "apache":  # git-http-backend runs as www-data
            cls.hook_env.touch()
            harness.chown_to_worker(hook, cls.hook_env)

    def refs(self, auth):
        return harness.http("GET", self.site.srv.url(
            f"/git/{test_git.REPO}/info/refs?service=git-upload-pack"),
            headers={"Authorization": auth, "User-Agent": "git/2.39.5"} if auth else {})

    def trail(self, ids):
        with harness.sqlite(self.site.db) as c:
            return {row[0] for row in c.execute(
                f"SELECT id FROM gvx_activity WHERE key_id IN ({','.join('?' * len(ids))})",
                ids)}

    def test_flood_is_bounded_and_the_owners_trail_survives(self):
        s = self.site
        alice, expired, disabled = s.tokens["alice"], s.tokens["expired"], s.tokens["disabled"]
        basic = harness.basic_auth
        for auth, want in ((basic("alice", alice), 200), (basic("alice", expired), 401),
                           (basic("alice", disabled), 401)) * 3:
            self.assertEqual(self.refs(auth).status, want)
        ids = [s.token_id(label) for label in ("alice", "expired", "disabled")]
        trail = self.trail(ids)
        with harness.sqlite(s.db) as c:
            seen = c.execute("SELECT sum(count) FROM gvx_activity WHERE key_id IN (?, ?, ?)",
                             ids).fetchone()[0]
        self.assertEqual(seen, 9)  # every check is counted (refusals in one row each)
        before = database_bytes(s.db)
        kinds = [
            lambda: basic("alice", random_token()),                       # unknown token
            lambda: basic(random_token(), ""),                            # ... as the user name
            lambda: basic("alice", PASSWORD),                             # a typed password
            lambda: basic("alice", random_token()[:random.randint(5, 40)]),  # truncated
            lambda: "Bearer " + random_token("ghp_"),                     # another prefix
            lambda: "Basic " + "".join(random.choice(ALNUM + "!*") for _ in range(30)),
            lambda: None,                                                 # no credentials
            lambda: basic("alice", expired),
            lambda: basic("alice", disabled),
            lambda: basic("alice", s.tokens["revoked"]),
        ]
        flood = Flood(s.srv.port, f"/git/{test_git.REPO}/info/refs?service=git-upload-pack",
                      kinds)
        seconds = flood.run()
        after = database_bytes(s.db)
        print(f"\n{SERVER}: {FLOOD} bad requests in {seconds:.1f} s "
              f"({FLOOD / seconds:.0f}/s), statuses {flood.statuses}; database "
              f"{before} -> {after} bytes (+{(after - before) / 1024:.0f} KiB)", file=sys.stderr)
        self.assertEqual(set(flood.statuses), {401}, flood.statuses)
        self.assertLessEqual(after - before, MIB)
        self.assertTrue(trail <= self.trail(ids), "the flood removed the owner's trail")

        # Cleanup with a tiny global row limit must not take a token's own rows either.
        with harness.sqlite(s.db) as c:
            c.execute("INSERT OR REPLACE INTO gvx_config (name, value) VALUES "
                      "('activity_max_rows', 100)")
        r = subprocess.run([str(harness.SCRIPTS_DIR / "gvx-cleanup"), "--fast", str(s.db)],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "GVX_EXT": harness.GVX_EXT})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(trail <= self.trail(ids), "cleanup removed the owner's trail")
        # Refusals of the owner's own tokens keep their reason for the owner to read.
        with harness.sqlite(s.db) as c:
            outcomes = {row[0] for row in c.execute(
                "SELECT outcome FROM gvx_activity WHERE key_id IN (?, ?)", ids[1:])}
        self.assertEqual(outcomes, {"KEY_EXPIRED", "KEY_DISABLED"})
        for f in db_files(s.db):
            data = f.read_bytes()
            self.assertNotIn(PASSWORD.encode(), data, f)
            self.assertNotIn(PASSWORD[:6].encode(), data, f"part of the password in {f}")

    def test_hooks_never_see_the_token(self):
        s = self.site
        token = s.tokens["alice2"]
        r = self.push(token, "hook sees no token", user="alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.push(token, "token as the user name", user=token, password="")
        self.assertEqual(r.returncode, 0, r.stderr)
        env = self.hook_env.read_text()
        self.assertIn("REMOTE_USER=alice", env)
        self.assertFalse(token in env, "the token is in the hook's environment")
        leaked = [v.split("=")[0] for v in env.splitlines()
                  if v.startswith(("HTTP_AUTHORIZATION=", "HTTP_X_API_KEY=", "HTTP_COOKIE="))]
        self.assertEqual(leaked, [], "credentials in the hook's environment")

    def push(self, token, message, user, password=None):
        s = self.site
        url = s.url(user, token if password is None else password)
        if password == "":
            url = s.url(token)
        dest = s.fresh_dir("hook")
        s.git("clone", "-q", url, dest)
        (dest / f"f-{time.monotonic_ns()}").write_text(message)
        s.git("-C", dest, "add", ".")
        s.git("-C", dest, "commit", "-q", "-m", message)
        return s.git("-C", dest, "push", url, "HEAD:main", check=False)

    def test_push_of_2_mib_with_content_length(self):
        s = self.site
        url = s.url("alice", s.tokens["alice"])
        dest = s.fresh_dir("big")
        s.git("clone", "-q", url, dest)
        (dest / "big.bin").write_bytes(os.urandom(2 * MIB))
        s.git("-C", dest, "add", "big.bin")
        s.git("-C", dest, "commit", "-q", "-m", "two mebibytes")
        # A postBuffer larger than the pack: git sends it with Content-Length, not chunked.
        r = s.git("-c", "http.postBuffer=16777216", "-C", dest, "push", url, "HEAD:main",
                  check=False, env=s.env(GIT_TRACE_CURL="1", GIT_TRACE_CURL_NO_DATA="1"))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertRegex(r.stderr, r"Content-Length: 2\d{6}")
        self.assertEqual(s.head(), "two mebibytes")

    def test_zz_no_token_in_logs_or_database_files(self):
        s = self.site
        s.stop()
        for label, token in s.tokens.items():
            with self.subTest(token=label):
                harness.assert_not_logged(token, s.srv.state_dir, s.repos)
                for f in [*s.dir.glob("*.log"), self.hook_env, *db_files(s.db)]:
                    self.assertNotIn(token.encode(), f.read_bytes(), f)


class ApiAbuse(unittest.TestCase):
    """The API configurations: files, sockets, logs and local impersonation."""

    def start(self, config, args):
        work = harness.tmpdir(f"abuse-api-{SERVER}")
        db = work / "db" / "gvx.db"
        db.parent.mkdir()
        db.parent.chmod(0o755)
        htpasswd = harness.write_htpasswd(work / "htpasswd", USERS)
        srv = harness.server_module(SERVER).start(
            config, fcgi={"API": ["--db", db, *args]}, HTPASSWD=htpasswd)
        self.addCleanup(srv.stop)
        return srv, db, work

    def api_addr(self, srv):
        """Where the API's gvx-fcgi listens: the address the config connects to."""
        v = srv.vars
        if "API_SOCKET" in v:
            return str(v["API_SOCKET"])
        if "API_ADDR" in v:
            return str(v["API_ADDR"]).removeprefix("unix:")
        # lighttpd's own socket for the gvx-fcgi it spawns ("-0" for the first process)
        return str(sorted(srv.state_dir.glob("gvx-api.sock*"))[0])

    def test_basic_api_files_sockets_logs_and_forged_remote_user(self):
        srv, db, work = self.start("api-basic", ["--trust-remote-user"])
        token_typed_as_name = random_token()
        auth = harness.basic_auth("alice", "alice-pw")
        r = harness.http("POST", srv.url(f"{BASE}/create"), headers={"Authorization": auth},
                         json_body={"name": "laptop"})
        self.assertEqual(r.status, 200, r)
        key = r.json()["key"]
        for a in (harness.basic_auth(token_typed_as_name, ""),
                  harness.basic_auth(key, "x-oauth-basic"), harness.basic_auth("alice", key)):
            self.assertEqual(harness.http("GET", srv.url(f"{BASE}/list"),
                                          headers={"Authorization": a}).status, 401)
        # Files: the database, its -wal and -shm, and the socket gvx-fcgi listens on.
        files = db_files(db)
        self.assertEqual(len(files), 3, files)
        addr = self.api_addr(srv)
        if "API_SOCKET" in srv.vars:
            files.append(pathlib.Path(addr))  # gvx-fcgi made it
        for f in files:
            mode = stat.S_IMODE(os.stat(f).st_mode)
            self.assertEqual(mode & 0o007, 0, f"{f} is mode {mode:o}: other users can use it")
        if addr.startswith("/"):  # whoever made it, other users cannot connect
            mode = stat.S_IMODE(os.stat(addr).st_mode)
            self.assertEqual(mode & 0o002, 0, f"{addr} is mode {mode:o}")
        # nobody, a local user, claims to be alice straight to gvx-fcgi.
        rc, out = as_nobody(FORGED_REQUEST, addr)
        self.assertEqual(rc, 0, f"a forged REMOTE_USER was believed: {out}")
        with harness.sqlite(db) as c:
            self.assertEqual(c.execute("SELECT count(*) FROM apikey WHERE name = 'stolen!!'")
                             .fetchone()[0], 0)
        srv.stop()
        for secret in (key, token_typed_as_name):
            harness.assert_not_logged(secret, srv.state_dir)
        self.assertTrue(srv.logs(), "the server wrote no logs at all")

    def test_session_api_logs(self):
        srv, db, work = self.start("api-session", [])
        token_typed_as_name = random_token()
        for a in (harness.basic_auth(token_typed_as_name, ""),
                  harness.basic_auth("alice", token_typed_as_name),
                  "Bearer " + token_typed_as_name):
            self.assertEqual(harness.http("GET", srv.url(f"{BASE}/list"),
                                          headers={"Authorization": a}).status, 401)
        srv.stop()
        harness.assert_not_logged(token_typed_as_name, srv.state_dir)


class SlowBody(unittest.TestCase):
    """Apache streams a body to gvx-fcgi as it arrives: one stalled anonymous body must not
    hold the (single) gvx-fcgi process while others wait."""

    def test_slow_anonymous_body_does_not_delay_the_next_request(self):
        work = harness.tmpdir(f"abuse-slow-{SERVER}")
        db = work / "gvx.db"
        token = harness.gvx_sql(db, "SELECT gvx_create('alice', 'slow test') ->> 'key';").strip()
        srv = harness.server_module(SERVER).start("api-session", fcgi={"API": ["--db", db]})
        self.addCleanup(srv.stop)
        slow = socket.create_connection((harness.HOST, srv.port), timeout=60)
        self.addCleanup(slow.close)
        slow.sendall(f"POST {BASE}/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     f"\r\nContent-Length: 4000\r\n\r\n{{".encode())
        time.sleep(0.5)  # the request reaches gvx-fcgi, its body stalls
        t0 = time.monotonic()
        r = harness.http("GET", srv.url(f"{BASE}/self"),
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)
        waited = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertLess(waited, 3.0, f"the next request waited {waited:.1f} s")


CASES = {
    "lighttpd": [GitAbuse, ApiAbuse],
    "apache": [GitAbuse, ApiAbuse, SlowBody],
    "nginx": [GitAbuse, ApiAbuse],
}


def main():
    global SERVER
    args = sys.argv[1:]
    if args and args[0] == "--server":
        args.pop(0)
    if not args or args[0] not in CASES:
        print(f"usage: {sys.argv[0]} --server {'|'.join(CASES)} [TEST_NAME_PART...]",
              file=sys.stderr)
        return 2
    SERVER = args.pop(0)
    test_git.SERVER = SERVER
    binary = harness.server_module(SERVER).BINARY
    needed = [binary, test_git.GIT] + ([test_git.FCGIWRAP] if SERVER == "nginx" else [])
    missing = [p for p in needed if not os.access(p, os.X_OK)]
    if missing:
        print(f"skipped: not installed: {', '.join(missing)}", file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in CASES[SERVER])
    if args:
        suite = unittest.TestSuite(
            t for s in suite for t in s if any(a in t.id() for a in args))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
