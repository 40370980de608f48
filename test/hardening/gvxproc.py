"""gvx-fcgi processes for the hardening tests: start, wait until they accept, kill by PID.

Every process started through a Fleet is remembered by PID and killed when the Fleet closes,
also when a test fails or is interrupted (use it as a context manager). Each process writes
its stderr to its own file, which the tests scan for tokens and sanitizer reports.
"""
import argparse
import base64
import hashlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback


SANITIZER_PATTERNS = re.compile(
    rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL")


def common_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--fcgi", required=True, help="the gvx-fcgi binary")
    ap.add_argument("--ext", help="gvx.so")
    ap.add_argument("--sqlite3", help="the sqlite3 shell")
    ap.add_argument("--fixtures", help="test/fixtures")
    ap.add_argument("--work", required=True, help="scratch directory (emptied first)")
    ap.add_argument("--seconds", type=float, default=None, help="load duration")
    return ap


def fresh_dir(path):
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            for d in dirs:
                os.rmdir(os.path.join(root, d))
    os.makedirs(path, exist_ok=True)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, fleet, name, port):
        self.fleet = fleet
        self.name = name
        self.port = port
        self.address = ("127.0.0.1", port)
        self.proc = None
        self.generation = 0
        self.stderr_path = os.path.join(fleet.workdir, f"{name}.stderr")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=15.0):
        self.generation += 1
        args = [self.fleet.binary, "--db", self.fleet.db, "--listen", f"127.0.0.1:{self.port}"]
        args += list(self.fleet.extra_args)
        if "--trust-remote-user" in args:  # on TCP only with the peers named (SPEC §14)
            args += ["--trusted-peer", "127.0.0.1"]
        err = open(self.stderr_path, "ab")
        err.write(f"--- start {self.generation}: {' '.join(args)}\n".encode())
        err.flush()
        limit = self.fleet.stack_bytes
        preexec = (lambda: resource.setrlimit(resource.RLIMIT_STACK, (limit, limit))) if limit else None
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                     preexec_fn=preexec)
        err.close()
        self.fleet.pids.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start; "
                                   f"see {self.stderr_path}")
            try:
                with socket.create_connection(self.address, timeout=1):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not accept connections within {timeout} s")

    def kill9(self):
        """SIGKILL, then reap: whatever the process was doing is cut off."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.fleet.pids.discard(self.proc.pid)

    def stop(self, timeout=20.0):
        """SIGTERM and wait: the exit status (0 expected; LeakSanitizer reports make it 23)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self.fleet.pids.discard(self.proc.pid)
                return "timeout"
        self.fleet.pids.discard(self.proc.pid)
        return self.proc.returncode

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""


class Fleet:
    def __init__(self, binary, db, workdir, extra_args=(), stack_bytes=None):
        self.binary = binary
        self.stack_bytes = stack_bytes  # RLIMIT_STACK for the processes (None: inherited)
        self.db = db
        self.workdir = workdir
        self.extra_args = extra_args
        self.servers = []
        self.pids = set()

    def start(self, count):
        for i in range(count):
            s = Server(self, f"gvx-fcgi-{len(self.servers)}", free_port())
            self.servers.append(s)
            s.start()
        return self.servers

    def stop_all(self):
        """Graceful stop of every live server: list of (name, exit status)."""
        return [(s.name, s.stop()) for s in self.servers if s.alive()]

    def sanitizer_reports(self):
        return [(s.name, s.stderr_path) for s in self.servers
                if SANITIZER_PATTERNS.search(s.stderr())]

    def close(self):
        for pid in list(self.pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for s in self.servers:
            if s.proc:
                try:
                    s.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.pids.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def key_hash(token):
    """What apikey.key stores for a token: base64url(SHA-256(token)) without padding."""
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def leaked_secrets(data, tokens):
    """The tokens of which a telling piece (16 characters after the first 6, which are shown as
    `start` on purpose; pieces of low variety such as 'bbbb...' in test fixtures are skipped)
    appears in data (bytes or str)."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    found = []
    for t in tokens:
        body = t[6:]
        pieces = [body[i:i + 16] for i in range(0, max(1, len(body) - 15), 4)]
        if any(len(set(p)) >= 8 and p in text for p in pieces):
            found.append(t)
    return found


class Checks:
    """Collects failures so a test reports all of them, then exits non-zero if any."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
            print(f"FAIL: {what}", flush=True)
        return cond

    def finish(self):
        print(f"{self.name}: {self.passed} checks passed, {len(self.failures)} failed", flush=True)
        return 1 if self.failures else 0


class Threads:
    """Load threads whose exceptions are kept (a dead thread must fail the test, not hide)."""

    def __init__(self):
        self.threads = []
        self.errors = []

    def start(self, fn, *args):
        def body():
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - reported by join()
                self.errors.append(f"{fn.__name__}{args[-1:]}: {type(e).__name__}: {e}\n"
                                   + traceback.format_exc())
        t = threading.Thread(target=body, daemon=True)
        t.start()
        self.threads.append(t)

    def join(self, timeout=30.0):
        """True when every thread ended without an exception."""
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for e in self.errors:
            print(f"thread failed: {e}", flush=True)
        return not self.errors and not any(t.is_alive() for t in self.threads)


def main_guard(fn):
    """Runs fn() and exits with its status; a stray exception is a failure, not a hang."""
    try:
        sys.exit(fn())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - report anything, then fail
        traceback.print_exc()
        print(f"ERROR: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)


__all__ = ["Fleet", "Server", "Checks", "common_args", "fresh_dir", "free_port", "main_guard"]
