#!/usr/bin/env python3
"""The authorizer rows of `make bench`: lighttpd + two FastCGI authorizer processes, wrk -c32.

Three contestants, each its own lighttpd on 127.0.0.1 with its own two backend processes, all
started up front and then measured interleaved (the order rotates every repetition):

  gvx    gvx-fcgi --db COPY --listen 127.0.0.1:PORT     (the real program)
  raw    bench-fcgi-raw: libfcgi + the same database work (bench/fcgi/raw_authorizer.cpp)
  hello  bench-fcgi-hello: libfcgi saying yes to everyone (the web server's own ceiling)

Every request carries valid Basic credentials; a run with any non-2xx answer is an error, not
a number. Prints "row" lines for bench/table.py. Every process started here is stopped by its
PID before exit.
"""
import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "support"))
from gvxtest.processes import Process, free_port  # noqa: E402  (the tests' process manager)

WHAT_VS_RAW = "authorizer behind lighttpd, wrk -c32, 2 processes"
WHAT_VS_HELLO = "authorizer vs hello-world responder"
PG_PREFIX = "PostgreSQL: "  # the rows' names with --pg-uri


class Processes:
    """Every process this script starts, stopped by PID (SIGTERM, then SIGKILL after 5 s)."""

    def __init__(self):
        self.started = []

    def start(self, argv, name, log_dir):
        p = Process(argv, name, log_dir)
        self.started.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.started):
            p.stop(timeout=5)
        self.started = []


class Contestant:
    def __init__(self, name, backend_argv, work, processes):
        """backend_argv(port) -> argv of one backend process listening on 127.0.0.1:port."""
        self.name = name
        self.work = work
        self.port = free_port()
        docroot = os.path.join(work, "docroot")
        os.makedirs(os.path.join(docroot, "repo.git", "info"), exist_ok=True)
        with open(os.path.join(docroot, "repo.git", "info", "refs"), "w") as f:
            f.write("0000000000000000000000000000000000000000 refs/heads/main\n")
        backends = [free_port(), free_port()]
        for i, port in enumerate(backends):
            processes.start(backend_argv(port), f"backend{i}", work)
        conf = open(os.path.join(HERE, "lighttpd.conf.in")).read()
        for key, value in {"DOCROOT": docroot, "WORK": work, "PORT": self.port,
                           "BACKEND1": backends[0], "BACKEND2": backends[1]}.items():
            conf = conf.replace(f"@{key}@", str(value))
        conf_path = os.path.join(work, "lighttpd.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        processes.start(["lighttpd", "-D", "-f", conf_path], "lighttpd-output", work)
        self.url = f"http://127.0.0.1:{self.port}/repo.git/info/refs"

    def wait_ready(self, authorization, seconds=10):
        """None when a request with valid credentials gets 200; else why not."""
        deadline = time.monotonic() + seconds
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(self.url, headers={"Authorization": authorization})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return None
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        return last


def run_wrk(url, seconds, auth_file):
    """Requests per second of one wrk run; raises when any answer was not 2xx."""
    env = dict(os.environ, AUTH_FILE=auth_file)
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-s",
                          os.path.join(HERE, "rotate_auth.lua"), url],
                         capture_output=True, text=True, env=env, timeout=seconds + 60).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError(f"wrk saw failures at {url}: {(bad or errors).group(0)}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk printed no rate: {out!r}")
    return float(m.group(1))


def uses_counted(db_path):
    with sqlite3.connect(db_path) as c:
        return c.execute("SELECT coalesce(sum(request_count), 0) FROM apikey").fetchone()[0]


def answered_200(work):
    """Answers lighttpd gave with status 200, from its access log (one status a line)."""
    with open(os.path.join(work, "access.log")) as f:
        return sum(1 for line in f if line.strip() == "200")


def row(what, gvx, baseline, ratio, target, checked):
    print("\t".join(["row", what, gvx, baseline, ratio, target, f"{checked:.4f}"]), flush=True)


def rate(v):
    return f"{v:,.0f} req/s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--db", required=True, help="cached database with live tokens")
    ap.add_argument("--tokens", type=int, required=True, help="live tokens in --db")
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--no-gvx", default="", help="why gvx-fcgi is not to be measured")
    ap.add_argument("--pg-uri", default="",
                    help="measure on this PostgreSQL database (holding the --tokens live "
                         "tokens) instead of --db: gvx-fcgi and bench-fcgi-raw-pg")
    args = ap.parse_args()
    global WHAT_VS_RAW, WHAT_VS_HELLO
    if args.pg_uri:
        WHAT_VS_RAW, WHAT_VS_HELLO = PG_PREFIX + WHAT_VS_RAW, PG_PREFIX + WHAT_VS_HELLO

    gvx_fcgi = os.path.join(args.build, "fcgi", "gvx-fcgi")
    bench_dir = os.path.join(args.build, "bench")
    work = os.path.join(args.scratch, "http")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    auth_file = os.path.join(work, "authorization.txt")
    with open(auth_file, "w") as f:
        subprocess.run([os.path.join(bench_dir, "gvx-bench-tokens"), "--count", "2000",
                        "--of", str(args.tokens)], stdout=f, check=True)
    first_auth = open(auth_file).readline().strip()

    def db_copy(name):
        path = os.path.join(work, name + ".db")
        shutil.copyfile(args.db, path)
        return path

    processes = Processes()
    try:
        contestants = {}
        raw_db = args.pg_uri or db_copy("raw")
        raw_program = "bench-fcgi-raw-pg" if args.pg_uri else "bench-fcgi-raw"
        plans = {
            "raw": lambda port: [os.path.join(bench_dir, raw_program), "--db", raw_db,
                                 "--listen", f"127.0.0.1:{port}"],
            "hello": lambda port: [os.path.join(bench_dir, "bench-fcgi-hello"),
                                   "--listen", f"127.0.0.1:{port}"],
        }
        gvx_missing = None
        if args.no_gvx:
            gvx_missing = f"n/a ({args.no_gvx})"
        elif not os.access(gvx_fcgi, os.X_OK):
            gvx_missing = "n/a (gvx-fcgi not built)"
        else:
            gvx_db = args.pg_uri or db_copy("gvx")
            uses_before = None if args.pg_uri else uses_counted(gvx_db)
            plans["gvx"] = lambda port: [gvx_fcgi, "--db", gvx_db, "--listen", f"127.0.0.1:{port}"]
        for name, argv in plans.items():
            d = os.path.join(work, name)
            os.makedirs(d)
            contestants[name] = Contestant(name, argv, d, processes)
        for name, c in list(contestants.items()):
            why = c.wait_ready(first_auth)
            if why is None:
                continue
            if name != "gvx":
                raise RuntimeError(f"baseline {name} did not answer: {why}")
            gvx_missing = f"n/a (gvx-fcgi did not answer 200: {why})"
            del contestants[name]

        names = list(contestants)
        for name in names:  # warm-up: caches, connections, the first WAL checkpoints
            run_wrk(contestants[name].url, 1, auth_file)
        samples = {name: [] for name in names}
        for rep in range(args.reps):
            for k in range(len(names)):
                name = names[(k + rep) % len(names)]
                samples[name].append(run_wrk(contestants[name].url, args.seconds, auth_file))
    finally:
        processes.stop_all()

    med = {name: statistics.median(v) for name, v in samples.items()}
    if not gvx_missing and not args.pg_uri:
        # Exactness under load: every request lighttpd answered 200 was counted once in
        # apikey.request_count, and nothing else was (lighttpd has stopped: its log is whole).
        counted = uses_counted(gvx_db) - uses_before
        answered = answered_200(contestants["gvx"].work)
        if counted != answered:
            raise RuntimeError(f"gvx-fcgi counted {counted} uses for {answered} answers of 200")
        print("\t".join(["meta", "authorizer_exact",
                         f"request_count grew by {counted:,}, the number of requests answered "
                         "200"]), flush=True)
    if gvx_missing:
        row(WHAT_VS_RAW, gvx_missing, rate(med["raw"]), "", "n/a", 0)
        row(WHAT_VS_HELLO, gvx_missing, rate(med["hello"]), "", "n/a", 0)
        return 0

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(samples[a], samples[b]))

    r = ratio("gvx", "raw")
    row(WHAT_VS_RAW, rate(med["gvx"]), rate(med["raw"]), f"{r:.2f}×", ">= 0.9", r)
    h = ratio("gvx", "hello")
    # The SQLite store commits verifications in flight together (group commit); the
    # PostgreSQL one does not, and is reported only.
    row(WHAT_VS_HELLO, rate(med["gvx"]), rate(med["hello"]), f"{h:.2f}×",
        "report" if args.pg_uri else ">= 0.6", h)
    return 0


if __name__ == "__main__":
    sys.exit(main())
