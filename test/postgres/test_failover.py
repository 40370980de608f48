#!/usr/bin/env python3
"""Failover: gvx-fcgi on a PostgreSQL primary with a synchronous streaming standby; the
primary is killed (SIGKILL of the postmaster and every backend, as when its machine dies)
during a stream of creates, revokes and verifications, and the standby is promoted.

    test_failover.py [--seconds-before N] [--seconds-after N]

Two gvx-fcgi processes use one multi-host URI (both servers, target_session_attrs=read-write)
and are never restarted. Checked afterwards, on the new primary:
  - gvx-fcgi answered again within seconds of the promotion, and meanwhile answered only
    503 (or what the request deserved): never a 500, never a crash;
  - every create it acknowledged (200) is there, unless its revoke was acknowledged;
  - every revoke it acknowledged is there too: the token is gone;
  - no verification sent after a revoke's acknowledgement succeeded, before or after the
    failover, and none does now;
  - each token's request_count is at least the verifications acknowledged with 200;
  - the same gvx-fcgi processes are still running, and no token is in their logs.
Exit status 77 (skipped) when PostgreSQL 15 is not installed.
"""
import argparse
import json
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import harness  # noqa: E402
import pgcluster  # noqa: E402

API = "/api/auth/api-key"
USERS = ["ann", "ben", "cid", "dot"]


def call_api(addr, method, endpoint, user, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": API + endpoint, "REMOTE_USER": user}
    if body is not None:
        params.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))})
    return harness.fcgi_request(addr, params, stdin=data, timeout=30)


def authorize(addr, token):
    return harness.fcgi_request(addr, {
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/git/repo.git/info/refs",
        "HTTP_AUTHORIZATION": harness.basic_auth("git", token), "REMOTE_ADDR": "192.0.2.1",
        "HTTP_USER_AGENT": "git/2.39"}, role="AUTHORIZER", timeout=30)


class Ledger:
    """What gvx-fcgi acknowledged, with the monotonic times of sending and answering."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}        # id -> {"key", "user", "acked"}
        self.revoked = {}        # id -> time the revoke's 200 arrived
        self.revoking = set()
        self.maybe_revoked = set()  # revokes answered 503: they may or may not have happened
        self.ok_verifications = {}  # id -> count of 200s
        self.late_successes = []    # (id, sent) verifications that succeeded after a revoke
        self.statuses = {}
        self.unexpected = []
        self.last_ok = 0.0
        self.first_ok_after = {}

    def note(self, what, status):
        with self.lock:
            self.statuses[(what, status)] = self.statuses.get((what, status), 0) + 1
            if status == 200:
                self.last_ok = time.monotonic()

    def live_ids(self):
        with self.lock:
            return [i for i in self.created if i not in self.revoked and i not in self.revoking]


def worker(addr, ledger, stop, rng):
    while not stop.is_set():
        roll = rng.random()
        live = ledger.live_ids()
        try:
            if roll < 0.25 or not live:
                user = rng.choice(USERS)
                r = call_api(addr, "POST", "/create", user, {"name": f"failover {rng.random():.6f}"})
                ledger.note("create", r.status)
                if r.status == 200:
                    t = r.json()
                    with ledger.lock:
                        ledger.created[t["id"]] = {"key": t["key"], "user": user,
                                                   "acked": time.monotonic()}
                elif r.status not in (503,):
                    ledger.unexpected.append(("create", r.status, r.body[:200]))
            elif roll < 0.35:
                tid = rng.choice(live)
                with ledger.lock:
                    if tid in ledger.revoking:
                        continue
                    ledger.revoking.add(tid)
                    user = ledger.created[tid]["user"]
                r = call_api(addr, "POST", "/delete", user, {"keyId": tid})
                ledger.note("revoke", r.status)
                with ledger.lock:
                    if r.status == 200:
                        ledger.revoked[tid] = time.monotonic()
                    else:
                        ledger.maybe_revoked.add(tid)
                    ledger.revoking.discard(tid)
                if r.status not in (200, 503, 404):
                    ledger.unexpected.append(("revoke", r.status, r.body[:200]))
            else:
                with ledger.lock:
                    ids = list(ledger.created)
                tid = rng.choice(ids)
                sent = time.monotonic()
                r = authorize(addr, ledger.created[tid]["key"])
                ledger.note("verify", r.status)
                with ledger.lock:
                    if r.status == 200:
                        ledger.ok_verifications[tid] = ledger.ok_verifications.get(tid, 0) + 1
                        revoked_at = ledger.revoked.get(tid)
                        if revoked_at is not None and sent > revoked_at:
                            ledger.late_successes.append((tid, sent))
                if r.status not in (200, 401, 503):
                    ledger.unexpected.append(("verify", r.status, r.body[:200]))
        except (OSError, ValueError) as e:  # a reset connection to gvx-fcgi would be a failure
            ledger.unexpected.append(("exception", repr(e), b""))


def run(args):
    why = pgcluster.available()
    if why:
        print(f"skipped: {why}")
        return 77
    work = harness.tmpdir("pg-failover")
    logs = work / "logs"
    logs.mkdir()
    primary, standby = pgcluster.replicated_pair(work / "pg")
    uri = (f"postgresql://{pgcluster.ROLE}@{pgcluster.HOST}:{primary.port},"
           f"{pgcluster.HOST}:{standby.port}/gvx?target_session_attrs=read-write"
           "&connect_timeout=2")
    procs = []
    addrs = []
    for name in ("gvx-fcgi-a", "gvx-fcgi-b"):
        ps, addr = harness.start_gvx_fcgi("--db", uri, "--trust-remote-user", "--trusted-peer",
                                          "127.0.0.1", log_dir=logs,
                                          name=name)
        procs += ps
        addrs.append(addr)
    pids = [p.pid for p in procs]

    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(addrs[i % 2], ledger, stop,
                                                     random.Random(i)), daemon=True)
               for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(args.seconds_before)
    before = dict(ledger.statuses)
    primary.crash()
    killed_at = time.monotonic()
    time.sleep(0.5)
    standby.promote()
    promoted_at = time.monotonic()
    deadline = promoted_at + 30
    while ledger.last_ok < promoted_at and time.monotonic() < deadline:
        time.sleep(0.05)
    recovered_after = ledger.last_ok - promoted_at
    time.sleep(args.seconds_after)
    stop.set()
    for t in threads:
        t.join(60)

    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    check(ledger.last_ok > promoted_at, "no request succeeded after the promotion")
    check(0 <= recovered_after < 10, f"first success {recovered_after:.2f}s after promotion")
    check(not ledger.unexpected, f"unexpected answers: {ledger.unexpected[:5]}")
    check(not ledger.late_successes, f"revoked tokens verified: {ledger.late_successes[:5]}")
    for p in procs:
        check(p.alive(), f"{p.name} is not running:\n{p.log_tail()}")
    check([p.pid for p in procs] == pids, "gvx-fcgi was restarted")

    with standby.connect() as c:
        rows = {r[0]: r[1] for r in c.execute("SELECT id, request_count FROM apikey")}
    for tid in ledger.created:
        if tid in ledger.revoked:
            check(tid not in rows, f"acknowledged revoke of {tid} lost")
        elif tid not in ledger.revoking and tid not in ledger.maybe_revoked:
            check(tid in rows, f"acknowledged create of {tid} lost")
    for tid, n in ledger.ok_verifications.items():
        if tid in rows:
            check(rows[tid] >= n, f"{tid}: request_count {rows[tid]} < {n} acknowledged")
    for tid in list(ledger.revoked)[:20]:
        r = authorize(addrs[0], ledger.created[tid]["key"])
        check(r.status == 401, f"revoked {tid} now answers {r.status}")
    for p in procs:
        p.stop()
    for t in list(ledger.created.values()):
        hits = harness.files_containing(t["key"], logs)
        check(not hits, f"a token appears in {hits}")
    harness.assert_no_crash_reports(logs)
    standby.stop()

    acked = {k: v for k, v in sorted(ledger.statuses.items())}
    print(f"before the kill: {before}")
    print(f"all answers: {acked}")
    print(f"creates acknowledged: {len(ledger.created)}, revokes acknowledged: "
          f"{len(ledger.revoked)}, verifications acknowledged: "
          f"{sum(ledger.ok_verifications.values())}")
    print(f"killed -> promoted: {promoted_at - killed_at:.2f}s; promoted -> first success: "
          f"{recovered_after:.2f}s")
    for f in failures:
        print(f"FAIL: {f}")
    print(f"failover: {0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds-before", type=float, default=3.0)
    ap.add_argument("--seconds-after", type=float, default=3.0)
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
