#!/usr/bin/env python3
"""gvx-cleanup on a live database: gvx-fcgi processes verify live tokens under load while the
cleanup removes 100,000 expired ones. Every expired token goes, no live token does, no
verification fails, and the longest verification stall is measured and printed.
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "servers"))
import harness  # noqa: E402

ARGS = None
EXPIRED = 20_000
LIVE = 20
PROCESSES = 2
THREADS = 4


class LiveCleanup(unittest.TestCase):
    def setUp(self):
        self.dir = harness.tmpdir("cleanup-live")
        self.db = os.path.join(self.dir, "gvx.db")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        harness.remove_tmpdir(self.dir)

    def sql(self, *statements):
        return harness.gvx_sql(self.db, ";\n".join(statements)).strip()

    def test_cleanup_while_verifying(self):
        now = int(time.time() * 1000)
        keys = self.sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {LIVE}) "
            "SELECT gvx_create('user' || (i % 3), 'live token ' || i) ->> 'key' FROM n").split()
        self.assertEqual(len(keys), LIVE)
        # Expired tokens written directly, as a busy server would have left them.
        self.sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EXPIRED}) "
            "INSERT INTO apikey (id, name, start, prefix, key, user_id, expires_at, created_at, "
            "updated_at) SELECT 'expired' || i, 'old ' || i, 'gvx_ol', 'gvx_', "
            f"hex(randomblob(24)), 'user' || (i % 50), {now - 1000} - i, {now - 86400000}, "
            f"{now - 86400000} FROM n")

        self.procs, addr = harness.start_gvx_fcgi("--db", self.db, log_dir=self.dir,
                                                  procs=PROCESSES)

        stop = threading.Event()
        phase = {"now": "before"}
        samples = {"before": [], "during": [], "after": []}
        failures = []
        lock = threading.Lock()

        def load(n: int) -> None:
            i = n
            while not stop.is_set():
                params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/repo.git/info/refs",
                          "HTTP_AUTHORIZATION": harness.basic_auth("git", keys[i % LIVE]),
                          "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "git/2.39.5"}
                i += 1
                started = time.perf_counter()
                reply = harness.fcgi_request(addr, params, role="AUTHORIZER")
                elapsed = time.perf_counter() - started
                with lock:
                    samples[phase["now"]].append(elapsed)
                    if reply.status != 200:
                        failures.append((reply.status, reply.body[:200]))

        threads = [threading.Thread(target=load, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            phase["now"] = "during"
            started = time.monotonic()
            r = subprocess.run(["bash", ARGS.script, self.db], capture_output=True, text=True,
                               env=dict(os.environ, GVX_EXT=ARGS.ext), timeout=300)
            cleanup_seconds = time.monotonic() - started
            phase["now"] = "after"
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)

        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"removed {EXPIRED} expired tokens", r.stdout)
        self.assertEqual(failures, [], "every verification during cleanup succeeded")
        self.assertEqual(self.sql("SELECT count(*) FROM apikey WHERE expires_at IS NOT NULL"), "0")
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), str(LIVE))
        served = sum(len(v) for v in samples.values())
        self.assertEqual(self.sql("SELECT sum(request_count) FROM apikey"), str(served))
        self.assertEqual(self.sql("PRAGMA integrity_check"), "ok")

        def describe(name):
            v = sorted(samples[name])
            p99 = v[int(len(v) * 0.99) - 1] if v else 0
            return (f"{name}: {len(v)} verifications, median {statistics.median(v) * 1000:.2f} ms,"
                    f" p99 {p99 * 1000:.2f} ms, longest {v[-1] * 1000:.2f} ms")
        self.assertGreater(len(samples["during"]), 0, "verifications ran during the cleanup")
        print(f"\ncleanup of {EXPIRED} expired tokens took {cleanup_seconds:.2f} s "
              f"({r.stdout.strip()})")
        for name in ("before", "during", "after"):
            print(describe(name))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--ext", required=True)
    ap.add_argument("--sqlite3", required=True)
    ap.add_argument("--gvx-fcgi", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.GVX_FCGI, harness.GVX_EXT, harness.SQLITE3 = ARGS.gvx_fcgi, ARGS.ext, ARGS.sqlite3
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
