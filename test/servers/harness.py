"""Test harness for gvx behind real web servers (lighttpd, Apache, nginx). Python 3 stdlib only.

Every test starts its own web server on a free port on 127.0.0.1, with all of its state (rendered
config, pid file, logs, sockets, htpasswd, databases) in a fresh temporary directory, and stops
every process it started, by pid, even when the test fails.

Paths come from the environment (CTest sets them; the defaults suit a `build/` tree;
gvxtest/paths.py reads them):
    GVX_FCGI    the gvx-fcgi binary           (default: <repo>/build/fcgi/gvx-fcgi)
    GVX_EXT     the gvx.so extension           (default: <repo>/build/gvx.so)
    SQLITE3     the sqlite3 shell              (default: sqlite3 on PATH)
    GVX_KEEP_TMP=1   keep the temporary directories (printed) for debugging

Interface (stable: other tests build on it)
-------------------------------------------
Server modules -- lighttpd.py, apache.py, nginx.py -- each expose the same thing:

    import lighttpd                      # or apache / nginx; or harness.server_module("nginx")
    srv = lighttpd.start("api-basic",                       # scripts/lighttpd/api-basic.conf
                         fcgi={"API": ["--db", db, "--trust-remote-user"]},
                         HTPASSWD=path)                     # any further @PLACEHOLDER@ values
    srv.base_url          # "http://127.0.0.1:PORT"
    srv.url("/api/auth/api-key/list")
    srv.port, srv.state_dir, srv.name ("lighttpd"), srv.config_path (the rendered config),
    srv.vars (every value it was rendered with), srv.backends (the gvx-fcgi Processes)
    srv.logs()            # {file name: text} of every *.log in state_dir (server and gvx-fcgi)
    srv.stop()            # idempotent; also stops the gvx-fcgi processes started for it
    with lighttpd.start(...) as srv: ...                    # stops on exit

start(config_name, fcgi=None, fcgi_procs=1, **vars) renders scripts/<server>/<config_name>.conf
with scripts/render-config (placeholders are @NAME@) and runs the server in the foreground.
Values every template gets:
    HOST (127.0.0.1), PORT, STATE_DIR, SOURCE_DIR, SCRIPTS_DIR, GVX_FCGI, USER, GROUP (the worker
    user of Apache and nginx: www-data as root, else the current user), ERRORS_DIR (a copy of
    scripts/errors/, the JSON error pages), WEB_DIR (a copy of web/, the token settings page),
    plus the server's own (see its module).
fcgi={"NAME": [gvx-fcgi arguments without --listen]} declares gvx-fcgi backends. For each:
    NAME_CMD   "gvx-fcgi arg ..." for a server that spawns it itself (lighttpd bin-path);
    NAME_HOST, NAME_PORT, NAME_ADDR (host:port): only when the template uses one of them does
               the harness start `fcgi_procs` gvx-fcgi processes --listen on that one port
               (they share the socket), and stop them with the server.
    NAME_SOCKET  a Unix socket path: when the template uses it, the harness starts one
               gvx-fcgi --listen STATE_DIR/gvx-name.sock --socket-group GROUP (mode 0660:
               the worker user may connect, other users may not), stopped with the server.

Helpers, from test/support/gvxtest (the package every Python test shares) under the names the
server tests use:
    processes: tmpdir(tag) (removed at exit) / remove_tmpdir(path) / free_port()
    wait_for_port(host, port, timeout, proc) / wait_for_socket(path, timeout, proc)
    start_process(argv, name, log_dir, env=None) -> Process (pid, alive(), stop(timeout), log_path)
    start_gvx_fcgi("--db", db, *args, log_dir=d, listen=None, procs=1)
        -> ([Process...], "127.0.0.1:PORT"): gvx-fcgi processes of a test's own
    http: http(method, url, headers=None, body=None, json_body=None, timeout=10) -> Reply
    raw_http(host, port, data: bytes, timeout=10, half_close=False) -> Reply or None (no answer)
    fcgi: fcgi_request(addr, params, stdin=b"", role="RESPONDER") -> Reply: talk FastCGI
        directly to a gvx-fcgi process (e.g. params GVX_MODE=authorize to check a token
        elsewhere); it is gvxtest.fcgi.request
    credentials: basic_auth(user, password) -> "Basic ..." ; write_htpasswd(path, {user: pw})
    sign_cookie(token, secret) -> better-auth's URL-encoded signed cookie value
Here:
    sqlite(db) -> sqlite3.Connection (stdlib, no gvx.so); gvx_sql(db, sql) -> sqlite3 shell
        output with gvx.so loaded
    start_fcgiwrap(log_dir) -> (Process, "HOST:PORT"): fcgiwrap for nginx's git-http-backend
    chown_to_worker(*paths): repositories and hooks for Apache's worker user (as root)
Databases (GVX_TEST_DB=postgres runs the same tests on PostgreSQL; default sqlite):
    new_database(work_dir) -> the --db value: work_dir/gvx.db, or the URI of a fresh
        database on a PostgreSQL server this test process starts (test/postgres/pgcluster.py)
    db_connect(db) -> a connection (execute/executemany/executescript, '?' placeholders) to
        either kind; load_fixture(db, "gitflare") runs test/fixtures/gitflare[.postgres].sql
    create_token(db, user, name, expires_at=None) -> the token, made by gvx itself
    database_files(db) -> the files holding the database (to scan for secrets)
    files_containing(secret, *dirs) -> [paths]; assert_not_logged(secret, *servers_or_dirs)
    assert_no_crash_reports(*servers_or_dirs): no sanitizer report or crash in any *.log
Reply: .status .reason .headers [(name, value)] .header(name) .body (bytes) .text .json()
"""

import contextlib
import grp
import importlib
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from gvxtest.fcgi import request as fcgi_request  # noqa: E402,F401  (the one FastCGI client)
from gvxtest.http import Reply, http, parse_http_response, raw_http  # noqa: E402,F401
from gvxtest.credentials import basic_auth, sign_cookie, write_htpasswd  # noqa: E402,F401
from gvxtest.paths import (GVX_EXT, GVX_FCGI, HOST, KEEP_TMP, SCRIPTS_DIR,  # noqa: E402,F401
                           SOURCE_DIR, SQLITE3)
# The one process manager: every name a server test used from here.
from gvxtest.processes import (Process, foreign_children, free_port,  # noqa: E402,F401
                               reap_orphans, remove_tmpdir, start_gvx_fcgi, start_process,
                               still_running, stop_all, tmpdir, wait_for_port,
                               wait_for_socket)
from gvxtest import processes as _processes  # noqa: E402

# Web servers spawn processes of their own (workers, gvx-fcgi): their orphans come to us.
_processes.become_subreaper()


def _load_renderer():
    path = str(SCRIPTS_DIR / "render-config")
    loader = importlib.machinery.SourceFileLoader("gvx_render_config", path)
    spec = importlib.util.spec_from_loader("gvx_render_config", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


_renderer = _load_renderer()
render = _renderer.render
placeholders = _renderer.placeholders


# ---------------------------------------------------------------------------------------------
# Credentials, databases, logs.

def sqlite(db):
    """A stdlib connection (without gvx.so) for setting up and inspecting a database."""
    conn = sqlite3.connect(str(db), timeout=10, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


DB_KIND = os.environ.get("GVX_TEST_DB", "sqlite")
_postgres = None  # this process's PostgreSQL server, started on first use
_databases = 0


def is_postgres(db):
    return str(db).startswith(("postgresql://", "postgres://"))


def postgres_server():
    """The PostgreSQL server of this test process (started once, stopped at exit)."""
    global _postgres
    if _postgres is None:
        sys.path.insert(0, str(SOURCE_DIR / "test" / "postgres"))
        import pgcluster  # registers its own atexit, which runs before ours
        why = pgcluster.available()
        if why:
            raise unittest_skip(why)
        _postgres = pgcluster.Server.create(tmpdir("pg"))
    return _postgres


def unittest_skip(why):
    import unittest
    return unittest.SkipTest(why)


def new_database(work_dir, name="gvx"):
    """A fresh, empty database for gvx: its --db argument (a path or a libpq URI)."""
    global _databases
    if DB_KIND != "postgres":
        return pathlib.Path(work_dir) / f"{name}.db"
    server = postgres_server()
    _databases += 1
    return server.uri(server.create_database(f"{name}_{_databases}"))


def db_connect(db):
    """A connection to either kind of database, for setting up and inspecting it."""
    if not is_postgres(db):
        return sqlite(db)
    parts = urllib.parse.urlsplit(str(db))
    sys.path.insert(0, str(SOURCE_DIR / "test" / "postgres"))
    import pgwire
    return pgwire.connect(parts.hostname, parts.port, parts.username, parts.path.lstrip("/"))


def load_fixture(db, name):
    """test/fixtures/NAME.sql on SQLite, NAME.postgres.sql on PostgreSQL."""
    fixtures = SOURCE_DIR / "test" / "fixtures"
    path = fixtures / (f"{name}.postgres.sql" if is_postgres(db) else f"{name}.sql")
    conn = db_connect(db)
    try:
        conn.executescript(path.read_text())
    finally:
        conn.close()


def create_token(db, user, name, expires_at=None):
    """A token made by gvx: gvx_create() on SQLite; on PostgreSQL, POST /create through a
    gvx-fcgi process of its own (REMOTE_USER trusted)."""
    if not is_postgres(db):
        expiry = "NULL" if expires_at is None else str(int(expires_at))
        quoted_user, quoted_name = (v.replace("'", "''") for v in (user, name))
        return gvx_sql(db, f"SELECT gvx_create('{quoted_user}', '{quoted_name}', {expiry}) "
                           "->> 'key';").strip()
    log_dir = tmpdir("create-token")
    procs, addr = start_gvx_fcgi("--db", db, "--trust-remote-user", "--trusted-peer", "127.0.0.1",
                                   log_dir=log_dir,
                                   name="gvx-fcgi-create")
    try:
        body = {"name": name, **({} if expires_at is None else {"expiresAt": int(expires_at)})}
        reply = fcgi_request(addr, {
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/auth/api-key/create",
            "REMOTE_USER": user, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(json.dumps(body)))}, stdin=json.dumps(body).encode())
        if reply.status != 200:
            raise RuntimeError(f"create_token: {reply}")
        return reply.json()["key"]
    finally:
        for p in procs:
            p.stop()
        remove_tmpdir(log_dir)


def database_files(db):
    """Where the database keeps its bytes: the SQLite file and its -wal/-shm, or the
    PostgreSQL server's whole directory."""
    if is_postgres(db):
        return sorted(p for p in postgres_server().dir.rglob("*") if p.is_file())
    return sorted(pathlib.Path(db).parent.glob(pathlib.Path(db).name + "*"))


def gvx_sql(db, sql):
    """sqlite3 shell output of sql run on db with gvx.so loaded."""
    r = subprocess.run([SQLITE3, "-bail", "-batch", str(db), "-cmd", f".load {GVX_EXT}", sql],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"sqlite3 failed: {r.stderr}")
    return r.stdout


def files_containing(secret, *dirs):
    """Every file under dirs whose bytes contain secret."""
    needle = secret.encode() if isinstance(secret, str) else secret
    hits = []
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in names:
                p = os.path.join(root, n)
                with contextlib.suppress(OSError):
                    if os.path.isfile(p) and needle in pathlib.Path(p).read_bytes():
                        hits.append(p)
    return hits


def assert_not_logged(secret, *where):
    """AssertionError unless secret appears in no file of the given servers' state dirs/dirs."""
    dirs = [w.state_dir if isinstance(w, WebServer) else w for w in where]
    hits = files_containing(secret, *dirs)
    if hits:
        raise AssertionError(f"a secret appears in {hits}")


CRASH_MARKERS = (b"ERROR: AddressSanitizer", b"runtime error:", b"ERROR: LeakSanitizer",
                 b"Segmentation fault", b"terminate called")


# Apache's own worker dying (seen now and then as it shuts down, under load): gvx-fcgi never
# runs inside Apache, so this line is Apache's, not ours; a gvx-fcgi crash shows in its own log.
APACHE_WORKER_CRASH = re.compile(rb"AH00052: child pid \d+ exit signal")


def assert_no_crash_reports(*where):
    """AssertionError if a log under the given servers' state dirs/dirs shows a crash or a
    sanitizer report (a GVX_SANITIZE build of gvx-fcgi writes them to its log)."""
    dirs = [w.state_dir if isinstance(w, WebServer) else w for w in where]
    hits = []
    for path in {p for m in CRASH_MARKERS for p in files_containing(m, *dirs)}:
        if not path.endswith(".log"):
            continue
        with open(path, "rb") as f:
            lines = f.read().splitlines()
        if any(m in line and not APACHE_WORKER_CRASH.search(line)
               for line in lines for m in CRASH_MARKERS):
            hits.append(path)
    if hits:
        raise AssertionError(f"crash or sanitizer report in {sorted(hits)}")


# ---------------------------------------------------------------------------------------------
# Web servers: the common part of lighttpd.py, apache.py, nginx.py.

def _worker_identity():
    if os.geteuid() == 0:
        for user, group in (("www-data", "www-data"), ("nobody", "nogroup")):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(user)
                grp.getgrnam(group)
                return user, group
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def chown_to_worker(*paths):
    """paths, and everything under those that are directories, become the worker user's: git
    refuses a repository of another owner, and Apache runs git-http-backend (and hooks) as
    its worker user."""
    user, group = _worker_identity()
    for top in paths:
        shutil.chown(top, user, group)
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                shutil.chown(os.path.join(root, n), user, group)


FCGIWRAP = shutil.which("fcgiwrap") or "/usr/sbin/fcgiwrap"


def start_fcgiwrap(log_dir):
    """fcgiwrap on a free port, for nginx to run git-http-backend: (Process, "HOST:PORT")."""
    for attempt in range(3):  # another test may take the free port first
        port = free_port()
        fw = start_process([FCGIWRAP, "-s", f"tcp:{HOST}:{port}"], "fcgiwrap", log_dir)
        try:
            wait_for_port(HOST, port, proc=fw)
            return fw, f"{HOST}:{port}"
        except RuntimeError:
            fw.stop()
            if attempt == 2:
                raise


class WebServer:
    """One server instance on a free port; subclasses give name, command() and extra_vars()."""

    name = "server"
    start_timeout = 15.0

    def __init__(self):
        self.proc = None
        self.backends = []
        self.state_dir = None
        self.port = None
        self.config_path = None
        self.vars = {}

    # Subclass hooks.
    def command(self, config_path):
        raise NotImplementedError

    def extra_vars(self):
        return {}

    def prepare(self):
        """Directories the server needs in state_dir before it starts."""

    def environment(self):
        """The server's environment (None: the test's own)."""
        return None

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}"

    def url(self, path):
        return self.base_url + path

    def template_path(self, config_name):
        name = config_name if config_name.endswith(".conf") else config_name + ".conf"
        return SCRIPTS_DIR / self.name / name

    def start(self, config_name, fcgi=None, fcgi_procs=1, **vars):
        template = self.template_path(config_name).read_text()
        wanted = placeholders(template)
        self.state_dir = tmpdir(f"{self.name}-{config_name}")
        self.prepare()
        user, group = _worker_identity()
        errors = self.state_dir / "errors"  # copies the worker user can surely read
        shutil.copytree(SCRIPTS_DIR / "errors", errors)
        web = self.state_dir / "web"
        shutil.copytree(SOURCE_DIR / "web", web)
        values = {"HOST": HOST, "STATE_DIR": self.state_dir, "SOURCE_DIR": SOURCE_DIR,
                  "SCRIPTS_DIR": SCRIPTS_DIR, "ERRORS_DIR": errors, "WEB_DIR": web,
                  "GVX_FCGI": GVX_FCGI, "USER": user, "GROUP": group}
        values.update(self.extra_vars())
        try:
            for backend, args in (fcgi or {}).items():
                args = [str(a) for a in args]
                values[f"{backend}_CMD"] = " ".join([GVX_FCGI, *args])
                if f"{backend}_SOCKET" in wanted:
                    sock = self.state_dir / f"gvx-{backend.lower()}.sock"
                    procs, _ = start_gvx_fcgi(*args, "--socket-group", group,
                                              log_dir=self.state_dir, listen=str(sock),
                                              name=f"gvx-fcgi-{backend.lower()}")
                    self.backends += procs
                    values[f"{backend}_SOCKET"] = sock
                if wanted & {f"{backend}_ADDR", f"{backend}_HOST", f"{backend}_PORT"}:
                    procs, addr = start_gvx_fcgi(*args, log_dir=self.state_dir,
                                                 name=f"gvx-fcgi-{backend.lower()}",
                                                 procs=fcgi_procs)
                    self.backends += procs
                    host, _, port = addr.rpartition(":")
                    values.update({f"{backend}_ADDR": addr, f"{backend}_HOST": host,
                                   f"{backend}_PORT": port})
            values.update({k: str(v) for k, v in vars.items()})
            self._launch(template, values)
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, template, values):
        for attempt in range(3):  # another test may grab the free port first
            self.port = free_port()
            values["PORT"] = self.port
            self.vars = dict(values)
            self.config_path = self.state_dir / f"{self.name}.conf"
            self.config_path.write_text(render(template, values))
            os.chmod(self.config_path, 0o644)
            self.proc = start_process(self.command(self.config_path), self.name, self.state_dir,
                                      env=self.environment())
            try:
                wait_for_port(HOST, self.port, self.start_timeout, self.proc)
                still_running(self.proc)
                return
            except RuntimeError as e:
                self.proc.stop()
                if "in use" not in str(e) or attempt == 2:
                    raise

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
        for b in self.backends:
            b.stop()
        self.backends = []

    def log_files(self):
        return sorted(self.state_dir.glob("**/*.log")) if self.state_dir else []

    def logs(self):
        return {p.name: p.read_text(errors="replace") for p in self.log_files()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def server_module(name):
    """The module for a server name: lighttpd, apache or nginx."""
    return importlib.import_module(name)
