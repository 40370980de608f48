"""For tests written as one script of many checks (hardening, gitflare) rather than unittest:

    checks = Checks("crash"); checks.check(cond, "what"); sys.exit(checks.finish())
    threads = Threads(); threads.start(fn, *args); ok = threads.join()
    main_guard(run)                  # exits with run()'s status; an exception is a failure
    ap = common_args(description)    # --fcgi --ext --sqlite3 --fixtures --work --seconds
"""
import argparse
import sys
import threading
import time
import traceback


def common_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--fcgi", required=True, help="the gvx-fcgi binary")
    ap.add_argument("--ext", help="gvx.so")
    ap.add_argument("--sqlite3", help="the sqlite3 shell")
    ap.add_argument("--fixtures", help="test/fixtures")
    ap.add_argument("--work", required=True, help="scratch directory (emptied first)")
    ap.add_argument("--seconds", type=float, default=None, help="load duration")
    return ap


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
