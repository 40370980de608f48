"""Real PostgreSQL 15 servers for the tests, each in its own temporary directory.

    import pgcluster
    with pgcluster.Server.create(base_dir) as pg:        # initdb + start, as an unprivileged user
        uri = pg.uri("gvx")                              # postgresql://gvx@127.0.0.1:PORT/gvx?...
        with pg.connect("gvx") as c: c.execute("SELECT 1")
    primary, standby = pgcluster.replicated_pair(base_dir)  # synchronous streaming standby
    primary.crash()                                      # SIGKILL of the postmaster and children
    standby.promote()

PostgreSQL refuses to run as root, and the tests run as root in CI: every PostgreSQL program
then runs as the `postgres` system user (Debian's postgresql-common creates it) or `nobody`,
through setpriv, which execs in place so the pid we hold is the postmaster's own. Each server
listens on a free port on 127.0.0.1 and on a Unix socket in its own directory, accepts local
connections without a password (trust: the socket directory is the server's alone), and is
stopped (immediate shutdown, then SIGKILL of its process group) when the test ends.

Binaries: /usr/lib/postgresql/15/bin (Debian's postgresql-15), or PG_BINDIR.
"""
import atexit
import contextlib
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgwire  # noqa: E402

BINDIR = pathlib.Path(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"
ROLE = "gvx"        # the role gvx-fcgi logs in as: owns database gvx, not a superuser
ADMIN = "gvx_admin"  # the bootstrap superuser (initdb -U)

_servers = []


def available():
    """Why PostgreSQL cannot run here, or None when it can."""
    if not (BINDIR / "postgres").exists():
        return f"PostgreSQL 15 is not installed ({BINDIR}/postgres missing)"
    if os.geteuid() == 0 and _service_user() is None:
        return "no unprivileged user (postgres or nobody) to run PostgreSQL as"
    return None


def _service_user():
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def _as_service_user(argv):
    """argv run as the service user when we are root (setpriv execs: no extra process)."""
    argv = [str(a) for a in argv]
    if os.geteuid() != 0:
        return argv
    u = _service_user()
    return ["setpriv", f"--reuid={u.pw_uid}", f"--regid={u.pw_gid}", "--clear-groups",
            "--inh-caps=-all", "--", *argv]


def _give_to_service_user(path):
    if os.geteuid() == 0:
        u = _service_user()
        os.chown(path, u.pw_uid, u.pw_gid)


def _run(argv, timeout=60, **kw):
    r = subprocess.run(_as_service_user(argv), capture_output=True, text=True, timeout=timeout,
                       env=_env(), **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({r.returncode}):\n"
                           f"{r.stdout}\n{r.stderr}")
    return r.stdout


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    env["TZ"] = "UTC"
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """One PostgreSQL server (a data directory and its postmaster)."""

    def __init__(self, base_dir, name):
        self.dir = pathlib.Path(base_dir) / name
        self.name = name
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.log_path = self.dir / "postgres.log"
        self.port = None
        self.proc = None

    # -- creating ----------------------------------------------------------------------------

    @classmethod
    def create(cls, base_dir, name="pg", fsync=False, settings=None):
        """initdb, start, and a database `gvx` owned by the login role `gvx`."""
        s = cls(base_dir, name)
        s._make_dirs()
        _run([BINDIR / "initdb", "-D", s.data, "-U", ADMIN, "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8", "--no-instructions", "--no-sync"])
        s._configure(fsync, settings or {})
        s.start()
        s.admin("CREATE ROLE gvx LOGIN")
        s.admin("CREATE DATABASE gvx OWNER gvx")
        return s

    def _make_dirs(self):
        for d in (self.dir.parent, self.dir):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir.parent, 0o755)
        self.socket_dir.mkdir(exist_ok=True)
        for d in (self.dir, self.socket_dir):
            os.chmod(d, 0o700)
            _give_to_service_user(d)

    def _configure(self, fsync, settings):
        self.port = free_port()
        conf = {
            "listen_addresses": f"'{HOST}'",
            "port": self.port,
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": 100,
            "shared_buffers": "'32MB'",
            "fsync": "on" if fsync else "off",
            "synchronous_commit": "on",
            "full_page_writes": "on" if fsync else "off",
            "wal_level": "replica",
            "max_wal_senders": 5,
            "wal_keep_size": "'64MB'",
            "log_line_prefix": "'%m [%p] '",
            "logging_collector": "off",
            **settings,
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# gvx tests\n")
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")

    # -- running -------------------------------------------------------------------------------

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(_as_service_user([BINDIR / "postgres", "-D", self.data]),
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     env=_env(), start_new_session=True)
        log.close()
        _servers.append(self)
        # gvxtest.processes reaps children it does not know; this one it must leave running.
        processes = sys.modules.get("gvxtest.processes")
        if processes is not None:
            processes.foreign_children.add(self.proc.pid)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres {self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            with contextlib.suppress(OSError, pgwire.Error, ConnectionError):
                with pgwire.connect(str(self.socket_dir), self.port, ADMIN, "postgres",
                                    timeout=2) as c:
                    c.execute("SELECT 1")
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"postgres {self.name} not ready after {timeout}s:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crash(self):
        """What losing the machine looks like: SIGKILL to the postmaster and every backend."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # immediate shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.proc = None
        with contextlib.suppress(ValueError):
            _servers.remove(self)

    def promote(self, timeout=30):
        _run([BINDIR / "pg_ctl", "promote", "-D", self.data, "-w", "-t", str(timeout)],
             timeout=timeout + 10)

    # -- talking to it ---------------------------------------------------------------------

    def connect(self, database="gvx", user=ROLE, **options):
        return pgwire.connect(str(self.socket_dir), self.port, user, database, **options)

    def admin(self, sql, database="postgres"):
        with self.connect(database, ADMIN) as c:
            return c.execute(sql).fetchall()

    def uri(self, database="gvx", user=ROLE, **params):
        """A libpq URI over TCP; params are added as query parameters."""
        q = "&".join(f"{k}={v}" for k, v in {"connect_timeout": 3, **params}.items())
        return f"postgresql://{user}@{HOST}:{self.port}/{database}?{q}"

    def create_database(self, name):
        self.admin(f'CREATE DATABASE "{name}" OWNER gvx')
        return name

    def log_tail(self, n=4000):
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def replicated_pair(base_dir, standby_name="standby"):
    """A primary with one synchronous streaming standby: a commit is acknowledged only once the
    standby has flushed it (synchronous_commit = on, synchronous_standby_names)."""
    primary = Server.create(base_dir, "primary", fsync=True, settings={"wal_log_hints": "on"})
    standby = Server(base_dir, standby_name)
    standby._make_dirs()
    _run([BINDIR / "pg_basebackup", "-h", primary.socket_dir, "-p", primary.port, "-U", ADMIN,
          "-D", standby.data, "-R", "-X", "stream", "-c", "fast"], timeout=120)
    standby.port = free_port()
    with open(standby.data / "postgresql.conf", "a") as f:
        # The copied configuration names the primary's port and socket: this one's own, and
        # cluster_name is the application_name the primary knows it by.
        f.write(f"\nport = {standby.port}\nunix_socket_directories = '{standby.socket_dir}'\n"
                f"cluster_name = '{standby_name}'\nhot_standby = on\n"
                "synchronous_standby_names = ''\n")
    standby.start()
    # Synchronous only now: before the standby exists, every commit would wait for it.
    primary.admin(f"ALTER SYSTEM SET synchronous_standby_names = '{standby_name}'")
    primary.admin("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 30
    while True:
        rows = primary.admin("SELECT sync_state FROM pg_stat_replication "
                             f"WHERE application_name = '{standby_name}'")
        if rows and rows[0][0] == "sync":
            return primary, standby
        if time.monotonic() > deadline:
            raise TimeoutError(f"the standby never became synchronous: {rows}\n"
                               f"{standby.log_tail()}")
        time.sleep(0.1)


def stop_all():
    for s in list(reversed(_servers)):
        with contextlib.suppress(Exception):
            s.stop()


atexit.register(stop_all)


def remove(base_dir):
    shutil.rmtree(base_dir, ignore_errors=True)
