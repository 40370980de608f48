"""Shared set-up of the gitflare tests: a database made by Gitflare's real migration through
drizzle's real migrator, the better-auth peer on it, and gvx-fcgi on the same file."""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "peers"))

from gvxtest import fcgi  # noqa: E402
from gvxtest.checks import Checks, common_args, main_guard  # noqa: E402,F401
from gvxtest.fleet import Fleet  # noqa: E402
from gvxtest.processes import fresh_dir  # noqa: E402,F401
from better_auth import PeerError  # noqa: E402,F401
from better_auth import Driver as Peer  # noqa: E402  (one Node process on one database)

ORIGIN = "http://localhost:3000"  # the peer's baseURL (lib.mjs)
SECRET = "gvx-peer-secret-0123456789abcdef0123456789"  # the peer's cookie secret (lib.mjs)


def args(description):
    ap = common_args(description)
    ap.add_argument("--peer", required=True,
                    help="the installed peer (test/peers/better_auth.py install)")
    return ap.parse_args()


def migration_statements(fixtures):
    """Gitflare's auth migration (test/fixtures/gitflare-migration.sql), one statement each."""
    text = open(os.path.join(fixtures, "gitflare-migration.sql")).read()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() + ";" for s in text.split(";") if s.strip()]


def write_migrations(folder, migrations):
    """A drizzle migrations folder: [(tag, [statement, ...]), ...] with meta/_journal.json, the
    statements joined by drizzle-kit's breakpoint marker."""
    os.makedirs(os.path.join(folder, "meta"), exist_ok=True)
    entries = []
    for i, (tag, statements) in enumerate(migrations):
        with open(os.path.join(folder, f"{tag}.sql"), "w") as f:
            f.write("--> statement-breakpoint\n".join(statements))
        entries.append({"idx": i, "version": "6", "when": 1750000000000 + i * 1000, "tag": tag,
                        "breakpoints": True})
    with open(os.path.join(folder, "meta", "_journal.json"), "w") as f:
        json.dump({"version": "7", "dialect": "sqlite", "entries": entries}, f)
    return folder


def gitflare_db(a, name="gitflare.db", admin=False):
    """A database as Gitflare makes it: its migration through drizzle's migrator."""
    work = a.work
    db = os.path.join(work, name)
    folder = write_migrations(os.path.join(work, name + "-migrations"),
                              [("0000_flowery_shatterstar", migration_statements(a.fixtures))])
    with Peer(a.peer, db, ddl=False) as p:
        p.call("migrate", folder=folder)
    return db


def secret_file(work):
    path = os.path.join(work, "session-secret")
    with open(path, "w") as f:
        f.write(SECRET + "\n")
    return path


def gvx_fleet(a, db, count=1, extra=()):
    """gvx-fcgi processes on db that accept the peer's session cookies."""
    fleet = Fleet(a.fcgi, db, a.work,
                  extra_args=["--session-secret-file", secret_file(a.work),
                              "--trusted-origin", ORIGIN, *extra])
    fleet.start(count)
    return fleet


def gvx_api(server, method, endpoint, cookie=None, body=None, query="", extra=None):
    """A gvx API request as a browser on the peer's origin sends it, with the session cookie."""
    params = {"HTTP_ORIGIN": ORIGIN}
    if cookie:
        params["HTTP_COOKIE"] = cookie
    params.update(extra or {})
    return fcgi.api(server.address, method, endpoint, body=body, query=query, extra=params)


def gvx_authorize(server, token):
    """A Git request's authorization: (status, user)."""
    r = fcgi.authorize(server.address, token)
    return r.status, r.header("Variable-REMOTE_USER")


def sqlite_rows(sqlite3, db, sql, ext=None):
    cmd = [sqlite3, "-batch", "-bail", db]
    if ext:
        cmd += ["-cmd", f".load {ext}"]
    out = subprocess.run(cmd + [sql], check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines()]


def index_names(peer, table="apikey"):
    return sorted(r["name"] for r in peer.sql(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? "
        "AND name NOT LIKE 'sqlite_autoindex%'", table))


TOKEN_RE = re.compile(r"^gvx_[A-Za-z0-9]{64}$")
