#!/usr/bin/env python3
"""gvx-fcgi on PostgreSQL: exact counts and limits across processes, first starts, and life
with a database server that goes away and comes back.

    test_concurrency.py [unittest options]      (GVX_FCGI names the gvx-fcgi binary)

Each test starts gvx-fcgi processes of its own (--db postgresql://...) on one PostgreSQL 15
server that this process starts in a temporary directory (test/postgres/pgcluster.py), and
drives them over FastCGI:
  - 200 concurrent authorizer checks of one token, split over two gvx-fcgi processes: 200
    successes, request_count exactly 200, 200 'OK' activity rows;
  - rate limiting on (max 25): 80 concurrent checks admit exactly 25, the rest get 429 with
    Retry-After, and request_count is 25;
  - four gvx-fcgi processes started at once on an empty database all come up, and the schema
    is migrated once;
  - the server ends every session (as a restart does): the next request works, with no
    restart of gvx-fcgi; the server stopped: 503 within the connect timeout, and once it is
    back the next request works;
  - gvx-cleanup with the database's URI removes expired tokens and old activity (and with
    --dry-run only counts them), leaving live tokens alone;
  - no token appears in gvx-fcgi's output.
Exit status 77 (skipped) when PostgreSQL 15 is not installed.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import harness  # noqa: E402
import pgcluster  # noqa: E402

API = "/api/auth/api-key"


def call_api(addr, method, endpoint, user, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": API + endpoint, "REMOTE_USER": user}
    if body is not None:
        params.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))})
    return harness.fcgi_request(addr, params, stdin=data)


def authorize(addr, token, ip="198.51.100.7"):
    return harness.fcgi_request(addr, {
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/git/repo.git/info/refs",
        "HTTP_AUTHORIZATION": harness.basic_auth("git", token), "REMOTE_ADDR": ip,
        "HTTP_USER_AGENT": "git/2.39"}, role="AUTHORIZER")


class PostgresCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = pgcluster.available()
        if why:
            raise unittest.SkipTest(why)
        cls.work = harness.tmpdir("pg-concurrency")
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
        self.uri = self.pg.uri(self.db, connect_timeout=2)
        (self.work / "logs").mkdir(exist_ok=True)

    def start(self, name, *extra):
        procs, addr = harness.start_gvx_fcgi("--db", self.uri, "--trust-remote-user",
                                             "--trusted-peer", "127.0.0.1", *extra,
                                             log_dir=self.work / "logs", name=name)
        self.addCleanup(lambda: [p.stop() for p in procs])
        return procs[0], addr

    def create(self, addr, user="alice", name="concurrent"):
        r = call_api(addr, "POST", "/create", user, {"name": name})
        self.assertEqual(r.status, 200, r)
        token = r.json()
        self.tokens.append(token["key"])
        return token

    def value(self, sql, params=()):
        with self.pg.connect(self.db) as c:
            return c.execute(sql, params).fetchone()[0]

    def test_200_checks_from_two_processes_count_exactly_200(self):
        _, a = self.start("gvx-fcgi-a")
        _, b = self.start("gvx-fcgi-b")
        token = self.create(a)
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda i: authorize(a if i % 2 else b, token["key"]).status,
                                     range(200)))
        self.assertEqual(statuses.count(200), 200, statuses)
        self.assertEqual(self.value("SELECT request_count FROM apikey WHERE id = ?",
                                    (token["id"],)), 200)
        self.assertEqual(self.value("SELECT count(*) FROM gvx_activity WHERE key_id = ? AND "
                                    "outcome = 'OK'", (token["id"],)), 200)
        r = call_api(b, "GET", f"/get?id={token['id']}", "alice")
        self.assertEqual(r.json()["requestCount"], 200)

    def test_rate_limit_admits_exactly_max_under_concurrency(self):
        _, a = self.start("gvx-fcgi-a")
        _, b = self.start("gvx-fcgi-b")
        with self.pg.connect(self.db) as c:
            c.execute("INSERT INTO gvx_config (name, value) VALUES ('rate_limit_enabled', 1), "
                      "('rate_limit_max', 25), ('rate_limit_time_window', 600000)")
        token = self.create(a)
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            replies = list(pool.map(lambda i: authorize(a if i % 2 else b, token["key"]),
                                    range(80)))
        statuses = [r.status for r in replies]
        self.assertEqual(statuses.count(200), 25, statuses)
        self.assertEqual(statuses.count(429), 55, statuses)
        for r in replies:
            if r.status == 429:
                self.assertTrue(0 < int(r.header("Retry-After")) <= 600, r.headers)
        self.assertEqual(self.value("SELECT request_count FROM apikey WHERE id = ?",
                                    (token["id"],)), 25)
        # Refusals are counted: the 55 from one client share a row.
        self.assertEqual(self.value("SELECT sum(count)::bigint FROM gvx_activity WHERE "
                                    "key_id = ? AND outcome = 'RATE_LIMITED'", (token["id"],)),
                         55)

    def test_processes_starting_together_migrate_once(self):
        logs = self.work / "logs"
        argv = [harness.GVX_FCGI, "--db", self.uri, "--trust-remote-user", "--trusted-peer",
                "127.0.0.1", "--listen"]
        procs = [harness.start_process(argv + [f"{harness.HOST}:{harness.free_port()}"],
                                       f"gvx-fcgi-start-{i}", logs) for i in range(4)]
        self.addCleanup(lambda: [p.stop() for p in procs])
        for p in procs:
            harness.wait_for_port(harness.HOST, int(p.argv[-1].rsplit(":", 1)[1]), proc=p)
        for p in procs:
            addr = p.argv[-1]
            self.assertEqual(call_api(addr, "GET", "/list", "alice").status, 200)
        self.assertEqual(self.value("SELECT value FROM gvx_meta WHERE name = 'schema_version'"),
                         "3")
        for p in procs:
            self.assertTrue(p.alive(), p.log_tail())

    def test_sessions_ended_by_the_server_are_replaced(self):
        proc, a = self.start("gvx-fcgi-a")
        token = self.create(a)
        self.assertEqual(authorize(a, token["key"]).status, 200)
        ended = self.pg.admin("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              f"WHERE datname = '{self.db}' AND backend_type = 'client backend'")
        self.assertGreaterEqual(ended[0][0], 1)
        # Found dead before anything of the request was sent: reconnected within the request.
        self.assertEqual(authorize(a, token["key"]).status, 200)
        self.assertEqual(call_api(a, "GET", "/list", "alice").status, 200)
        self.assertEqual(self.value("SELECT request_count FROM apikey"), 2)
        self.assertTrue(proc.alive())

    def test_server_down_gives_503_quickly_and_back_up_works(self):
        proc, a = self.start("gvx-fcgi-a")
        token = self.create(a)
        self.pg.stop()
        try:
            started = time.monotonic()
            r = authorize(a, token["key"])
            self.assertEqual(r.status, 503, r)
            r = call_api(a, "GET", "/list", "alice")
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json()["code"], "SERVICE_UNAVAILABLE", r)
            self.assertLess(time.monotonic() - started, 8)
        finally:
            self.pg.start()
        self.assertEqual(authorize(a, token["key"]).status, 200)
        self.assertTrue(proc.alive())
        self.assertEqual(self.value("SELECT request_count FROM apikey"), 1)


class Cleanup(PostgresCase):
    def test_gvx_cleanup_takes_the_uri(self):
        _, a = self.start("gvx-fcgi-a")
        live = self.create(a, name="live token")
        now = int(time.time() * 1000)
        with self.pg.connect(self.db) as c:
            c.execute("INSERT INTO apikey (id, key, user_id, expires_at, created_at, updated_at) "
                      "SELECT 'old' || i, 'hash' || i, 'alice', 1000, 0, 0 "
                      "FROM generate_series(1, 2500) i")
            c.execute("INSERT INTO gvx_activity (at, key_start, outcome) SELECT 1000, 'gvx_ol', "
                      "'INVALID_API_KEY' FROM generate_series(1, 1200)")
        env = dict(os.environ, GVX_FCGI=harness.GVX_FCGI)
        script = str(harness.SOURCE_DIR / "scripts" / "gvx-cleanup")
        r = subprocess.run([script, "--dry-run", self.uri], capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("would remove 2500 expired tokens and 1200 activity rows", r.stdout)
        self.assertEqual(self.value("SELECT count(*) FROM apikey"), 2501)
        r = subprocess.run([script, "--fast", self.uri], capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed 2500 expired tokens and 1200 activity rows", r.stdout)
        self.assertNotIn(self.uri, r.stdout + r.stderr)  # a URI may hold a password
        self.assertEqual(self.value("SELECT count(*) FROM apikey"), 1)
        self.assertEqual(authorize(a, live["key"]).status, 200)
        bad = subprocess.run([script, "postgresql://gvx@127.0.0.1:1/gvx?connect_timeout=1"],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(bad.returncode, 1, bad)
        self.assertIn("database unavailable", bad.stderr)
        bad = subprocess.run([script, "host=x port=notaport zzz"], capture_output=True,
                             text=True, env=env, timeout=60)
        self.assertEqual(bad.returncode, 2, bad)


def main():
    program = unittest.main(argv=sys.argv, exit=False, verbosity=2)
    result = program.result
    if result.skipped and result.wasSuccessful() and result.testsRun <= len(result.skipped):
        return 77
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
