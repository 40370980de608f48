#!/usr/bin/env python3
"""scripts/gvx-cleanup from the outside: what it removes, what it prints, and how it fails.

Run by CTest with --script, --ext (gvx.so) and --sqlite3.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
DAY = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


class CleanupCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gvx-cleanup-")
        self.db = os.path.join(self.dir, "gvx.db")
        self.env = dict(os.environ, GVX_EXT=ARGS.ext)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, *statements, db=None):
        ext = os.path.splitext(ARGS.ext)[0]
        out = subprocess.run([ARGS.sqlite3, "-bail", "-batch", db or self.db, f".load {ext}",
                              *statements], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def cleanup(self, *args, env=None):
        return subprocess.run(["bash", ARGS.script, *args], capture_output=True, text=True,
                              env=env or self.env, timeout=60)

    def fill(self, expired=300, live=5, soon=2):
        """expired tokens (already past), live ones (never expire), soon ones (in 3 days)."""
        t = now_ms()
        # Created valid, then moved into the past: creation itself refuses a past expiry.
        self.sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {expired}) "
            f"SELECT count(gvx_create('alice', 'expiring ' || i, {t + DAY})) FROM n",
            f"UPDATE apikey SET expires_at = {t - 1000} WHERE user_id = 'alice'",
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {live}) "
            f"SELECT count(gvx_create('bob', 'live ' || i)) FROM n",
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {soon}) "
            f"SELECT count(gvx_create('carol', 'soon ' || i, {t + 3 * DAY})) FROM n",
            f"INSERT INTO gvx_activity (at, key_id, key_start, outcome) VALUES "
            f"({t - 400 * DAY}, NULL, 'gvx_ol', 'INVALID_API_KEY')")

    def test_removes_expired_tokens_and_old_activity_only(self):
        self.fill()
        r = self.cleanup(self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"removed 300 expired tokens and 1 activity rows in \d+ ms")
        self.assertEqual(self.sql("SELECT user_id, count(*) FROM apikey GROUP BY user_id"),
                         "bob|5\ncarol|2")
        again = self.cleanup(self.db)
        self.assertIn("removed 0 expired tokens and 0 activity rows", again.stdout)

    def test_dry_run_counts_and_removes_nothing(self):
        self.fill(expired=7)
        r = self.cleanup("--dry-run", self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("would remove 7 expired tokens and 1 activity rows (dry run)", r.stdout)
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), "14")

    def test_expiring_report(self):
        self.fill(expired=1)
        r = self.cleanup("--expiring", self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("carol 2 2 2", r.stdout)
        self.assertNotIn("bob", r.stdout)

    def test_gitflare_database(self):
        fixture = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gitflare.sql")
        with open(fixture) as f:
            subprocess.run([ARGS.sqlite3, self.db], stdin=f, check=True)
        r = self.cleanup(self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed 1 expired tokens", r.stdout)  # the fixture's 'old laptop'
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), "3")

    def test_missing_file(self):
        r = self.cleanup(os.path.join(self.dir, "nope.db"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such file", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "nope.db")))

    def test_not_a_database(self):
        path = os.path.join(self.dir, "notes.txt")
        with open(path, "w") as f:
            f.write("this is not SQLite\n" * 100)
        r = self.cleanup(path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not an SQLite database", r.stderr)

    def test_database_that_is_not_gvx_is_left_alone(self):
        other = os.path.join(self.dir, "other.db")
        subprocess.run([ARGS.sqlite3, other, "CREATE TABLE notes(t)"], check=True)
        r = self.cleanup(other)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a gvx database", r.stderr)
        tables = subprocess.run([ARGS.sqlite3, other, "SELECT group_concat(name) FROM sqlite_master"],
                                capture_output=True, text=True).stdout.strip()
        self.assertEqual(tables, "notes")  # no gvx schema added

    def test_locked_database_past_timeout(self):
        self.fill(expired=3)
        holder = subprocess.Popen([ARGS.sqlite3, self.db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            holder.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            started = time.monotonic()
            r = self.cleanup("--timeout", "300", self.db)
            waited = time.monotonic() - started
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("database is locked (waited 300 ms)", r.stderr)
            self.assertLess(waited, 10)
        finally:
            holder.stdin.write("ROLLBACK;\n.quit\n")
            holder.stdin.close()
            holder.wait(timeout=10)
            holder.stdout.close()
        self.assertEqual(self.sql("SELECT count(*) FROM apikey"), "10")  # nothing removed

    def test_bad_arguments(self):
        for args, message in [((), "usage:"), (("--bogus", self.db), "unknown option --bogus"),
                              (("--timeout",), "--timeout needs a value"),
                              (("--timeout", "soon", self.db), "--timeout must be a number"),
                              ((self.db, self.db), "only one database path")]:
            r = self.cleanup(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(message, r.stderr, args)

    def test_extension_not_found(self):
        self.fill(expired=1)
        r = self.cleanup(self.db, env=dict(os.environ, GVX_EXT="/nonexistent/gvx.so"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("GVX_EXT=/nonexistent/gvx.so: no such file", r.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--ext", required=True)
    ap.add_argument("--sqlite3", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
