#!/usr/bin/env python3
"""gvx-fcgi's /metrics (SPEC §18), spoken to over FastCGI as a web server would: off unless
--metrics-path names it; Prometheus' text format; verifications counted by outcome, requests
in a duration histogram, the database's busy waits counted while another connection holds
its lock; nothing about users or tokens in it; bad --metrics-path values refused.

Run by CTest with --fcgi (gvx-fcgi), --work (a scratch directory) and --gvx (the admin
command, which makes the tokens).
"""
import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gvxtest import fcgi, processes  # noqa: E402

ARGS = None
SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? '
                    r'(-?[0-9.]+(e[+-]?[0-9]+)?|\+Inf)$')


def parse(text):
    """{(name, labels): value} of the exposition; fails on any line not in the format."""
    samples, helped, typed = {}, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"not Prometheus text format: {line!r}")
        samples[(m.group(1), m.group(2) or "")] = float(m.group(4))
    for name, _ in samples:
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed and family in helped, f"{name}: no # TYPE / # HELP"
    return samples


class Metrics(unittest.TestCase):
    def setUp(self):
        os.makedirs(ARGS.work, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="gvx-metrics-", dir=ARGS.work)
        self.db = os.path.join(self.dir, "gvx.db")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *extra):
        [p], addr = processes.start_gvx_fcgi("--db", self.db, *extra, log_dir=self.dir,
                                             name=f"gvx-fcgi-{time.monotonic_ns()}",
                                             binary=ARGS.fcgi)
        self.procs.append(p)
        return p, addr

    def token(self, user="alice", *more):
        r = subprocess.run([ARGS.gvx, "create", "--db", self.db, "--user", user, "--name",
                            "metrics token", *more], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def get(self, addr, path="/metrics", method="GET"):
        return fcgi.request(addr, {"REQUEST_METHOD": method, "REQUEST_URI": path,
                                   "REMOTE_ADDR": "127.0.0.1"})

    def scrape(self, addr):
        r = self.get(addr)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"))
        return parse(r.body.decode())

    def test_off_unless_a_path_is_given(self):
        _, addr = self.start()
        r = self.get(addr)
        self.assertEqual(r.status, 404)
        self.assertNotIn(b"gvx_verifications_total", r.body)

    def test_verifications_requests_and_format(self):
        token = self.token()
        expired = self.token("alice", "--expires-in", "1")
        with sqlite3.connect(self.db) as c:
            c.execute("UPDATE apikey SET expires_at = 1 WHERE start = ?", (expired[:6],))
        _, addr = self.start("--metrics-path", "/metrics")
        before = self.scrape(addr)
        for name in ("OK", "INVALID_API_KEY", "KEY_EXPIRED", "RATE_LIMITED", "ERROR"):
            self.assertEqual(before[("gvx_verifications_total", f'{{outcome="{name}"}}')], 0)
        for _ in range(3):
            self.assertEqual(fcgi.authorize(addr, token).status, 200)
        self.assertEqual(fcgi.authorize(addr, "gvx_" + "W" * 64).status, 401)
        self.assertEqual(fcgi.authorize(addr, expired).status, 401)
        self.assertEqual(fcgi.api(addr, "GET", "list").status, 401)
        after = self.scrape(addr)
        delta = {k: after[k] - before.get(k, 0) for k in after}
        self.assertEqual(delta[("gvx_verifications_total", '{outcome="OK"}')], 3)
        self.assertEqual(delta[("gvx_verifications_total", '{outcome="INVALID_API_KEY"}')], 1)
        self.assertEqual(delta[("gvx_verifications_total", '{outcome="KEY_EXPIRED"}')], 1)
        auth = '{kind="auth"}'
        self.assertEqual(delta[("gvx_request_duration_seconds_count", auth)], 5)
        self.assertGreater(delta[("gvx_request_duration_seconds_sum", auth)], 0)
        # Buckets are cumulative and end at the count.
        buckets = sorted((float(re.search(r'le="([^"]+)"', labels).group(1).replace(
            "+Inf", "inf")), v) for (n, labels), v in after.items()
            if n == "gvx_request_duration_seconds_bucket" and 'kind="auth"' in labels)
        values = [v for _, v in buckets]
        self.assertEqual(values, sorted(values))
        self.assertEqual(values[-1], after[("gvx_request_duration_seconds_count", auth)])
        # The API request and the first scrape count as api requests; 4xx as responses.
        self.assertGreaterEqual(delta[("gvx_request_duration_seconds_count", '{kind="api"}')], 2)
        self.assertGreaterEqual(delta[("gvx_responses_total", '{code="4xx"}')], 3)
        self.assertGreater(after[("gvx_process_start_time_seconds", "")], 1.7e9)
        # Nothing about who or which token.
        text = self.get(addr).body.decode()
        for secret in (token, token[4:], expired[4:], "alice", "WWWWWWWW"):
            self.assertNotIn(secret, text)

    def test_busy_waits_are_counted(self):
        token = self.token()
        _, addr = self.start("--metrics-path", "/metrics")
        self.assertEqual(fcgi.authorize(addr, token).status, 200)
        before = self.scrape(addr)
        held = threading.Event()

        def hold_write_lock():
            c = sqlite3.connect(self.db, timeout=10, isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(0.4)
            c.execute("COMMIT")
            c.close()

        t = threading.Thread(target=hold_write_lock)
        t.start()
        held.wait(10)
        started = time.monotonic()
        self.assertEqual(fcgi.authorize(addr, token).status, 200)  # waits, then writes
        waited = time.monotonic() - started
        t.join()
        after = self.scrape(addr)
        self.assertGreaterEqual(waited, 0.2)
        self.assertGreaterEqual(after[("gvx_database_busy_waits_total", "")]
                                - before[("gvx_database_busy_waits_total", "")], 1)
        self.assertGreaterEqual(after[("gvx_database_busy_wait_seconds_total", "")]
                                - before[("gvx_database_busy_wait_seconds_total", "")], 0.1)
        self.assertEqual(after[("gvx_database_busy_timeouts_total", "")], 0)

    def test_only_get_and_only_the_exact_path(self):
        _, addr = self.start("--metrics-path", "/ops/metrics")
        self.assertEqual(self.get(addr, "/ops/metrics").status, 200)
        self.assertEqual(self.get(addr, "/ops/metrics?x=1").status, 200)
        r = self.get(addr, "/ops/metrics", method="POST")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("Allow"), "GET")
        for other in ("/metrics", "/ops/metrics/", "/ops/metric%73", "/ops/metricsx",
                      "/OPS/metrics"):
            self.assertEqual(self.get(addr, other).status, 404, other)

    def test_bad_paths_are_refused(self):
        for bad in ("metrics", "/", "/met rics", "/metrics?x", "/metrics#x", "/m%65trics",
                    "/" + "m" * 300, "/api/auth/api-key/metrics", "/api/auth/api-key"):
            r = subprocess.run([ARGS.fcgi, "--db", self.db, "--metrics-path", bad],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--metrics-path must", r.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fcgi", required=True)
    parser.add_argument("--gvx", required=True)
    parser.add_argument("--work", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
