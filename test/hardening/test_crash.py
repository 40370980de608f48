#!/usr/bin/env python3
"""Crash safety: gvx-fcgi processes are killed with SIGKILL in the middle of create, delete and
verify load, and restarted; afterwards the database must be intact and agree with every answer
a client received.

Load: worker threads send creates, deletes (through the API, REMOTE_USER trusted) and
verifications (FastCGI AUTHORIZER requests) to three gvx-fcgi processes on one database file,
while a killer thread SIGKILLs a random process every few hundred milliseconds and restarts it.
A request whose connection is cut by the kill has an unknown outcome: its transaction may or
may not have committed before the process died.

Afterwards (servers stopped, then read with Python's sqlite3, no gvx code):
  - PRAGMA integrity_check is ok;
  - every create answered 200 is present, with its owner and the key hash of the token the
    client got; every create answered with an error is absent; no row comes from nowhere;
  - every delete answered 200 is gone;
  - per token, request_count = (verifications answered 200) + k, where 0 <= k <= the
    verifications of that token whose answer was lost to a kill: the only allowed window is a
    verification that committed (count, last_request and activity row in one transaction)
    whose response was never delivered. And request_count always equals the token's 'OK'
    activity rows: counter and log are written atomically, so no kill can separate them;
  - a restarted server still verifies every surviving token and refuses every deleted one;
  - no server stderr holds a token or a sanitizer report.
"""
import os
import random
import signal
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gvxtest import fcgi as fc  # noqa: E402
from gvxtest.checks import Checks, Threads, common_args, main_guard  # noqa: E402
from gvxtest.credentials import key_hash, leaked_secrets  # noqa: E402
from gvxtest.fleet import Fleet  # noqa: E402
from gvxtest.processes import fresh_dir  # noqa: E402

USERS = ["alice", "bob", "carol"]


class Ledger:
    """Everything the clients were told, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}  # id -> (key, user, name): create answered 200
        self.create_failed = set()  # names whose create was answered 4xx/5xx
        self.create_unknown = set()  # names whose create lost its answer
        self.pool = []  # ids that may be deleted (not yet handed to a deleter)
        self.deleted = set()  # ids whose delete was answered 200
        self.delete_unknown = set()
        self.verify_ok = {}  # id -> verifications answered 200
        self.verify_unknown = {}  # id -> verifications whose answer was lost
        self.statuses = {}
        self.unexpected = []  # (operation, status, body)
        self.ops = 0

    def count(self, what, status):
        key = f"{what}:{status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


def live_servers(fleet):
    return [s for s in fleet.servers if s.alive()]


def send(fleet, fn):
    """fn(address) on a random live server; a refused connection (server restarting) did
    nothing, so it is retried elsewhere. Returns the response, or None if the answer was
    lost (the request may or may not have run)."""
    for _ in range(50):
        servers = live_servers(fleet)
        if not servers:
            time.sleep(0.01)
            continue
        try:
            return fn(random.choice(servers).address)
        except fc.ConnectError:
            time.sleep(0.005)
        except fc.FcgiError:
            return None
    raise RuntimeError("no gvx-fcgi accepted a connection for too long")


def worker(fleet, ledger, stop, wid):
    rng = random.Random(wid)
    n = 0
    while not stop.is_set():
        n += 1
        op = rng.random()
        if op < 0.25:  # create
            user = rng.choice(USERS)
            name = f"crash-{wid}-{n}"
            r = send(fleet, lambda a: fc.api(a, "POST", "create", user=user, body={"name": name}))
            with ledger.lock:
                ledger.ops += 1
                if r is None:
                    ledger.create_unknown.add(name)
                    continue
                ledger.count("create", r.status)
                if r.status == 200:
                    j = r.json()
                    ledger.created[j["id"]] = (j["key"], user, name)
                    ledger.pool.append(j["id"])
                else:
                    ledger.create_failed.add(name)
                    # 503: busy; 400 TOO_MANY_TOKENS: the user reached max_tokens_per_user
                    # (creates outpace deletes here), a refusal that must make nothing.
                    cap = r.status == 400 and b"TOO_MANY_TOKENS" in r.body
                    if r.status != 503 and not cap:
                        ledger.unexpected.append(("create", r.status, r.body))
        elif op < 0.40:  # delete
            with ledger.lock:
                if len(ledger.pool) < 5:
                    continue
                tid = ledger.pool.pop(rng.randrange(len(ledger.pool)))
                user = ledger.created[tid][1]
            r = send(fleet, lambda a: fc.api(a, "POST", "delete", user=user, body={"keyId": tid}))
            with ledger.lock:
                ledger.ops += 1
                if r is None:
                    ledger.delete_unknown.add(tid)
                    continue
                ledger.count("delete", r.status)
                if r.status == 200:
                    ledger.deleted.add(tid)
                else:
                    ledger.pool.append(tid)  # still there (503), or a bug (checked below)
                    if r.status != 503:
                        ledger.unexpected.append(("delete", r.status, r.body))
        else:  # verify a token nobody is deleting
            with ledger.lock:
                if not ledger.pool:
                    continue
                tid = rng.choice(ledger.pool)
                key = ledger.created[tid][0]
            r = send(fleet, lambda a: fc.authorize(a, key))
            with ledger.lock:
                ledger.ops += 1
                if r is None:
                    ledger.verify_unknown[tid] = ledger.verify_unknown.get(tid, 0) + 1
                    continue
                ledger.count("verify", r.status)
                if r.status == 200:
                    ledger.verify_ok[tid] = ledger.verify_ok.get(tid, 0) + 1
                elif r.status == 401 and tid not in ledger.pool:
                    pass  # a delete of it was sent meanwhile
                elif r.status != 503:
                    ledger.unexpected.append(("verify", r.status, r.body))


def killer(fleet, stop, kills, seed):
    rng = random.Random(seed)
    while not stop.wait(rng.uniform(0.15, 0.45)):
        s = rng.choice(fleet.servers)
        if s.alive():
            s.kill9()
            kills.append(time.monotonic())
            s.start()


def run():
    ap = common_args(__doc__)
    args = ap.parse_args()
    seconds = args.seconds or 12.0
    work = fresh_dir(args.work)
    db = os.path.join(work, "crash.db")
    checks = Checks("crash")
    ledger = Ledger()
    kills = []
    all_keys = []
    with Fleet(args.fcgi, db, work, ["--trust-remote-user"]) as fleet:
        fleet.start(3)
        stop = threading.Event()
        threads = Threads()
        for i in range(6):
            threads.start(worker, fleet, ledger, stop, i)
        threads.start(killer, fleet, stop, kills, 7)
        time.sleep(seconds)
        stop.set()
        checks.check(threads.join(), "load threads finished without an error")
        stopped = fleet.stop_all()
        checks.check(all(rc == 0 for _, rc in stopped),
                     f"every server exits 0 on SIGTERM after the load: {stopped}")

        all_keys = [k for k, _, _ in ledger.created.values()]
        print(f"load: {ledger.ops} operations in {seconds:.0f} s, {len(kills)} SIGKILLs; "
              f"answers {dict(sorted(ledger.statuses.items()))}; lost answers: "
              f"{len(ledger.create_unknown)} creates, {len(ledger.delete_unknown)} deletes, "
              f"{sum(ledger.verify_unknown.values())} verifications", flush=True)
        checks.check(len(kills) >= 5, f"enough kills ({len(kills)})")
        checks.check(not ledger.unexpected,
                     f"only 200/401/503 answers (and the token cap): {ledger.unexpected[:5]}")

        conn = sqlite3.connect(db)
        checks.check(conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)],
                     "PRAGMA integrity_check is ok")
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, key, user_id, name, coalesce(request_count, 0) FROM apikey")}
        ok_activity = dict(conn.execute(
            "SELECT key_id, count(*) FROM gvx_activity WHERE outcome = 'OK' GROUP BY key_id"))
        conn.close()

        missing = [tid for tid in ledger.created
                   if tid not in ledger.deleted and tid not in ledger.delete_unknown
                   and tid not in rows]
        checks.check(not missing, f"every create answered 200 is present ({len(missing)} lost)")
        wrong = [tid for tid, (key, user, _) in ledger.created.items() if tid in rows
                 and (rows[tid][0] != key_hash(key) or rows[tid][1] != user)]
        checks.check(not wrong, f"stored key hash and owner match the create answers: {wrong[:3]}")
        resurrected = [tid for tid in ledger.deleted if tid in rows]
        checks.check(not resurrected, f"every delete answered 200 is gone: {resurrected[:3]}")
        names = {v[2]: tid for tid, v in rows.items()}
        failed_present = [n for n in ledger.create_failed if n in names]
        checks.check(not failed_present, f"creates answered with an error are absent: "
                                         f"{failed_present[:3]}")
        known = {v[2] for v in ledger.created.values()} | ledger.create_unknown
        strays = [n for n in names if n not in known]
        checks.check(not strays, f"no row comes from nowhere: {strays[:3]}")
        unknown_present = sum(1 for n in ledger.create_unknown if n in names)
        unknown_deleted = sum(1 for tid in ledger.delete_unknown if tid not in rows)

        window_total = 0
        bad_counts = []
        for tid, (_, _, _, count) in rows.items():
            answered = ledger.verify_ok.get(tid, 0)
            lost = ledger.verify_unknown.get(tid, 0)
            if not answered <= count <= answered + lost:
                bad_counts.append((tid, count, answered, lost))
            window_total += max(0, count - answered)
            if count != ok_activity.get(tid, 0):
                bad_counts.append((tid, "activity", count, ok_activity.get(tid, 0)))
        checks.check(not bad_counts, f"request_count = verifications answered 200 + committed "
                                     f"ones whose answer was lost, = OK activity rows: "
                                     f"{bad_counts[:5]}")
        verified = sum(ledger.verify_ok.get(tid, 0) for tid in rows)
        lost_here = sum(ledger.verify_unknown.get(tid, 0) for tid in rows)
        print(f"database: {len(rows)} tokens; {len(ledger.created)} creates answered 200 all "
              f"present except deleted; {unknown_present}/{len(ledger.create_unknown)} creates "
              f"with lost answers committed; {unknown_deleted}/{len(ledger.delete_unknown)} "
              f"deletes with lost answers committed; request_count total "
              f"{sum(r[3] for r in rows.values())} = {verified} answered 200 + {window_total} "
              f"committed with the answer lost (of {lost_here} lost) over surviving tokens",
              flush=True)

        # The service after all that: a fresh server verifies survivors, refuses the deleted.
        server = fleet.servers[0]
        server.start()
        survivors = [tid for tid in ledger.created if tid in rows][:40]
        gone = list(ledger.deleted)[:40]
        bad = [tid for tid in survivors
               if fc.authorize(server.address, ledger.created[tid][0]).status != 200]
        bad += [tid for tid in gone
                if fc.authorize(server.address, ledger.created[tid][0]).status != 401]
        checks.check(not bad, f"after the crashes, survivors verify and deleted tokens do not: "
                              f"{bad[:3]}")
        checks.check(server.stop() == 0, "the last server exits 0 on SIGTERM")

        for s in fleet.servers:
            leaked = leaked_secrets(s.stderr(), all_keys)
            checks.check(not leaked, f"{s.name} stderr holds no token ({len(leaked)} found)")
        reports = fleet.sanitizer_reports()
        checks.check(not reports, f"no sanitizer report in any server's stderr: {reports}")
    return checks.finish()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest timeout: still clean up
    main_guard(run)
