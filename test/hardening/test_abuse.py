#!/usr/bin/env python3
"""gvx-fcgi and gvx.so against abuse (SPEC §14), spoken to directly over FastCGI:

  - one 401 for unknown, expired, disabled and revoked tokens; the reason stays in the
    owner's activity;
  - the caller is known from the headers before any body is read: an anonymous request whose
    body never comes is answered at once;
  - nothing a client typed is stored unless it has a token's shape;
  - the database, its -wal and -shm, and the Unix socket are not readable by other users;
    --socket-mode and --socket-group set the socket's mode and group;
  - --trust-remote-user is refused on a TCP listener unless --trusted-peer names the peers;
  - no core dump unless --allow-core-dumps;
  - max_tokens_per_user (400 TOO_MANY_TOKENS, also in SQL);
  - names with control characters, bidirectional overrides or nothing visible are refused;
  - Apache's AuthBasicProvider mode matches the typed user name exactly.

    test_abuse.py [TEST_NAME_PART...]     (GVX_FCGI, GVX_EXT, SQLITE3 as for harness.py)
"""

import grp
import json
import os
import pathlib
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "servers"))
import harness  # noqa: E402
from gvxtest import fcgi  # noqa: E402  (on the path harness sets)

BASE = "/api/auth/api-key"
PASSWORD = "Zq8#Wombat-2024!"


def now_ms():
    return int(time.time() * 1000)


def api(addr, method, endpoint, user=None, body=None, extra=None):
    params = {"REQUEST_METHOD": method, "REQUEST_URI": f"{BASE}/{endpoint}",
              "REMOTE_ADDR": "203.0.113.9"}
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        params.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))})
    if user:
        params["REMOTE_USER"] = user
    params.update(extra or {})
    return harness.fcgi_request(addr, params, stdin=data)


def authorize(addr, authorization, extra=None):
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/git/p.git/info/refs",
              "REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "git/2.39.5",
              "HTTP_AUTHORIZATION": authorization}
    params.update(extra or {})
    return harness.fcgi_request(addr, params, role="AUTHORIZER")


class Daemon:
    """One gvx-fcgi on a Unix socket in a fresh directory."""

    def __init__(self, case, *args, db=None, sock_name="gvx.sock"):
        self.dir = harness.tmpdir("abuse-direct")
        self.db = db or self.dir / "gvx.db"
        self.sock = str(self.dir / sock_name)
        self.procs, _ = harness.start_gvx_fcgi("--db", self.db, *args, log_dir=self.dir,
                                               listen=self.sock)
        case.addCleanup(self.stop)

    def stop(self):
        for p in self.procs:
            p.stop()

    def sql(self, sql):
        return harness.gvx_sql(self.db, sql).strip()

    def token(self, user, name="a token"):
        return self.sql(f"SELECT gvx_create('{user}', '{name}') ->> 'key';")

    def log(self):
        return "".join(p.log_tail(100000) for p in self.procs)


class OneRefusal(unittest.TestCase):
    def test_one_401_for_every_refused_token_and_the_reason_for_the_owner(self):
        d = Daemon(self, "--trust-remote-user")
        tokens = {label: d.token("alice", f"{label} token")
                  for label in ("expired", "disabled", "revoked")}
        d.sql("UPDATE apikey SET expires_at = 1000 WHERE name = 'expired token';"
              "UPDATE apikey SET enabled = 0 WHERE name = 'disabled token';"
              "DELETE FROM apikey WHERE name = 'revoked token';")
        tokens["unknown"] = "gvx_" + "U" * 64
        seen = {}
        for label, token in tokens.items():
            for how in ("basic", "bearer", "nginx"):
                auth = (harness.basic_auth("alice", token) if how != "bearer"
                        else f"Bearer {token}")
                r = authorize(d.sock, auth, {"GVX_MODE": "authorize"} if how == "nginx" else {})
                self.assertEqual(r.status, 401, (label, how, r))
                seen.setdefault(how, set()).add((r.body, tuple(sorted(r.headers))))
        for how, answers in seen.items():
            self.assertEqual(len(answers), 1, f"{how}: the 401s differ: {answers}")
        outcomes = d.sql("SELECT group_concat(DISTINCT outcome) FROM (SELECT outcome FROM "
                         "gvx_activity WHERE key_id IS NOT NULL ORDER BY outcome);")
        self.assertEqual(outcomes, "KEY_DISABLED,KEY_EXPIRED")


class BodyAfterCaller(unittest.TestCase):
    def test_anonymous_request_is_answered_without_waiting_for_its_body(self):
        d = Daemon(self)
        params = {"REQUEST_METHOD": "POST", "REQUEST_URI": f"{BASE}/create",
                  "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "5000"}
        out = fcgi.record(fcgi.BEGIN_REQUEST, struct.pack(">HB5x", fcgi.RESPONDER, 0))
        out += fcgi.stream(fcgi.PARAMS, fcgi.encode_params(params))
        out += fcgi.record(fcgi.STDIN, b"{")  # and then nothing
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(d.sock)
            s.sendall(out)
            t0 = time.monotonic()
            try:
                data = s.recv(65536)
            except socket.timeout:
                data = b""
        self.assertIn(b"Status: 401", data, "no answer while the body was outstanding")
        self.assertLess(time.monotonic() - t0, 3)
        # The process is free for the next caller.
        self.assertEqual(api(d.sock, "GET", "list").status, 401)


class NothingTypedIsStored(unittest.TestCase):
    def test_passwords_and_other_typed_text_never_reach_the_database(self):
        d = Daemon(self)
        typed = [PASSWORD, "hunter2-" + "x" * 30, "gvx_short", "ghp_" + "a" * 36]
        for t in typed:
            for auth in (harness.basic_auth("alice", t), harness.basic_auth(t, ""),
                         f"Bearer {t}"):
                self.assertEqual(authorize(d.sock, auth).status, 401)
        shaped = "gvx_" + "S" * 64
        self.assertEqual(authorize(d.sock, harness.basic_auth("alice", shaped)).status, 401)
        d.stop()
        data = b"".join(p.read_bytes() for p in d.dir.glob("gvx.db*"))
        for t in typed:
            self.assertFalse(t[:6].encode() in data, f"{t[:6]!r} (typed) is in the database")
        starts = d.sql("SELECT group_concat(DISTINCT quote(key_start)) FROM (SELECT key_start "
                       "FROM gvx_activity ORDER BY key_start);")
        self.assertEqual(starts, f"'',{shaped[:6]!r}")  # only a token's shape keeps its start


class FilesAndSockets(unittest.TestCase):
    def modes(self, d):
        return {p.name: stat.S_IMODE(p.stat().st_mode) for p in d.dir.glob("gvx.*")}

    def test_database_files_and_socket_are_private(self):
        d = Daemon(self)
        d.token("alice")
        self.assertEqual(api(d.sock, "GET", "list").status, 401)  # gvx-fcgi wrote activity
        authorize(d.sock, harness.basic_auth("alice", "gvx_" + "Q" * 64))
        modes = self.modes(d)
        self.assertEqual(set(modes), {"gvx.db", "gvx.db-wal", "gvx.db-shm", "gvx.sock"})
        for name, mode in modes.items():
            self.assertEqual(mode & 0o007, 0, f"{name} is {mode:o}")
        self.assertEqual(modes["gvx.sock"], 0o660)

    def test_an_existing_world_readable_database_is_closed_to_others(self):
        pre = harness.tmpdir("abuse-pre")
        db = pre / "gvx.db"
        with harness.sqlite(db) as c:
            c.execute("CREATE TABLE t(x)")
        db.chmod(0o644)
        Daemon(self, db=db)
        self.assertEqual(stat.S_IMODE(db.stat().st_mode) & 0o007, 0)

    def test_socket_mode_and_group(self):
        group = grp.getgrnam("nogroup")
        d = Daemon(self, "--socket-mode", "0640", "--socket-group", "nogroup")
        st = os.stat(d.sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(st.st_gid, group.gr_gid)
        for bad in (["--socket-mode", "0666"], ["--socket-mode", "rw"],
                    ["--socket-group", "no-such-group-here"]):
            r = subprocess.run([harness.GVX_FCGI, "--db", d.dir / "x.db", *bad, "--listen",
                                d.dir / "bad.sock"], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn(bad[0], r.stderr)


class TrustRemoteUser(unittest.TestCase):
    def test_refused_on_tcp_unless_peers_are_named(self):
        work = harness.tmpdir("abuse-tcp")
        db = work / "gvx.db"
        port = harness.free_port()
        r = subprocess.run([harness.GVX_FCGI, "--db", db, "--trust-remote-user", "--listen",
                            f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--trusted-peer", r.stderr)
        # A TCP socket handed over on fd 0 (spawn-fcgi) is a TCP listener too.
        with socket.socket() as lsock:
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(8)
            r = subprocess.run([harness.GVX_FCGI, "--db", db, "--trust-remote-user"],
                               stdin=lsock.fileno(), capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        # Named peers: only those may connect, and they are believed.
        procs, addr = harness.start_gvx_fcgi("--db", db, "--trust-remote-user",
                                             "--trusted-peer", "127.0.0.1", log_dir=work)
        self.addCleanup(lambda: [p.stop() for p in procs])
        self.assertEqual(api(addr, "GET", "list", user="alice").status, 200)
        procs2, addr2 = harness.start_gvx_fcgi("--db", db, "--trust-remote-user",
                                               "--trusted-peer", "192.0.2.1", log_dir=work,
                                               name="gvx-fcgi-other")
        self.addCleanup(lambda: [p.stop() for p in procs2])
        try:
            r = api(addr2, "GET", "list", user="alice")
            answer = r if (r.headers or r.body) else None
        except OSError:
            answer = None  # closed at once: libfcgi refuses peers not on the list
        self.assertIsNone(answer, "a peer that --trusted-peer does not name was answered")


class CoreDumps(unittest.TestCase):
    def crash(self, *args):
        work = harness.tmpdir("abuse-core")
        secret = work / "secret"
        secret.write_text("session-secret-for-core-dump-test-0123456789\n")
        db = work / "gvx.db"
        token = harness.gvx_sql(db, "SELECT gvx_create('alice', 'core') ->> 'key';").strip()
        sock = str(work / "gvx.sock")

        def unlimited():
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                      resource.RLIM_INFINITY))
        # Under AddressSanitizer (make sanitize) the crash must stay a crash: ASan would catch
        # SIGSEGV and exit 1, and it turns core dumps off at start unless told not to.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "handle_segv=0",
                                                     "disable_coredump=0"]))
        [p], _ = harness.start_gvx_fcgi("--db", db, "--session-secret-file", secret, *args,
                                        log_dir=work, listen=sock, cwd=work,
                                        preexec_fn=unlimited, env=env)
        try:
            self.assertEqual(authorize(sock, harness.basic_auth("alice", token)).status, 200)
            os.kill(p.pid, signal.SIGSEGV)
            p.wait(20)
        finally:
            if p.alive():
                p.kill()
        self.assertEqual(p.returncode, -signal.SIGSEGV)
        return [f for f in work.iterdir() if f.name.startswith("core")], token

    def test_no_core_dump_unless_asked_for(self):
        pattern = pathlib.Path("/proc/sys/kernel/core_pattern").read_text().strip()
        if pattern.startswith("|") or "/" in pattern:
            self.skipTest(f"core dumps go elsewhere here (core_pattern {pattern!r})")
        cores, _ = self.crash()
        self.assertEqual(cores, [], "gvx-fcgi dumped core with its secrets")
        cores, _ = self.crash("--allow-core-dumps")
        self.assertEqual(len(cores), 1, "the test cannot see core dumps here")


class TokenCap(unittest.TestCase):
    def test_max_tokens_per_user(self):
        d = Daemon(self, "--trust-remote-user")
        d.sql("INSERT INTO gvx_config (name, value) VALUES ('max_tokens_per_user', 3);")
        for i in range(3):
            self.assertEqual(api(d.sock, "POST", "create", "alice", {"name": f"t{i}xx"}).status,
                             200)
        r = api(d.sock, "POST", "create", "alice", {"name": "one too many"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["code"], "TOO_MANY_TOKENS")
        self.assertEqual(api(d.sock, "POST", "create", "bob", {"name": "bob's"}).status, 200)
        with self.assertRaisesRegex(RuntimeError, "max_tokens_per_user"):
            d.sql("SELECT gvx_create('alice', 'from sql');")
        # Expired tokens do not count: the user can replace them.
        d.sql("UPDATE apikey SET expires_at = 1000 WHERE user_id = 'alice' AND name = 't0xx';")
        self.assertEqual(api(d.sock, "POST", "create", "alice", {"name": "again"}).status, 200)
        self.assertEqual(d.sql("SELECT value FROM gvx_config WHERE name = 'max_tokens_per_user'"),
                         "3")

    def test_default_is_1000(self):
        d = Daemon(self)
        d.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
              "SELECT count(gvx_create('carol', 'bulk ' || i)) FROM n;")
        with self.assertRaisesRegex(RuntimeError, "max_tokens_per_user"):
            d.sql("SELECT gvx_create('carol', 'number 1001');")


class Names(unittest.TestCase):
    BAD = {
        "escape": "evil\x1b[31mred",
        "newline": "two\r\nlines",
        "tab": "tab\there",
        "delete": "del\x7fete",
        "C1 control": "next\u0085line",
        "right-to-left override": "invoice\u202egpj.exe",
        "left-to-right embedding": "abc\u202adef",
        "isolate": "abc\u2067def",
        "zero-width only": "\u200b\u200c\u200d",
        "spaces only": "   \u00a0\u3000",
        "invisible mix": "\u2060\ufeff\u200b\u00ad",
        "hangul filler": "\u3164\u3164\u3164",
    }

    def test_hostile_names_are_refused_everywhere(self):
        d = Daemon(self, "--trust-remote-user")
        r = api(d.sock, "POST", "create", "alice", {"name": "fine name"})
        self.assertEqual(r.status, 200)
        tid = r.json()["id"]
        for label, name in self.BAD.items():
            with self.subTest(name=label):
                r = api(d.sock, "POST", "create", "alice", {"name": name})
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["code"], "INVALID_PARAMETER")
                self.assertIn("name", r.json()["message"])
                r = api(d.sock, "POST", "update", "alice", {"keyId": tid, "name": name})
                self.assertEqual(r.status, 400, r)
                escaped = name.replace("'", "''")
                with self.assertRaisesRegex(RuntimeError, "name"):
                    d.sql(f"SELECT gvx_create('alice', '{escaped}');")
        self.assertEqual(d.sql("SELECT group_concat(name) FROM apikey"), "fine name")
        for ok in ("日本語のトークン", "café ☕ laptop", "CI: deploy (prod)", "a\u200db c"):
            self.assertEqual(api(d.sock, "POST", "create", "alice", {"name": ok}).status, 200,
                             ok)


class ExactUserName(unittest.TestCase):
    def test_apache_basic_provider_matches_the_name_exactly(self):
        work = harness.tmpdir("abuse-user")
        db = work / "gvx.db"
        with harness.sqlite(db) as c:
            c.execute('CREATE TABLE "user" (id TEXT PRIMARY KEY, name TEXT, username TEXT)')
            c.execute('INSERT INTO "user" VALUES (?, ?, ?)', ("usr_7Qx", "Carol", "carol"))
        token = harness.gvx_sql(db, "SELECT gvx_create('usr_7Qx', 'carol') ->> 'key';").strip()
        d = Daemon(self, db=db)

        def as_apache(name):
            return harness.fcgi_request(d.sock, {
                "FCGI_APACHE_ROLE": "AUTHENTICATOR", "REQUEST_METHOD": "GET",
                "REQUEST_URI": "/git/p.git/info/refs", "REMOTE_USER": name,
                "REMOTE_PASSWD": token}, role="AUTHORIZER").status
        self.assertEqual(as_apache("carol"), 200)
        self.assertEqual(as_apache("usr_7Qx"), 200)
        for name in ("Carol", "CAROL", "carol ", "USR_7QX"):
            self.assertEqual(as_apache(name), 401, name)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    if args:
        suite = unittest.TestSuite(t for s in suite for t in s
                                   if any(a in t.id() for a in args))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
