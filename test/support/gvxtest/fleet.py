"""gvx-fcgi processes that a test kills and restarts (the hardening and gitflare tests): each
Server keeps its port and its log across restarts; every process is a gvxtest.processes.Process,
killed by pid when the Fleet closes, also when a test fails (use the Fleet as a context manager).

    with Fleet(binary, db, workdir, extra_args=["--trust-remote-user"]) as fleet:
        a, b = fleet.start(2)            # Servers on free ports; a.address is (host, port)
        a.kill9(); a.start()             # cut off, then the same port again
        a.stop()                         # SIGTERM: the exit status, or "timeout"
        a.stderr()                       # its log: every start's output
        fleet.sanitizer_reports()        # [(name, log path)] of logs with a sanitizer report
"""
import os
import re
import resource
import signal

from .paths import HOST
from .processes import Process, free_port, wait_for_port

SANITIZER_PATTERNS = re.compile(
    rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL"
    rb"|WARNING: ThreadSanitizer")


class Server:
    def __init__(self, fleet, name, port):
        self.fleet = fleet
        self.name = name
        self.port = port
        self.address = (HOST, port)
        self.proc = None
        self.generation = 0
        self.stderr_path = os.path.join(fleet.workdir, f"{name}.log")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=15.0):
        self.generation += 1
        args = [self.fleet.binary, "--db", self.fleet.db, "--listen", f"{HOST}:{self.port}"]
        args += list(self.fleet.extra_args)
        if "--trust-remote-user" in args:  # on TCP only with the peers named (SPEC §14)
            args += ["--trusted-peer", HOST]
        limit = self.fleet.stack_bytes
        preexec = (lambda: resource.setrlimit(resource.RLIMIT_STACK, (limit, limit))) if limit else None
        self.proc = Process(args, self.name, self.fleet.workdir, preexec_fn=preexec,
                            header=f"--- start {self.generation}: {' '.join(map(str, args))}")
        self.fleet.pids.add(self.proc.pid)
        wait_for_port(HOST, self.port, timeout, self.proc)
        return self

    def kill9(self):
        """SIGKILL, then reap: whatever the process was doing is cut off."""
        if self.proc:
            self.proc.kill()
            self.fleet.pids.discard(self.proc.pid)

    def stop(self, timeout=20.0):
        """SIGTERM and wait: the exit status (0 expected; LeakSanitizer reports make it 23),
        or "timeout" when it had to be killed."""
        if not self.proc:
            return None
        rc = self.proc.stop(timeout)
        self.fleet.pids.discard(self.proc.pid)
        return "timeout" if self.proc.timed_out else rc

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def stderr(self):
        return self.proc.log_bytes() if self.proc else b""


class Fleet:
    def __init__(self, binary, db, workdir, extra_args=(), stack_bytes=None):
        self.binary = binary
        self.stack_bytes = stack_bytes  # RLIMIT_STACK for the processes (None: inherited)
        self.db = db
        self.workdir = workdir
        self.extra_args = extra_args
        self.servers = []
        self.pids = set()  # killed on close: the servers', and any a test adds

    def start(self, count):
        for _ in range(count):
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
        server_pids = {s.pid for s in self.servers}
        for pid in self.pids - server_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for s in self.servers:
            if s.proc:
                s.proc.kill()
        self.pids.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
