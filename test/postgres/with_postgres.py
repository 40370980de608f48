#!/usr/bin/env python3
"""Runs a command beside a fresh PostgreSQL 15 server, then stops the server.

    with_postgres.py [--pair] -- COMMAND [ARG...]

The command finds the server in its environment:
    GVX_TEST_PG        libpq URI of database gvx as role gvx (the role gvx-fcgi uses)
    GVX_TEST_PG_ADMIN  libpq URI of database postgres as the superuser (to create databases)
Exit status: the command's; 77 (skipped) when PostgreSQL is not installed here.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1:]
    why = pgcluster.available()
    if why:
        print(f"skipped: {why}")
        return 77
    base = tempfile.mkdtemp(prefix="gvx-pg-")
    os.chmod(base, 0o755)
    try:
        with pgcluster.Server.create(base) as pg:
            env = dict(os.environ)
            env["GVX_TEST_PG"] = pg.uri()
            env["GVX_TEST_PG_ADMIN"] = pg.uri("postgres", pgcluster.ADMIN)
            return subprocess.run(command, env=env).returncode
    finally:
        pgcluster.remove(base)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
