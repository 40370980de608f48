#!/usr/bin/env python3
"""Usage counters, activity and rate limits across processes (SPEC §7), against real gvx-fcgi
processes and the sqlite3 shell on one database file:

- request_count equals the number of successful verifications, whoever made them, also across
  a clean restart of the servers;
- with a limit of N, many concurrent verifications admit exactly N, the rest get 429 with
  Retry-After, and limited requests are not counted as successes;
- windows are fixed: they reset when the window ends, not a window after the last request.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "servers"))
import harness  # noqa: E402

ARGS = None


def authorize(addr, token, ip="192.0.2.10"):
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/repo.git/info/refs",
              "HTTP_AUTHORIZATION": harness.basic_auth("git", token), "REMOTE_ADDR": ip,
              "HTTP_USER_AGENT": "git/2.39.5"}
    return harness.fcgi_request(addr, params, role="AUTHORIZER")


class Usage(unittest.TestCase):
    def setUp(self):
        self.dir = harness.tmpdir("usage")
        self.db = os.path.join(self.dir, "gvx.db")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        harness.remove_tmpdir(self.dir)

    def sql(self, *statements):
        return harness.gvx_sql(self.db, ";\n".join(statements)).strip()

    def start_servers(self, procs=3):
        ps, addr = harness.start_gvx_fcgi("--db", self.db, log_dir=self.dir, procs=procs)
        self.procs.extend(ps)
        return ps, addr

    def hammer(self, addr, token, threads, each):
        """threads x each concurrent authorizations; returns the list of replies."""
        replies, lock = [], threading.Lock()

        def run():
            for _ in range(each):
                r = authorize(addr, token)
                with lock:
                    replies.append(r)
        ts = [threading.Thread(target=run) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=120)
        return replies

    def test_counts_are_exact_across_processes_the_shell_and_a_restart(self):
        token = self.sql("SELECT gvx_create('alice', 'shared') ->> 'key'")
        ps, addr = self.start_servers(procs=3)
        shell_calls = 150
        shell = subprocess.Popen(
            [ARGS.sqlite3, "-batch", self.db, f".load {os.path.splitext(ARGS.ext)[0]}",
             f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             f"WHERE i < {shell_calls}) SELECT count(gvx_verify('{token}', '10.0.0.1', 'cron')) "
             f"FROM n"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        replies = self.hammer(addr, token, threads=6, each=50)
        out, err = shell.communicate(timeout=120)
        self.assertEqual(err, "")
        self.assertEqual(out.strip(), str(shell_calls))
        self.assertEqual([r.status for r in replies if r.status != 200], [])
        self.assertEqual(self.sql("SELECT request_count FROM apikey"), str(300 + shell_calls))
        self.assertEqual(self.sql("SELECT count(*) FROM gvx_activity WHERE outcome = 'OK'"),
                         str(300 + shell_calls))
        self.assertEqual(
            self.sql("SELECT ip || ' ' || count(*) FROM gvx_activity GROUP BY ip ORDER BY ip"),
            "10.0.0.1 150\n192.0.2.10 300")

        # A clean restart loses nothing and the count goes on.
        for p in ps:
            p.stop()
        _, addr = self.start_servers(procs=2)
        replies = self.hammer(addr, token, threads=2, each=25)
        self.assertTrue(all(r.status == 200 for r in replies))
        self.assertEqual(self.sql("SELECT request_count FROM apikey"), str(350 + shell_calls))

    def test_rate_limit_admits_exactly_max_under_concurrency(self):
        token = self.sql("SELECT gvx_create('alice', 'limited') ->> 'key'")
        self.sql("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), "
                 "('rate_limit_max', 50), ('rate_limit_time_window', 3600000)")
        _, addr = self.start_servers(procs=3)
        replies = self.hammer(addr, token, threads=8, each=20)  # 160 attempts, 50 places
        statuses = [r.status for r in replies]
        self.assertEqual(statuses.count(200), 50)
        self.assertEqual(statuses.count(429), 110)
        limited = [r for r in replies if r.status == 429]
        for r in limited:
            retry = int(r.header("Retry-After"))
            self.assertTrue(3500 <= retry <= 3600, retry)
            self.assertEqual(r.json()["code"], "RATE_LIMITED")
        self.assertEqual(self.sql("SELECT request_count FROM apikey"), "50")
        self.assertEqual(self.sql("SELECT sum(count) FROM gvx_activity WHERE outcome = "
                                  "'RATE_LIMITED'"), "110")  # counted, per client and minute
        # The SQL side sees the same limit.
        self.assertEqual(self.sql(f"SELECT gvx_check('{token}') ->> '$.error.code'"),
                         "RATE_LIMITED")

    def test_fixed_window_resets_when_the_window_ends(self):
        token = self.sql("SELECT gvx_create('alice', 'windowed') ->> 'key'")
        self.sql("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), "
                 "('rate_limit_max', 3), ('rate_limit_time_window', 3000)")
        _, addr = self.start_servers(procs=1)
        started = time.monotonic()
        self.assertEqual([authorize(addr, token).status for _ in range(3)], [200] * 3)
        # Keep knocking: with a sliding window every refused request would push the end out.
        while time.monotonic() - started < 2.0:
            r = authorize(addr, token)
            self.assertEqual(r.status, 429)
            self.assertIn(r.header("Retry-After"), ("1", "2", "3"))
            time.sleep(0.1)
        while time.monotonic() - started < 3.3:
            time.sleep(0.05)
        self.assertEqual(authorize(addr, token).status, 200)

    def test_per_token_override_and_exempt_token(self):
        self.sql("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 1)")
        own = self.sql("SELECT gvx_create('alice', 'five a minute') ->> 'key'")
        self.sql("UPDATE apikey SET rate_limit_max = 5, rate_limit_time_window = 60000")
        exempt = self.sql("SELECT gvx_create('alice', 'exempt') ->> 'key'")
        self.sql("UPDATE apikey SET rate_limit_enabled = 0 WHERE name = 'exempt'")
        _, addr = self.start_servers(procs=1)
        self.assertEqual([authorize(addr, own).status for _ in range(6)], [200] * 5 + [429])
        self.assertEqual([authorize(addr, exempt).status for _ in range(6)], [200] * 6)

    def test_expired_token_is_refused_before_any_cleanup(self):
        _, addr = self.start_servers(procs=1)
        now = int(time.time() * 1000)
        token = self.sql(f"SELECT gvx_create('alice', 'short', {now + 1500}) ->> 'key'")
        self.assertEqual(authorize(addr, token).status, 200)
        time.sleep(1.6)
        r = authorize(addr, token)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["code"], "UNAUTHORIZED")  # the one 401 (SPEC §14)
        self.assertEqual(self.sql("SELECT outcome FROM gvx_activity ORDER BY id DESC LIMIT 1"),
                         "KEY_EXPIRED")  # the reason, for the owner
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), "1")  # still there


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext", required=True)
    ap.add_argument("--sqlite3", required=True)
    ap.add_argument("--gvx-fcgi", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.GVX_FCGI, harness.GVX_EXT, harness.SQLITE3 = ARGS.gvx_fcgi, ARGS.ext, ARGS.sqlite3
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
