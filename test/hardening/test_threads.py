#!/usr/bin/env python3
"""gvx-fcgi's request threads (--threads) and group commit, against one real process:

  - a client that connects and then stalls (half a FastCGI request, never finished) holds one
    thread, not the process: other clients are answered at once; with --threads 1 the same
    stall does hold the process (the control: the test can fail);
  - many clients verifying at once through one process are counted exactly: request_count and
    the 'OK' activity rows equal the answers of 200, and the commits carried several
    verifications each (the process's stop line says how many);
  - the token API answers between verifications (creates from another client meanwhile);
  - SIGTERM with stalled clients, a request whose body never comes and requests in flight:
    the process exits 0 within seconds (the stalled request is cut after a 3 s grace), and the
    half-sent create made nothing;
  - no token in the log, no sanitizer report.
"""
import os
import re
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gvxtest import fcgi as fc  # noqa: E402
from gvxtest.checks import Checks, Threads, common_args, main_guard  # noqa: E402
from gvxtest.credentials import leaked_secrets  # noqa: E402
from gvxtest.fleet import Fleet  # noqa: E402
from gvxtest.processes import fresh_dir  # noqa: E402

CLIENTS = 12
EACH = 40


def stall(address):
    """A connection that begins a request and sends part of its parameters, then nothing."""
    s = socket.create_connection(address, timeout=30)
    half = fc.record(fc.PARAMS, fc.encode_params({"REQUEST_METHOD": "GET"}))
    s.sendall(fc.record(fc.BEGIN_REQUEST, bytes([0, fc.AUTHORIZER, 0, 0, 0, 0, 0, 0])) + half)
    return s


def slow_body(address):
    """An API request whose parameters are complete and whose body never comes: the request
    is in progress on a thread, waiting for its client."""
    s = socket.create_connection(address, timeout=30)
    params = {"REQUEST_METHOD": "POST", "REQUEST_URI": f"{fc.API_BASE}/create",
              "REMOTE_ADDR": "127.0.0.1", "REMOTE_USER": "carol",
              "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "1000"}
    s.sendall(fc.record(fc.BEGIN_REQUEST, bytes([0, fc.RESPONDER, 0, 0, 0, 0, 0, 0]))
              + fc.stream(fc.PARAMS, fc.encode_params(params)) + fc.record(fc.STDIN, b'{"na'))
    return s


def answered_within(address, token, seconds):
    """The authorizer's status for token, or None if no answer came within seconds."""
    try:
        return fc.authorize(address, token, timeout=seconds).status
    except (socket.timeout, TimeoutError, fc.FcgiError):
        return None


def create(address, user, name):
    r = fc.api(address, "POST", "create", user=user, body={"name": name})
    return r.json()["key"] if r.status == 200 else None


def run():
    args = common_args(__doc__).parse_args()
    work = fresh_dir(args.work)
    checks = Checks("threads")
    keys = []

    # The control: one thread, one stalled client, and nobody else is answered.
    db1 = os.path.join(work, "one.db")
    with Fleet(args.fcgi, db1, os.path.join(work, "one"), ["--trust-remote-user", "--threads", "1"]) as fleet:
        os.makedirs(fleet.workdir, exist_ok=True)
        (server,) = fleet.start(1)
        token = create(server.address, "alice", "laptop")
        keys.append(token)
        checks.check(token is not None, "a token is created through one thread")
        staller = stall(server.address)
        status = answered_within(server.address, token, 2.0)
        checks.check(status is None, f"with --threads 1 a stalled client holds the process (got {status})")
        staller.close()
        checks.check(answered_within(server.address, token, 10.0) == 200,
                     "with --threads 1 the next client is answered once the stall ends")
        checks.check(server.stop() == 0, "the one-thread process stops cleanly")

    db = os.path.join(work, "threads.db")
    with Fleet(args.fcgi, db, os.path.join(work, "many"), ["--trust-remote-user", "--threads", "8"]) as fleet:
        os.makedirs(fleet.workdir, exist_ok=True)
        (server,) = fleet.start(1)
        token = create(server.address, "alice", "laptop")
        keys.append(token)
        checks.check(token is not None, "a token is created")

        # Three stalled clients hold three of the eight threads; the rest answer at once.
        stallers = [stall(server.address) for _ in range(3)]
        started = time.monotonic()
        status = answered_within(server.address, token, 5.0)
        took = time.monotonic() - started
        checks.check(status == 200, f"stalled clients hold threads, not the process (got {status})")
        checks.check(took < 2.0, f"the answer beside the stalls came at once ({took:.2f} s)")

        # Many clients at once: every 200 counted exactly once.
        statuses = []
        lock = threading.Lock()

        def verify(n):
            mine = [fc.authorize(server.address, token, timeout=30).status for _ in range(EACH)]
            with lock:
                statuses.extend(mine)

        def make_tokens(n):
            for i in range(20):
                k = create(server.address, "bob", f"token {i}")
                with lock:
                    keys.append(k)
                    statuses.append("create-ok" if k else "create-failed")

        load = Threads()
        for n in range(CLIENTS):
            load.start(verify, n)
        load.start(make_tokens, "api")
        checks.check(load.join(timeout=120), "every client thread finished")
        ok = statuses.count(200)
        checks.check(ok == CLIENTS * EACH, f"every verification answered 200 ({ok} of {CLIENTS * EACH})")
        checks.check(statuses.count("create-ok") == 20, "every create beside them answered")
        with sqlite3.connect(db) as c:
            count = c.execute("SELECT request_count FROM apikey WHERE user_id = 'alice'").fetchone()[0]
            rows = c.execute("SELECT coalesce(sum(count), 0) FROM gvx_activity a JOIN apikey k "
                             "ON k.id = a.key_id WHERE k.user_id = 'alice' AND outcome = 'OK'"
                             ).fetchone()[0]
            bobs = c.execute("SELECT count(*) FROM apikey WHERE user_id = 'bob'").fetchone()[0]
        # The first check above verified once, before the load.
        checks.check(count == ok + 1, f"request_count {count} is the answers of 200 ({ok + 1})")
        checks.check(rows == ok + 1, f"'OK' activity {rows} is the answers of 200 ({ok + 1})")
        checks.check(bobs == 20, f"bob has his 20 tokens ({bobs})")

        # SIGTERM with the stalls still open, a request whose body never comes, and clients in
        # flight: the stalled request is cut after the grace, nothing else waits for it.
        stallers.append(slow_body(server.address))
        time.sleep(0.2)
        flight = Threads()
        for n in range(4):
            flight.start(lambda n: [answered_within(server.address, token, 10.0) for _ in range(30)], n)
        time.sleep(0.2)
        started = time.monotonic()
        rc = server.stop(timeout=15)
        took = time.monotonic() - started
        checks.check(rc == 0, f"SIGTERM with stalled clients and requests in flight exits 0 ({rc})")
        checks.check(took < 10.0, f"and within seconds ({took:.1f} s)")
        flight.join(timeout=30)
        with sqlite3.connect(db) as c:
            carols = c.execute("SELECT count(*) FROM apikey WHERE user_id = 'carol'").fetchone()[0]
        checks.check(carols == 0, f"the create whose body never came made nothing ({carols})")
        for s in stallers:
            s.close()
        log = server.stderr()
        m = re.search(rb"stopped: (\d+) verifications in (\d+) commits", log)
        checks.check(m is not None, "the stop line says what the commits carried")
        if m:
            verifications, commits = int(m.group(1)), int(m.group(2))
            checks.check(commits < verifications,
                         f"commits carried several verifications ({verifications} in {commits})")
        checks.check(not fleet.sanitizer_reports(), "no sanitizer report")
        logs = server.stderr()

    leaks = leaked_secrets(logs, [k for k in keys if k])
    checks.check(not leaks, f"no token in the log ({leaks})")
    return checks.finish()


if __name__ == "__main__":
    main_guard(run)
