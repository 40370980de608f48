#!/usr/bin/env python3
"""Push protection through a web server's shipped configuration: git push over HTTP to
scripts/<server>/git-push-with-token.conf (gvx-fcgi authorizes the push, git-http-backend
receives it and runs the repository's hooks/pre-receive, which runs `gvx pre-receive`).

- a clean push lands with the hook installed;
- a push adding another user's live token is refused, the pusher sees which file and the
  token's start (relayed as "remote: gvx: ..."), never the token, and the branch stays;
- with --revoke the token is disabled and its owner sees LEAKED, from the client's address,
  in GET /api/auth/api-key/activity (answered by gvx-fcgi);
- the token appears in no server or gvx-fcgi log.

    python3 test_push_server.py --server lighttpd|apache|nginx --gvx build/cli/gvx

Exit code 77 (CTest's skip) when the server, git or fcgiwrap (nginx) is not installed.
"""

import argparse
import os
import pathlib
import sys
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "servers"))
import harness  # noqa: E402
import pushlib  # noqa: E402

FCGIWRAP = harness.FCGIWRAP
SERVER = "lighttpd"
GVX = None
REPO = "project.git"


class PushThroughServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ws = cls.ws = pushlib.Workspace(GVX, f"push-{SERVER}")
        cls.addClassCleanup(ws.close)
        # The hook runs as the web server's worker user (www-data under Apache as root): it
        # needs the database, and the directory SQLite keeps its -wal and -shm files in.
        data = ws.dir / "data"
        data.mkdir()
        ws.db = data / "gvx.db"
        for label, user in (("alice", "alice"), ("bob", "bob"), ("carol", "carol")):
            ws.create_token(label, user=user)
        repos = ws.dir / "repos"
        repos.mkdir()
        ws.bare_repo(f"repos/{REPO}")
        cls.bare = repos / REPO
        cls.helpers = []
        if os.geteuid() == 0 and SERVER == "apache":
            harness.chown_to_worker(repos, data)
        extra = {}
        if SERVER == "nginx":
            fw, extra["GIT_CGI_ADDR"] = harness.start_fcgiwrap(cls.ws.dir)
            cls.helpers.append(fw)
        cls.srv = harness.server_module(SERVER).start(
            "git-push-with-token", fcgi={"AUTH": ["--db", ws.db]}, REPOS=repos, **extra)
        cls.addClassCleanup(cls.stop)
        procs, cls.api_addr = harness.start_gvx_fcgi("--db", ws.db, "--trust-remote-user",
                                                     "--trusted-peer", "127.0.0.1",
                                                     log_dir=cls.srv.state_dir, name="gvx-fcgi-api")
        cls.helpers += procs

    @classmethod
    def stop(cls):
        cls.srv.stop()
        for p in cls.helpers:
            p.stop()

    def url(self, user, token):
        return f"http://{user}:{token}@{harness.HOST}:{self.srv.port}/git/{REPO}"

    def main_ref(self):
        return self.ws.git("-c", "safe.directory=*", "--git-dir", self.bare, "rev-parse",
                           "main").stdout.strip()

    def push_files(self, files):
        clone = self.ws.clone(f"http://{harness.HOST}:{self.srv.port}/git/{REPO}")
        self.ws.commit_files(clone, files)
        r = self.ws.git("-C", clone, "push", self.url("alice", self.ws.tokens["alice"]),
                        "HEAD:main", check=False)
        return clone, r

    def set_hook(self, *options):
        self.ws.set_hook(self.bare, *options)

    def api(self, user, endpoint, query=""):
        params = {"REQUEST_METHOD": "GET", "REMOTE_USER": user, "REMOTE_ADDR": "127.0.0.1",
                  "REQUEST_URI": f"/api/auth/api-key/{endpoint}" + (f"?{query}" if query else "")}
        reply = harness.fcgi_request(self.api_addr, params)
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def assert_quiet_about(self, token, r):
        self.assertNotIn(token, r.stdout + r.stderr)
        harness.assert_not_logged(token, self.srv, self.ws.dir / "repos")
        harness.assert_no_crash_reports(self.srv)

    def test_1_clean_push_lands(self):
        self.set_hook()
        clone, r = self.push_files({"src/app.py": "print('hello')\n"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.main_ref(),
                         self.ws.git("-C", clone, "rev-parse", "HEAD").stdout.strip())

    def test_2_live_token_is_refused(self):
        self.set_hook()
        before = self.main_ref()
        token = self.ws.tokens["bob"]
        _, r = self.push_files({"deploy/secrets.env": f"BOB_TOKEN={token}\n"})
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("remote: gvx: push refused", r.stderr)
        self.assertIn(f"{token[:6]}... in deploy/secrets.env, line 1", r.stderr)
        self.assertIn("pre-receive hook declined", r.stderr)
        self.assertEqual(self.main_ref(), before)
        self.assert_quiet_about(token, r)
        self.assertEqual(self.ws.token_row("bob")[1], 1)  # still enabled without --revoke

    def test_3_revoke_shows_leaked_in_activity(self):
        self.set_hook("--revoke")
        before = self.main_ref()
        token = self.ws.tokens["carol"]
        _, r = self.push_files({"notes/carol.txt": f"carol's token: {token}\n"})
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("have been revoked", r.stderr)
        self.assertEqual(self.main_ref(), before)
        token_id = self.ws.token_row("carol")[0]
        tokens = self.api("carol", "list")
        self.assertEqual([t["enabled"] for t in tokens if t["id"] == token_id], [False])
        activity = self.api("carol", "activity", f"id={token_id}")
        leaked = [a for a in activity if a.get("outcome") == "LEAKED"]
        self.assertEqual(len(leaked), 1, activity)
        self.assertIn("notes/carol.txt", str(leaked[0]))
        self.assertIn("127.0.0.1", str(leaked[0]))
        self.assert_quiet_about(token, r)


def main():
    global SERVER, GVX
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, choices=["lighttpd", "apache", "nginx"])
    parser.add_argument("--gvx", required=True)
    args, rest = parser.parse_known_args()
    SERVER, GVX = args.server, os.path.abspath(args.gvx)
    binary = harness.server_module(SERVER).BINARY
    needed = [binary, pushlib.GIT] + ([FCGIWRAP] if SERVER == "nginx" else [])
    missing = [p for p in needed if not os.access(p, os.X_OK)]
    if missing:
        print(f"skipped: not installed: {', '.join(missing)}", file=sys.stderr)
        return 77
    program = unittest.main(argv=[sys.argv[0], *rest], verbosity=2, exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
