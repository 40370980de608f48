"""Every process a test starts, and gvx-fcgi's in particular: started in its own session with
its output in a log file, registered, and stopped by pid (SIGTERM, then SIGKILL), also at exit
and when the test itself gets SIGTERM or SIGHUP.

    p = Process(argv, "name", log_dir)       # log_dir/name.log; p.pid, p.alive(), p.log_tail()
    p.stop()                                  # its exit status; p.timed_out if it needed SIGKILL
    procs, addr = start_gvx_fcgi("--db", db, *args, log_dir=d)   # on a free 127.0.0.1 port
    procs, path = start_gvx_fcgi("--db", db, log_dir=d, listen="/dir/gvx.sock")
    procs, addr = start_gvx_fcgi("--db", db, log_dir=d, procs=3)  # three on one socket
    free_port(), wait_for_port(host, port, proc=p), wait_for_socket(path, proc=p)
    tmpdir("tag") (removed at exit), remove_tmpdir(path), fresh_dir(path) (emptied)

A test that starts programs which spawn their own (web servers) calls become_subreaper(), so
that their orphans are collected; then reap_orphans() also ends children no Process tracks,
except the pids in foreign_children (processes managed elsewhere, e.g. PostgreSQL servers).
"""
import atexit
import contextlib
import ctypes
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from .paths import GVX_FCGI, HOST, KEEP_TMP

_live = []
_tmpdirs = []
_subreaper = False
foreign_children = set()


class Process:
    """A child process whose stdout and stderr go to log_dir/<name>.log (appended to, so a
    process restarted under the same name keeps one log; header, if given, is written first)."""

    def __init__(self, argv, name, log_dir, env=None, cwd=None, stdin=subprocess.DEVNULL,
                 preexec_fn=None, header=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = pathlib.Path(log_dir) / f"{name}.log"
        self.timed_out = False
        with open(self.log_path, "ab") as log:
            if header:
                log.write(header.encode() + b"\n")
                log.flush()
            self.popen = subprocess.Popen(self.argv, stdin=stdin, stdout=log,
                                          stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                          preexec_fn=preexec_fn, start_new_session=True)
        self.pid = self.popen.pid
        _live.append(self)

    @property
    def returncode(self):
        return self.popen.poll()

    def alive(self):
        return self.popen.poll() is None

    def log_bytes(self):
        try:
            return self.log_path.read_bytes()
        except OSError:
            return b""

    def log_text(self):
        return self.log_bytes().decode(errors="replace")

    def log_tail(self, n=4000):
        return self.log_text()[-n:]

    def wait(self, timeout=None):
        return self.popen.wait(timeout)

    def kill(self):
        """SIGKILL and reap: whatever the process was doing is cut off."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()
        self._forget()
        return self.popen.returncode

    def stop(self, timeout=10, sig=signal.SIGTERM):
        """sig (SIGTERM), wait, then SIGKILL (timed_out); then anything left in its process
        group (it leads it). Returns the exit status."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        # Children it spawned (lighttpd's gvx-fcgi, Apache's workers) share its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._forget()
        reap_orphans()
        return self.popen.returncode

    def _forget(self):
        if self in _live:
            _live.remove(self)


def start_process(argv, name, log_dir, env=None, cwd=None):
    return Process(argv, name, log_dir, env=env, cwd=cwd)


def become_subreaper():
    """Orphans of our children (web server workers, the gvx-fcgi they spawn) get re-parented
    to us, so that reap_orphans() can collect them instead of leaving zombies behind."""
    global _subreaper
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        _subreaper = True


def reap_orphans():
    """Collects exited children that no Process tracks (adopted orphans); only after
    become_subreaper(), as otherwise every untracked child is the test's own."""
    if not _subreaper:
        return
    tracked = {p.pid for p in _live} | foreign_children
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError, ChildProcessError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if int(fields[1]) == os.getpid() and pid not in tracked:
                if fields[0] != "Z":
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def stop_all():
    for p in list(reversed(_live)):
        with contextlib.suppress(Exception):
            p.stop(timeout=5)
    if not KEEP_TMP:
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
    _tmpdirs.clear()


atexit.register(stop_all)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through tearDown/finally, then atexit


for _sig in (signal.SIGTERM, signal.SIGHUP):
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(_sig, _exit_on_signal)


# ---------------------------------------------------------------------------------------------
# Directories and ports.

def tmpdir(tag="test"):
    """A fresh directory, world-readable (Apache's workers run as www-data under root)."""
    d = tempfile.mkdtemp(prefix=f"gvx-{tag}-")
    os.chmod(d, 0o755)
    _tmpdirs.append(d)
    if KEEP_TMP:
        print(f"gvxtest: keeping {d}", file=sys.stderr)
    return pathlib.Path(d)


def remove_tmpdir(path):
    if not KEEP_TMP:
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(ValueError):
        _tmpdirs.remove(str(path))


def fresh_dir(path):
    """path, created or emptied."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, timeout=10.0, proc=None):
    """Until something accepts on host:port; raises (with the log) if proc dies first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} before "
                               f"listening on {port}:\n{proc.log_tail()}")
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return
        if time.monotonic() > deadline:
            tail = proc.log_tail() if proc else ""
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s\n{tail}")
        time.sleep(0.02)


def wait_for_socket(path, timeout=10.0, proc=None):
    """Until something accepts on the Unix socket path."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited before listening on {path}:\n"
                               f"{proc.log_tail()}")
        with contextlib.suppress(OSError):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(path))
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {path} after {timeout}s")
        time.sleep(0.02)


def still_running(proc, settle=0.05):
    """A process that lost the race for its port may still have been starting when another
    program's listener answered: give it a moment to fail."""
    time.sleep(settle)
    if not proc.alive():
        raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}")


# ---------------------------------------------------------------------------------------------
# gvx-fcgi.

def start_gvx_fcgi(*args, log_dir, listen=None, name="gvx-fcgi", procs=1, binary=None,
                   wrapper=(), **process_args):
    """gvx-fcgi args... --listen ADDR: a free 127.0.0.1 port unless listen names one (or a
    Unix socket path). Returns ([Process...], addr) once addr accepts connections.

    args are gvx-fcgi's own ("--db", path, ...). With procs > 1, that many processes accept on
    one TCP socket, passed to them as fd 0 as lighttpd and spawn-fcgi do. binary: another
    gvx-fcgi than GVX_FCGI; wrapper: a command that runs it (["setpriv", ...]); process_args
    (env, cwd, preexec_fn, header) go to Process."""
    argv = [*wrapper, binary or GVX_FCGI, *map(str, args)]
    for attempt in range(3):  # another test may take the free port first
        addr = str(listen) if listen else f"{HOST}:{free_port()}"
        try:
            return _start_gvx_fcgi(addr, argv, log_dir, name, procs, process_args), addr
        except (RuntimeError, OSError) as e:
            if listen or "in use" not in str(e) or attempt == 2:
                raise


def _start_gvx_fcgi(addr, argv, log_dir, name, procs, process_args):
    if "/" in addr:
        ps = [Process(argv + ["--listen", addr], name, log_dir, **process_args)]
        try:
            wait_for_socket(addr, proc=ps[0])
        except BaseException:
            ps[0].stop()
            raise
        return ps
    host, _, port = addr.rpartition(":")
    if procs == 1:
        ps = [Process(argv + ["--listen", addr], name, log_dir, **process_args)]
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, int(port)))
            sock.listen(128)
            ps = [Process(argv, f"{name}-{i}", log_dir, stdin=sock.fileno(), **process_args)
                  for i in range(procs)]
    try:
        wait_for_port(host, int(port), proc=ps[0])
        still_running(ps[0])
    except BaseException:
        for p in ps:
            p.stop()
        raise
    return ps
