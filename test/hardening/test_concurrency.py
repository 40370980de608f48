#!/usr/bin/env python3
"""Concurrency: three gvx-fcgi processes and the sqlite3 shell (gvx.so loaded) create, revoke
and verify tokens on one database file at the same time.

API threads create and delete their users' tokens through the JSON API (REMOTE_USER trusted)
and verify random tokens, live or revoked, as FastCGI AUTHORIZER requests; a shell thread does
the same through gvx_create / gvx_revoke / gvx_verify. Every answer is logged with the times
(one monotonic clock) its request was sent and its answer received. Then:
  - no lost write: every create answered is present unless its revoke was answered, every
    answered revoke is gone, and nothing else is there;
  - no token verifies after its revoke returned: a verification sent after the revoke's
    answer never succeeds;
  - no stale read: a verification sent after the create's answer and answered before any
    revoke was sent always succeeds;
  - usage is exact: each token's request_count, and its 'OK' activity rows, equal the
    successful verifications of it, from all processes;
  - no 5xx other than the documented 503 (database busy), no shell error other than busy;
  - PRAGMA integrity_check is ok, every process exits cleanly, no token in any stderr, no
    sanitizer report.
"""
import json
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
from gvxtest.credentials import leaked_secrets  # noqa: E402
from gvxtest.fleet import Fleet  # noqa: E402
from gvxtest.processes import fresh_dir  # noqa: E402
from gvxtest.shell import Shell  # noqa: E402

USERS = ["dave", "erin", "frank", "grace"]


class Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.tokens = {}  # id -> {"key", "user", "name", "created", "revoke_sent", "revoked"}
        self.pool = []  # live ids nobody is revoking
        self.verifications = []  # (id, sent, answered, ok, via)
        self.revoked = set()
        self.answers = {}
        self.bad = []  # unexpected answers
        self.busy = 0

    def count(self, what):
        self.answers[what] = self.answers.get(what, 0) + 1

    def add_token(self, tid, key, user, name, created):
        self.tokens[tid] = {"key": key, "user": user, "name": name, "created": created,
                            "revoke_sent": None, "revoked": None}
        self.pool.append(tid)

    def pick_for_revoke(self, rng, user=None):
        candidates = [i for i, tid in enumerate(self.pool)
                      if user is None or self.tokens[tid]["user"] == user]
        if len(candidates) < 3:
            return None
        return self.pool.pop(rng.choice(candidates))

    def pick_any(self, rng):
        if not self.tokens:
            return None
        return rng.choice(list(self.tokens))


def api_worker(fleet, log, stop, wid):
    rng = random.Random(100 + wid)
    user = USERS[wid % len(USERS)]
    n = 0
    while not stop.is_set():
        n += 1
        server = rng.choice(fleet.servers)
        op = rng.random()
        if op < 0.2:
            name = f"api-{wid}-{n}"
            r = fc.api(server.address, "POST", "create", user=user, body={"name": name})
            now = time.monotonic()
            with log.lock:
                log.count(f"api create {r.status}")
                if r.status == 200:
                    j = r.json()
                    log.add_token(j["id"], j["key"], user, name, now)
                elif r.status == 503:
                    log.busy += 1
                else:
                    log.bad.append(("create", r.status, r.body))
        elif op < 0.3:
            with log.lock:
                tid = log.pick_for_revoke(rng, user)
                if tid is None:
                    continue
                log.tokens[tid]["revoke_sent"] = time.monotonic()
            r = fc.api(server.address, "POST", "delete", user=user, body={"keyId": tid})
            now = time.monotonic()
            with log.lock:
                log.count(f"api delete {r.status}")
                if r.status == 200:
                    log.tokens[tid]["revoked"] = now
                    log.revoked.add(tid)
                else:
                    log.tokens[tid]["revoke_sent"] = None
                    log.pool.append(tid)
                    if r.status == 503:
                        log.busy += 1
                    else:
                        log.bad.append(("delete", r.status, r.body))
        else:
            with log.lock:
                tid = log.pick_any(rng)
                if tid is None:
                    continue
                key = log.tokens[tid]["key"]
            sent = time.monotonic()
            r = fc.authorize(server.address, key)
            now = time.monotonic()
            with log.lock:
                log.count(f"verify {r.status}")
                if r.status in (200, 401):
                    log.verifications.append((tid, sent, now, r.status == 200, "fcgi"))
                elif r.status == 503:
                    log.busy += 1
                else:
                    log.bad.append(("verify", r.status, r.body))


def shell_worker(shell, log, stop, errors):
    rng = random.Random(7)
    n = 0
    while not stop.is_set():
        n += 1
        # A shell in a tight loop of writes takes SQLite's lock far more often than processes
        # woken by the busy handler: pace it like a busy admin or cron job, not a benchmark.
        time.sleep(0.002)
        op = rng.random()
        if op < 0.2:
            name = f"shell-{n}"
            out = shell.run(f"SELECT gvx_create('shelly', '{name}');")
            now = time.monotonic()
            with log.lock:
                if len(out) == 1 and out[0].startswith("{"):
                    j = json.loads(out[0])
                    log.count("shell create ok")
                    log.add_token(j["id"], j["key"], "shelly", name, now)
                else:
                    errors.append(("create", out))
        elif op < 0.35:
            with log.lock:
                tid = log.pick_for_revoke(rng)
                if tid is None:
                    continue
                log.tokens[tid]["revoke_sent"] = time.monotonic()
            out = shell.run(f"SELECT gvx_revoke('{tid}');")
            now = time.monotonic()
            with log.lock:
                log.count(f"shell revoke {out}")
                if out == ["1"]:
                    log.tokens[tid]["revoked"] = now
                    log.revoked.add(tid)
                else:
                    log.tokens[tid]["revoke_sent"] = None
                    log.pool.append(tid)
                    errors.append(("revoke", out))
        else:
            with log.lock:
                tid = log.pick_any(rng)
                if tid is None:
                    continue
                key = log.tokens[tid]["key"]
            sent = time.monotonic()
            out = shell.run(f"SELECT quote(gvx_verify('{key}', '192.0.2.1', 'cron'));")
            now = time.monotonic()
            with log.lock:
                if out in (["NULL"], ["'" + log.tokens[tid]["user"] + "'"]):
                    log.count("shell verify " + ("ok" if out != ["NULL"] else "null"))
                    log.verifications.append((tid, sent, now, out != ["NULL"], "shell"))
                else:
                    errors.append(("verify", out))


def run():
    ap = common_args(__doc__)
    args = ap.parse_args()
    seconds = args.seconds or 10.0
    work = fresh_dir(args.work)
    db = os.path.join(work, "concurrency.db")
    checks = Checks("concurrency")
    log = Log()
    shell_errors = []
    with Fleet(args.fcgi, db, work, ["--trust-remote-user"]) as fleet:
        fleet.start(3)
        shell = Shell(args.sqlite3, db, args.ext)
        fleet.pids.add(shell.pid)
        try:
            stop = threading.Event()
            threads = Threads()
            for i in range(4):
                threads.start(api_worker, fleet, log, stop, i)
            threads.start(shell_worker, shell, log, stop, shell_errors)
            time.sleep(seconds)
            stop.set()
            checks.check(threads.join(), "load threads finished without an error")
        finally:
            shell_rc = shell.close()
            fleet.pids.discard(shell.pid)
        checks.check(shell_rc == 0, f"the sqlite3 shell exits 0 ({shell_rc}; "
                                    f"{getattr(shell, 'trailing_output', '')[:300]})")
        stopped = fleet.stop_all()
        checks.check(all(rc == 0 for _, rc in stopped), f"servers exit 0 on SIGTERM: {stopped}")

        print(f"load: {len(log.tokens)} tokens created, {len(log.revoked)} revoked, "
              f"{len(log.verifications)} verifications in {seconds:.0f} s; answers "
              f"{dict(sorted(log.answers.items()))}", flush=True)
        checks.check(not log.bad, f"no 5xx but 503 and no other unexpected answer: {log.bad[:5]}")
        busy_errors = [e for e in shell_errors if any("locked" in l or "busy" in l for l in e[1])]
        other_errors = [e for e in shell_errors if e not in busy_errors]
        checks.check(not other_errors, f"no shell error but busy: {other_errors[:5]}")
        print(f"busy answers: {log.busy} HTTP 503, {len(busy_errors)} in the shell", flush=True)

        conn = sqlite3.connect(db)
        checks.check(conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)],
                     "PRAGMA integrity_check is ok")
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, user_id, coalesce(request_count, 0) FROM apikey")}
        ok_activity = dict(conn.execute(
            "SELECT key_id, count(*) FROM gvx_activity WHERE outcome = 'OK' GROUP BY key_id"))
        conn.close()

        lost = [tid for tid, t in log.tokens.items() if t["revoked"] is None and tid not in rows]
        checks.check(not lost, f"no lost create: {lost[:3]}")
        back = [tid for tid in log.revoked if tid in rows]
        checks.check(not back, f"no lost revoke: {back[:3]}")
        strays = [tid for tid in rows if tid not in log.tokens]
        checks.check(not strays, f"nothing but what was created: {strays[:3]}")

        after_revoke = [(tid, via) for tid, sent, _, ok, via in log.verifications
                        if ok and log.tokens[tid]["revoked"] is not None
                        and sent > log.tokens[tid]["revoked"]]
        checks.check(not after_revoke,
                     f"no token verifies after its revoke returned: {after_revoke[:5]}")
        stale = []
        for tid, sent, answered, ok, via in log.verifications:
            t = log.tokens[tid]
            revoke_sent = t["revoke_sent"] if t["revoked"] is not None else None
            if sent > t["created"] and (revoke_sent is None or answered < revoke_sent) and not ok:
                stale.append((tid, via))
        checks.check(not stale, f"every verification between create and revoke succeeds: "
                                f"{stale[:5]}")
        successes = {}
        for tid, _, _, ok, _ in log.verifications:
            if ok:
                successes[tid] = successes.get(tid, 0) + 1
        miscounted = [(tid, r[1], successes.get(tid, 0), ok_activity.get(tid, 0))
                      for tid, r in rows.items()
                      if not r[1] == successes.get(tid, 0) == ok_activity.get(tid, 0)]
        checks.check(not miscounted, f"request_count = successful verifications = OK activity "
                                     f"rows for every token: {miscounted[:5]}")
        print(f"database: {len(rows)} tokens; {sum(r[1] for r in rows.values())} counted uses = "
              f"{sum(successes.get(tid, 0) for tid in rows)} successful verifications",
              flush=True)

        keys = [t["key"] for t in log.tokens.values()]
        for s in fleet.servers:
            checks.check(not leaked_secrets(s.stderr(), keys), f"{s.name} stderr holds no token")
        reports = fleet.sanitizer_reports()
        checks.check(not reports, f"no sanitizer report: {reports}")
    return checks.finish()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main_guard(run)
