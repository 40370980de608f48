#!/usr/bin/env python3
"""gvx-fcgi as an operator runs it: --version, refused arguments, the socket on standard input
(as systemd, spawn-fcgi and lighttpd pass it), SIGHUP, the start-up line and one log line per
request (never a token), and 500s that name their cause. (Several processes starting at once on a
fresh database: test/unit/startup_race_test.cpp.)

Run by CTest with --fcgi (gvx-fcgi) and --work (a scratch directory).
"""
import argparse
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gvxtest import fcgi, processes  # noqa: E402

ARGS = None
LOG_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) gvx-fcgi\[(?P<pid>\d+)\]: "
    r"(?P<kind>api|auth) (?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}) "
    r"outcome=(?P<outcome>\S+) user=(?P<user>\S+) token=(?P<token>\S+) ms=(?P<ms>\d+\.\d)"
    r"(?: cause=(?P<cause>\".*\"))?$")


def log_lines(p):
    """gvx-fcgi's own lines in a process's log."""
    return [line for line in p.log_text().splitlines() if " gvx-fcgi[" in line]


def logged_requests(p):
    return [LOG_LINE.match(line) for line in log_lines(p)
            if not re.search(r"\]: (started|stopped)", line)]


class GvxFcgiOperations(unittest.TestCase):
    def setUp(self):
        os.makedirs(ARGS.work, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="gvx-ops-", dir=ARGS.work)
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "gvx.db")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_fcgi(self, *args, stdin=subprocess.DEVNULL):
        return subprocess.run([ARGS.fcgi, *args], stdin=stdin, capture_output=True, text=True,
                              timeout=20)

    def process(self, *args, stdin=subprocess.DEVNULL):
        """gvx-fcgi args, its log in the test's directory; stopped by pid at the end."""
        p = processes.Process([ARGS.fcgi, *args], f"gvx-fcgi-{time.monotonic_ns()}", self.dir,
                              stdin=stdin)
        self.procs.append(p)
        return p

    def start(self, *extra, user=None):
        # --trust-remote-user on TCP needs the web server named (SPEC §14): here, this test.
        peer = ("--trusted-peer", "127.0.0.1") if "--trust-remote-user" in extra else ()
        wrapper = ()
        if user:
            pw = pwd.getpwnam(user)
            wrapper = ("setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                       "--clear-groups")
        [p], addr = processes.start_gvx_fcgi("--db", self.db, *extra, *peer, log_dir=self.dir,
                                             name=f"gvx-fcgi-{time.monotonic_ns()}",
                                             binary=ARGS.fcgi, wrapper=wrapper)
        self.procs.append(p)
        host, _, port = addr.rpartition(":")
        return p, (host, int(port))

    # -- the command line --------------------------------------------------------------------

    def test_version(self):
        r = self.run_fcgi("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^gvx-fcgi \d+\.\d+\.\d+ \(SQLite 3\.\d+\.\d+, libsodium ")

    def test_bad_listen_addresses_are_refused_not_changed(self):
        for address, words in [("127.0.0.1:99999", "port must be a number from 1 to 65535"),
                               ("127.0.0.1:0", "port must be a number from 1 to 65535"),
                               ("127.0.0.1:http", "port must be a number from 1 to 65535"),
                               ("127.0.0.1:", "port must be a number from 1 to 65535"),
                               (":9000x", "port must be a number from 1 to 65535")]:
            r = self.run_fcgi("--db", self.db, "--listen", address)
            self.assertEqual(r.returncode, 2, (address, r.stderr))
            self.assertIn(f"--listen {address}: {words}", r.stderr)
        self.assertFalse(os.path.exists(self.db))  # refused before anything was opened

    def test_without_listen_standard_input_must_be_a_socket(self):
        for stdin in (subprocess.DEVNULL, subprocess.PIPE):
            r = self.run_fcgi("--db", self.db, stdin=stdin)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("standard input is not a socket", r.stderr)
            self.assertIn("--listen", r.stderr)

    def test_serves_the_socket_passed_on_standard_input(self):
        # As systemd (StandardInput=socket), spawn-fcgi and lighttpd start it.
        path = os.path.join(self.dir, "fcgi.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(8)
        p = self.process("--db", self.db, "--trust-remote-user", stdin=listener.fileno())
        listener.close()
        r = fcgi.api(path, "GET", "list", user="alice")
        self.assertEqual((r.status, r.json()), (200, []))
        self.assertIn("listening on standard input", log_lines(p)[0])

    def test_sighup_does_not_stop_it(self):
        p, addr = self.start("--trust-remote-user")
        p.popen.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertIsNone(p.popen.poll(), p.log_text())
        self.assertEqual(fcgi.api(addr, "GET", "list", user="alice").status, 200)
        p.popen.send_signal(signal.SIGTERM)
        self.assertEqual(p.popen.wait(10), 0)

    # -- logs ------------------------------------------------------------------------------

    def test_start_up_line_and_one_line_per_request_without_tokens(self):
        p, addr = self.start("--trust-remote-user")
        created = fcgi.api(addr, "POST", "create", user="alice", body={"name": "laptop"})
        self.assertEqual(created.status, 200)
        token, token_id = created.json()["key"], created.json()["id"]
        fcgi.api(addr, "GET", "list", user="alice")
        fcgi.api(addr, "GET", "list")  # no caller: 401
        fcgi.authorize(addr, token, extra={
            "REQUEST_URI": f"/git/repo.git/info/refs?service=git-upload-pack&token={token}"})
        fcgi.authorize(addr, "gvx_" + "A" * 64)
        fcgi.api(addr, "POST", "delete", user="alice", body={"keyId": token_id})
        p.stop()

        lines = log_lines(p)
        self.assertRegex(lines[0], r"^\S+Z gvx-fcgi\[\d+\]: started: gvx-fcgi \d+\.\d+\.\d+, "
                                   r"database .*gvx\.db, listening on 127\.0\.0\.1:\d+$")
        requests = logged_requests(p)
        self.assertEqual(len(requests), 6, "\n".join(lines))
        for m in requests:
            self.assertIsNotNone(m, "\n".join(lines))
        summary = [(m["kind"], m["method"], m["path"], m["status"], m["outcome"], m["user"],
                    m["token"]) for m in requests]
        base = "/api/auth/api-key"
        self.assertEqual(summary, [
            ("api", "POST", f"{base}/create", "200", "OK", "alice", token_id),
            ("api", "GET", f"{base}/list", "200", "OK", "alice", "-"),
            ("api", "GET", f"{base}/list", "401", "UNAUTHORIZED", "-", "-"),
            ("auth", "GET", "/git/repo.git/info/refs?service=git-upload-pack", "200", "OK",
             "alice", token_id),
            ("auth", "GET", "/repo.git/info/refs", "401", "INVALID_API_KEY", "-", "-"),
            ("api", "POST", f"{base}/delete", "200", "OK", "alice", token_id),
        ])
        text = p.log_text()
        self.assertNotIn(token, text)
        self.assertNotIn(token[4:], text)
        self.assertNotIn("AAAAAAAA", text)

    def test_a_500_names_its_cause(self):
        # A database gvx-fcgi may read but not write: as root, run it as nobody.
        user = None
        setup = self.process("--db", self.db, "--listen", f"127.0.0.1:{processes.free_port()}")
        time.sleep(0.5)
        setup.stop()
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.skipTest("setpriv is missing")
            user = "nobody"
            uid = pwd.getpwnam(user).pw_uid
            for name in os.listdir(self.dir):
                os.chown(os.path.join(self.dir, name), uid, -1)
            os.chown(self.dir, uid, -1)
        os.chmod(self.db, 0o444)
        p, addr = self.start("--trust-remote-user", user=user)
        r = fcgi.api(addr, "POST", "create", user="alice", body={"name": "laptop"})
        self.assertEqual(r.status, 500, r)
        self.assertNotIn("readonly", r.body.decode())  # the client learns nothing inside
        p.stop()
        [m] = logged_requests(p)
        self.assertEqual((m["status"], m["outcome"]), ("500", "INTERNAL_SERVER_ERROR"))
        self.assertIn("readonly database", m["cause"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fcgi", required=True)
    parser.add_argument("--work", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
