#!/usr/bin/env python3
"""The PostgreSQL rows of `make bench`: starts a PostgreSQL 15 server of its own (as the tests
do, test/postgres/pgcluster.py; fsync and synchronous_commit on, as in production), fills it
with the benchmark's live tokens, and measures

  - verification through gvx's PostgreSQL store against a raw libpq client issuing the same
    statements (gvx-bench-pg), and
  - the authorizer behind lighttpd (gvx-fcgi --db postgresql://...) against a libfcgi + libpq
    responder doing the same work (bench/http/authorizer_rows.py --pg-uri).

    pg_rows.py --build DIR --tokens N --scratch DIR --reps R --ops K --http-reps R --seconds S

Prints "meta" and "row" lines for bench/table.py; rows say n/a when PostgreSQL is missing.
The server is stopped and its directory removed before exit.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "postgres"))
import pgcluster  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--http-reps", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=2)
    args = ap.parse_args()

    why = pgcluster.available()
    if why:
        print(f"row\tPostgreSQL rows\tn/a ({why})\t\t\tn/a\t0", flush=True)
        return 0
    base = os.path.join(args.scratch, "pg")
    os.makedirs(base, exist_ok=True)
    os.chmod(args.scratch, 0o755)
    os.chmod(base, 0o755)
    server = pgcluster.Server.create(base, fsync=True)
    try:
        uri = server.uri()
        print(f"meta\tpostgresql_settings\tPostgreSQL 15, fsync on, synchronous_commit on, "
              f"127.0.0.1 TCP, {args.tokens:,} tokens", flush=True)
        subprocess.run([os.path.join(args.build, "bench", "gvx-bench-pg"), "--uri", uri,
                        "--tokens", str(args.tokens), "--reps", str(args.reps),
                        "--ops", str(args.ops)], check=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "http", "authorizer_rows.py"),
                        "--build", args.build, "--db", "unused", "--tokens", str(args.tokens),
                        "--scratch", os.path.join(args.scratch, "pg-http"),
                        "--reps", str(args.http_reps), "--seconds", str(args.seconds),
                        "--pg-uri", uri], check=True)
    finally:
        server.stop()
        pgcluster.remove(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
