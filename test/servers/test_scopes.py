#!/usr/bin/env python3
"""Least privilege (SPEC §13) behind a real web server: token permissions with the real git
client, git-http-backend and gvx-fcgi; tokens that cannot mint tokens; rotation; the lifetime
cap; /update applying what it accepts. The database is better-auth's own (the real better-auth
1.4.9 peer, test/peers/better_auth.py, makes its tables, users, sessions and some tokens).

    test_scopes.py --server lighttpd|apache|nginx [unittest options]

Exit code 77 (CTest's skip) only when the web server, git or fcgiwrap (nginx) is not installed;
the better-auth peer is never skipped: without Node.js and npm the tests fail.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "peers"))
import better_auth  # noqa: E402
import harness  # noqa: E402

SERVER = os.environ.get("GVX_SERVER", "lighttpd")
GIT = shutil.which("git") or "/usr/bin/git"
FCGIWRAP = harness.FCGIWRAP
BASE = "/api/auth/api-key"
ORIGIN = "https://git.example.test"
READ = {"repo": ["read"]}
PROJECT = {"repo:alice/project": ["read", "write"]}


def now_ms():
    return int(time.time() * 1000)


def sql_text(value):
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


class PeerDatabase:
    """A database made by better-auth: its tables, users alice and bob, their sessions."""

    def __init__(self, work):
        self.peer = better_auth.peer()
        self.db = work / "gvx.db"
        self.peer.init(self.db)
        self.users = {u: self.peer.signup(self.db, u) for u in ("alice", "bob")}
        self.secret_file = work / "session-secret"
        self.secret_file.write_text(self.peer.secret() + "\n")

    def user_id(self, user):
        return self.users[user]["userId"]

    def gvx_create(self, user, name, permissions=None, expires_at=None):
        """A token made with gvx.so's gvx_create: the create response."""
        perms = None if permissions is None else json.dumps(permissions)
        out = harness.gvx_sql(
            self.db, f"SELECT gvx_create({sql_text(self.user_id(user))}, {sql_text(name)}, "
                     f"{expires_at if expires_at else 'NULL'}, NULL, NULL, {sql_text(perms)});")
        return json.loads(out)


# ---------------------------------------------------------------------------------------------
# Git

class GitScopes(unittest.TestCase):
    """Every request needs a token (git-everything-with-token.conf)."""

    config = "git-everything-with-token"

    @classmethod
    def setUpClass(cls):
        cls.work = harness.tmpdir(f"scopes-{SERVER}")
        cls.helpers, cls.srv, cls.secrets = [], None, []
        cls.repos = cls.work / "repos"
        try:
            cls.pdb = PeerDatabase(cls.work)
            cls.db = cls.pdb.db
            cls.home = cls.work / "home"
            cls.home.mkdir()
            cls.counter = 0
            for name in ("alice/project.git", "alice/other.git"):
                cls.make_repo(name)
            cls.tokens = {}
            cls.ids = {}
            for label, perms in (("full", None), ("read", READ), ("project", PROJECT),
                                 ("upper", {"repo:ALICE/PROJECT": ["read", "write"]})):
                t = cls.pdb.gvx_create("alice", f"{label} token", perms)
                cls.tokens[label], cls.ids[label] = t["key"], t["id"]
            # Tokens written by better-auth itself: one from its UI path (permissions NULL), one
            # from its server API with better-auth's {"repo":["read"]}.
            ba = cls.pdb.peer.create(cls.db, "alice", "ba ui token")
            cls.tokens["ba"], cls.ids["ba"] = ba["key"], ba["id"]
            ba_read = cls.pdb.peer.create_server(cls.db, "alice", "ba read token", READ)
            cls.tokens["ba_read"], cls.ids["ba_read"] = ba_read["key"], ba_read["id"]
            cls.secrets += list(cls.tokens.values())
            cls.chown_repos()
            extra = {}
            if SERVER == "nginx":
                fw, extra["GIT_CGI_ADDR"] = harness.start_fcgiwrap(cls.work)
                cls.helpers.append(fw)
            cls.srv = harness.server_module(SERVER).start(
                cls.config, fcgi={"AUTH": ["--db", cls.db]}, REPOS=cls.repos, **extra)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.srv:
                cls.srv.stop()
            for p in cls.helpers:
                p.stop()
            # The clones keep their URL (with the token) in .git/config; nothing else may.
            dirs = [cls.repos, *([cls.srv.state_dir] if cls.srv else [])]
            for s in cls.secrets:
                harness.assert_not_logged(s, *dirs)
            harness.assert_no_crash_reports(*dirs, cls.work)
        finally:
            harness.remove_tmpdir(cls.work)
            if cls.srv and cls.srv.state_dir:
                harness.remove_tmpdir(cls.srv.state_dir)

    # -- git --------------------------------------------------------------------------------

    @classmethod
    def env(cls):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "SSH_ASKPASS")) and k != "HOME"}
        env.update({"HOME": str(cls.home), "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
                    "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
                    "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"})
        return env

    @classmethod
    def git(cls, *args, check=True):
        r = subprocess.run([GIT, *map(str, args)], capture_output=True, text=True,
                           env=cls.env(), timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"git {' '.join(map(str, args))}: {r.stderr}")
        return r

    @classmethod
    def make_repo(cls, name):
        bare = cls.repos / name
        bare.parent.mkdir(parents=True, exist_ok=True)
        cls.git("init", "-q", "--bare", "-b", "main", bare)
        seed = cls.work / ("seed-" + name.replace("/", "-"))
        cls.git("init", "-q", "-b", "main", seed)
        (seed / "README").write_text(f"{name}\n")
        cls.git("-C", seed, "add", "README")
        cls.git("-C", seed, "commit", "-q", "-m", "initial")
        cls.git("-C", seed, "push", "-q", bare, "main")

    @classmethod
    def chown_repos(cls):
        if os.geteuid() == 0 and SERVER == "apache":
            # git-http-backend runs as Apache's worker user, who must own the repositories.
            harness.chown_to_worker(cls.repos)

    def url(self, repo, label=None):
        cred = f"git:{self.tokens[label]}@" if label else ""
        return f"http://{cred}{harness.HOST}:{self.srv.port}/git/{repo}.git"

    def clone(self, repo, label):
        type(self).counter += 1
        dest = self.work / f"clone-{type(self).counter}"
        return self.git("clone", "-q", self.url(repo, label), dest, check=False), dest

    def head(self, repo):
        return self.git("-c", "safe.directory=*", "--git-dir", self.repos / f"{repo}.git",
                        "log", "-1", "--format=%s", "main").stdout.strip()

    def push_as(self, repo, label, message):
        """A new commit pushed to repo with the token of label; the git result."""
        r, dest = self.clone(repo, "full")
        self.assertEqual(r.returncode, 0, r.stderr)
        (dest / "README").write_text(message + "\n")
        self.git("-C", dest, "commit", "-qam", message)
        return self.git("-C", dest, "push", "-q", self.url(repo, label), "HEAD:main", check=False)

    def outcomes(self, label):
        with harness.sqlite(self.db) as c:
            return [r[0] for r in c.execute(
                "SELECT outcome FROM gvx_activity WHERE key_id = ? ORDER BY id",
                (self.ids[label],))]

    def assert_refused_403(self, r):
        self.assertNotEqual(r.returncode, 0, "git succeeded")
        self.assertIn("403", r.stderr)

    def raw_get(self, target, label, method="GET"):
        cred = harness.basic_auth("git", self.tokens[label])
        data = (f"{method} {target} HTTP/1.1\r\nHost: {harness.HOST}\r\nAuthorization: {cred}\r\n"
                f"User-Agent: git/2.39.5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        r = harness.raw_http(harness.HOST, self.srv.port, data.encode())
        self.assertIsNotNone(r, target)
        return r

    # -- tests ------------------------------------------------------------------------------

    def test_read_only_token_clones_and_fetches_but_cannot_push(self):
        r, dest = self.clone("alice/project", "read")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.git("-C", dest, "fetch", "-q", "origin").returncode, 0)
        before = self.head("alice/project")
        r = self.push_as("alice/project", "read", "pushed by a read-only token")
        self.assert_refused_403(r)
        self.assertEqual(self.head("alice/project"), before)
        self.assertIn("INSUFFICIENT_PERMISSIONS", self.outcomes("read"))
        self.assertIn("OK", self.outcomes("read"))

    def test_one_repository_token(self):
        r, _ = self.clone("alice/project", "project")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.push_as("alice/project", "project", "pushed by the project token")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.head("alice/project"), "pushed by the project token")
        r, _ = self.clone("alice/other", "project")
        self.assert_refused_403(r)
        before = self.head("alice/other")
        self.assert_refused_403(self.push_as("alice/other", "project", "not allowed"))
        self.assertEqual(self.head("alice/other"), before)

    def test_full_tokens_keep_full_access(self):
        for label in ("full", "ba"):
            for repo in ("alice/project", "alice/other"):
                r, _ = self.clone(repo, label)
                self.assertEqual(r.returncode, 0, f"{label} {repo}: {r.stderr}")
                msg = f"pushed by {label} to {repo}"
                r = self.push_as(repo, label, msg)
                self.assertEqual(r.returncode, 0, f"{label} {repo}: {r.stderr}")
                self.assertEqual(self.head(repo), msg)

    def test_better_auth_read_token_cannot_push(self):
        # better-auth itself agrees on what it wrote: read yes, write no.
        self.assertTrue(self.pdb.peer.verify(self.db, self.tokens["ba_read"], READ)["valid"])
        self.assertFalse(self.pdb.peer.verify(self.db, self.tokens["ba_read"],
                                              {"repo": ["write"]})["valid"])
        with harness.sqlite(self.db) as c:
            stored = c.execute("SELECT permissions FROM apikey WHERE id = ?",
                               (self.ids["ba_read"],)).fetchone()[0]
        self.assertEqual(stored, '{"repo":["read"]}')
        r, _ = self.clone("alice/project", "ba_read")
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.head("alice/project")
        self.assert_refused_403(self.push_as("alice/project", "ba_read", "better-auth read"))
        self.assertEqual(self.head("alice/project"), before)

    def test_case_matters(self):
        r, _ = self.clone("alice/project", "upper")  # repo:ALICE/PROJECT
        self.assert_refused_403(r)
        self.assertEqual(self.raw_get("/git/ALICE/PROJECT.git/info/refs?service=git-upload-pack",
                                      "project").status, 403)

    def test_hostile_paths_do_not_reach_another_repository(self):
        upload = "info/refs?service=git-upload-pack"
        for target in (f"/git/alice/project.git/../other.git/{upload}",
                       f"/git/alice/project/../other.git/{upload}",
                       f"/git/alice/project.git/%2e%2e/other.git/{upload}",
                       f"/git/alice/project.git/%2E%2E/other.git/{upload}",
                       f"/git//alice//other.git/{upload}",
                       f"/git/alice/./other.git/{upload}",
                       f"/git/alice%2Fother.git/{upload}",
                       f"/git/alice/oth%65r.git/{upload}"):
            r = self.raw_get(target, "project")
            # Apache refuses an encoded '/' itself (404) before asking anyone.
            allowed = (403, 404) if "%2F" in target and SERVER == "apache" else (403,)
            self.assertIn(r.status, allowed, f"{target}: {r}")
        # The full token reaches alice/other by the same paths: the 403 is the scope's.
        for target in (f"/git/alice/project.git/../other.git/{upload}",
                       f"/git//alice//other.git/{upload}", f"/git/alice/oth%65r.git/{upload}"):
            self.assertEqual(self.raw_get(target, "full").status, 200, target)

    def test_pushes_dressed_as_reads_need_write(self):
        before = self.head("alice/project")
        for target, method in (
                ("/git/alice/project.git/info/refs?service=git-upload-pack"
                 "&service=git-receive-pack", "GET"),
                ("/git/alice/project.git/info/refs?service=git-receive-pac%6b", "GET"),
                ("/git/alice/project.git/info/refs?s%65rvice=git-receive-pack", "GET"),
                ("/git/alice/project.git/git-receive-pac%6b", "POST"),
                ("/git/alice/project.git/git-upload-pack/../git-receive-pack", "POST")):
            self.assertEqual(self.raw_get(target, "read", method).status, 403, target)
        self.assertEqual(self.head("alice/project"), before)
        self.assertEqual(self.raw_get("/git/alice/project.git/info/refs?service=git-upload-pack",
                                      "read").status, 200)


class GitScopesPushOnly(GitScopes):
    """Only pushes need a token (git-push-with-token.conf): reads never ask the authorizer."""

    config = "git-push-with-token"

    def test_case_matters(self):
        self.assert_refused_403(self.push_as("alice/project", "upper", "upper case"))

    def test_hostile_paths_do_not_reach_another_repository(self):
        push = "info/refs?service=git-receive-pack"
        for target in (f"/git/alice/project.git/../other.git/{push}",
                       f"/git/alice/project.git/%2e%2e/other.git/{push}",
                       f"/git//alice//other.git/{push}"):
            self.assertEqual(self.raw_get(target, "project").status, 403, target)

    def test_pushes_dressed_as_reads_need_write(self):
        # Where this configuration asks gvx-fcgi at all, the read-only token gets 403; where it
        # does not (a server's own match missed), git-http-backend refuses to push without a
        # user. Either way nothing is pushed.
        before = self.head("alice/project")
        for target, method in (
                ("/git/alice/project.git/info/refs?service=git-receive-pac%6b", "GET"),
                ("/git/alice/project.git/git-receive-pac%6b", "POST")):
            r = self.raw_get(target, "read", method)
            self.assertIn(r.status, (403, 404), f"{target}: {r}")
        self.assertEqual(self.head("alice/project"), before)

    def test_read_only_token_clones_and_fetches_but_cannot_push(self):
        r, _ = self.clone("alice/project", None)  # reads need no token here
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.head("alice/project")
        self.assert_refused_403(self.push_as("alice/project", "read", "read-only push"))
        self.assertEqual(self.head("alice/project"), before)
        self.assertIn("INSUFFICIENT_PERMISSIONS", self.outcomes("read"))

    def test_one_repository_token(self):
        r = self.push_as("alice/project", "project", "pushed by the project token")
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.head("alice/other")
        self.assert_refused_403(self.push_as("alice/other", "project", "not allowed"))
        self.assertEqual(self.head("alice/other"), before)


# ---------------------------------------------------------------------------------------------
# The token API

class ApiScopes(unittest.TestCase):
    """gvx-fcgi authenticates callers itself (api-session.conf): better-auth's real session
    cookies, and tokens as Bearer or x-api-key."""

    @classmethod
    def setUpClass(cls):
        cls.work = harness.tmpdir(f"scopes-api-{SERVER}")
        cls.srv, cls.secrets = None, []
        try:
            cls.pdb = PeerDatabase(cls.work)
            cls.db = cls.pdb.db
            cls.srv = harness.server_module(SERVER).start(
                "api-session", fcgi={"API": ["--db", cls.db, "--session-secret-file",
                                             cls.pdb.secret_file, "--trusted-origin", ORIGIN]})
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.srv:
                cls.srv.stop()
                for s in cls.secrets:
                    harness.assert_not_logged(s, cls.srv)
                harness.assert_no_crash_reports(cls.srv)
        finally:
            harness.remove_tmpdir(cls.work)
            if cls.srv and cls.srv.state_dir:
                harness.remove_tmpdir(cls.srv.state_dir)

    def session(self, user="alice"):
        return {"Cookie": self.pdb.users[user]["cookie"], "Origin": ORIGIN}

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token['key'] if isinstance(token, dict) else token}"}

    def call(self, method, endpoint, headers, body=None, raw=None):
        url = self.srv.url(BASE + endpoint)
        if raw is not None:
            return harness.http(method, url, headers={**headers,
                                                      "Content-Type": "application/json"},
                                body=raw)
        return harness.http(method, url, headers=headers,
                            json_body=body if method == "POST" else None)

    def create(self, body, user="alice"):
        r = self.call("POST", "/create", self.session(user), body)
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.secrets.append(t["key"])
        return t

    def count(self):
        with harness.sqlite(self.db) as c:
            return c.execute("SELECT count(*) FROM apikey").fetchone()[0]

    def assert_error(self, r, status, code=None, mentions=None):
        self.assertEqual(r.status, status, r)
        body = r.json()
        if code:
            self.assertEqual(body["code"], code, body)
        if mentions:
            self.assertIn(mentions, body["message"])

    def verify_other_process(self, token):
        """gvx_verify through the sqlite3 shell: the owner's id, or '' when not valid now."""
        return harness.gvx_sql(self.db, f"SELECT gvx_verify({sql_text(token)});").strip()

    # -- permissions through /create --------------------------------------------------------

    def test_create_with_permissions(self):
        t = self.create({"name": "ci clone", "permissions": READ})
        self.assertEqual(t["permissions"], READ)
        got = self.call("GET", f"/get?id={t['id']}", self.session()).json()
        self.assertEqual(got["permissions"], READ)
        listed = {x["id"]: x for x in self.call("GET", "/list", self.session()).json()}
        self.assertEqual(listed[t["id"]]["permissions"], READ)
        full = self.create({"name": "full"})
        self.assertIsNone(full["permissions"])
        with harness.sqlite(self.db) as c:
            self.assertEqual(c.execute("SELECT permissions FROM apikey WHERE id = ?",
                                       (t["id"],)).fetchone()[0], '{"repo":["read"]}')

    def test_hostile_permissions_are_refused_and_nothing_is_created(self):
        before = self.count()
        cases = [
            ({"issues": ["read"]}, 'unknown resource "issues"'),
            ({"repo": ["read", "admin"]}, 'unknown action "admin"'),
            ({"repo": ["read"] * 17}, "too many actions"),
            ({f"repo:alice/r{i}": ["read"] for i in range(101)}, "too many resources"),
            ({"repo:alice/../bob/x": ["read"]}, "repository path"),
            ({"repo:alice/%2e%2e/x": ["read"]}, "repository path"),
            ({"repo:alice//x": ["read"]}, "repository path"),
            ({"repo:alice/x.git": ["read"]}, ".git"),
            ({"repo:/alice/x": ["read"]}, "repository path"),
            ({"repo": []}, "lists no actions"),
            ({"repo": "read"}, "array of strings"),
            ({"repo": [1]}, "array of strings"),
            ("repo", "permissions"),
            (["repo"], "permissions"),
            (7, "permissions"),
        ]
        for perms, mention in cases:
            r = self.call("POST", "/create", self.session(), {"name": "hostile", "permissions": perms})
            self.assert_error(r, 400, "INVALID_PARAMETER", mention)
        huge = '{"name":"hostile","permissions":{"repo":[' + ",".join(['"read"'] * 9000) + "]}}"
        self.assertEqual(self.call("POST", "/create", self.session(), raw=huge).status, 400)
        self.assertEqual(self.count(), before)

    # -- tokens cannot mint tokens ----------------------------------------------------------

    def test_bearer_cannot_manage_tokens(self):
        t = self.create({"name": "leaked ci token", "expiresIn": 3600})
        other = self.create({"name": "another token"})
        before = self.count()
        for headers in (self.bearer(t), {"x-api-key": t["key"]}):
            for method, endpoint, body in (
                    ("POST", "/create", {"name": "minted"}),
                    ("POST", "/create", {"name": "minted", "expiresAt": None}),
                    ("GET", "/list", None),
                    ("GET", f"/get?id={other['id']}", None),
                    ("GET", f"/activity?id={t['id']}", None),
                    ("POST", "/update", {"keyId": t["id"], "expiresAt": None}),
                    ("POST", "/update", {"keyId": other["id"], "enabled": True}),
                    ("POST", "/delete", {"keyId": other["id"]})):
                r = self.call(method, endpoint, headers, body)
                self.assertIn(r.status, (401, 403), f"{method} {endpoint}: {r}")
                self.assertNotIn(b'"key"', r.body, r)
        self.assertEqual(self.count(), before)
        got = self.call("GET", f"/get?id={t['id']}", self.session()).json()
        self.assertIsNotNone(got["expiresAt"])  # its expiry was not removed
        self.assertEqual(self.verify_other_process(other["key"]), self.pdb.user_id("alice"))

    def test_self(self):
        t = self.create({"name": "who am i", "permissions": PROJECT, "metadata": {"ci": True}})
        for headers in (self.bearer(t), {"x-api-key": t["key"]}):
            r = self.call("GET", "/self", headers)
            self.assertEqual(r.status, 200, r)
            me = r.json()
            self.assertEqual(me["id"], t["id"])
            self.assertEqual(me["permissions"], PROJECT)
            self.assertEqual(me["metadata"], {"ci": True})
            self.assertNotIn("key", me)
            self.assertNotIn(t["key"].encode(), r.body)
        self.assert_error(self.call("GET", "/self", {}), 401, "UNAUTHORIZED")
        self.assert_error(self.call("GET", "/self", self.bearer("gvx_" + "x" * 64)), 401)

    # -- rotation ---------------------------------------------------------------------------

    def test_rotate_as_bearer(self):
        old = self.create({"name": "deploy", "permissions": PROJECT, "metadata": {"env": "prod"}})
        r = self.call("POST", "/rotate", self.bearer(old), {})
        self.assertEqual(r.status, 200, r)
        new = r.json()
        self.secrets.append(new["key"])
        self.assertNotEqual(new["key"], old["key"])
        self.assertNotEqual(new["id"], old["id"])
        self.assertEqual((new["name"], new["permissions"], new["metadata"]),
                         ("deploy", PROJECT, {"env": "prod"}))
        # Grace 0: the old token stops at once; the new one works and says the same.
        self.assert_error(self.call("GET", "/self", self.bearer(old)), 401)
        self.assertEqual(self.verify_other_process(old["key"]), "")
        me = self.call("GET", "/self", self.bearer(new)).json()
        self.assertEqual((me["id"], me["permissions"]), (new["id"], PROJECT))
        # A token rotates only itself.
        victim = self.create({"name": "victim"})
        r = self.call("POST", "/rotate", self.bearer(new), {"keyId": victim["id"]})
        self.assertIn(r.status, (403, 404), r)
        self.assertEqual(self.verify_other_process(victim["key"]), self.pdb.user_id("alice"))

    def test_rotate_with_grace_as_session(self):
        old = self.create({"name": "laptop", "permissions": READ})
        r = self.call("POST", "/rotate", self.session(), {"keyId": old["id"], "graceSeconds": 2})
        self.assertEqual(r.status, 200, r)
        new = r.json()
        self.secrets.append(new["key"])
        self.assertEqual(new["permissions"], READ)
        self.assertEqual(self.verify_other_process(old["key"]), self.pdb.user_id("alice"))
        self.assertEqual(self.verify_other_process(new["key"]), self.pdb.user_id("alice"))
        time.sleep(2.5)
        self.assertEqual(self.verify_other_process(old["key"]), "")
        self.assertEqual(self.verify_other_process(new["key"]), self.pdb.user_id("alice"))
        # Another user's token: 404, as for every endpoint.
        bobs = self.create({"name": "bob's"}, user="bob")
        self.assert_error(self.call("POST", "/rotate", self.session(), {"keyId": bobs["id"]}),
                          404)

    def test_rotate_refuses_hostile_input(self):
        t = self.create({"name": "rotating"})
        before = self.count()
        for body, mention in (({"keyId": t["id"], "graceSeconds": 7 * 86400 + 1}, "graceSeconds"),
                              ({"keyId": t["id"], "graceSeconds": -1}, "graceSeconds"),
                              ({"keyId": t["id"], "graceSeconds": "60"}, "graceSeconds"),
                              ({"keyId": t["id"], "graceSeconds": 1.5}, "graceSeconds"),
                              ({"keyId": t["id"], "expiresIn": -5}, "expiresIn"),
                              ({"keyId": 5}, "keyId"),
                              ({}, "keyId")):
            self.assert_error(self.call("POST", "/rotate", self.session(), body), 400,
                              "INVALID_PARAMETER", mention)
        self.assertEqual(self.call("POST", "/rotate", self.session(), raw="{").status, 400)
        self.assertEqual(self.count(), before)
        self.assertEqual(self.verify_other_process(t["key"]), self.pdb.user_id("alice"))

    # -- lifetime cap and /update -----------------------------------------------------------

    def set_config(self, name, value):
        with harness.sqlite(self.db) as c:
            if value is None:
                c.execute("DELETE FROM gvx_config WHERE name = ?", (name,))
            else:
                c.execute("INSERT OR REPLACE INTO gvx_config (name, value) VALUES (?, ?)",
                          (name, value))

    def test_lifetime_cap_counts_from_creation(self):
        day = 86_400_000
        self.set_config("max_token_lifetime_ms", day)
        try:
            t = self.create({"name": "capped"})
            self.assertEqual(t["expiresAt"], t["createdAt"] + day)
            with harness.sqlite(self.db) as c:  # as if made 12 hours ago
                c.execute("UPDATE apikey SET created_at = created_at - ? WHERE id = ?",
                          (day // 2, t["id"]))
            created = t["createdAt"] - day // 2
            for body in ({"expiresAt": now_ms() + 13 * 3600_000}, {"expiresIn": 13 * 3600},
                         {"expiresAt": None}):
                r = self.call("POST", "/update", self.session(), {"keyId": t["id"], **body})
                self.assert_error(r, 400, "INVALID_PARAMETER")
            r = self.call("POST", "/update", self.session(),
                          {"keyId": t["id"], "expiresAt": created + day})
            self.assertEqual(r.status, 200, r)
            # Rotation: the new token's own creation starts its lifetime, and the cap holds.
            r = self.call("POST", "/rotate", self.session(),
                          {"keyId": t["id"], "expiresIn": 10 * 86400})
            self.assert_error(r, 400, "INVALID_PARAMETER")
            new = self.call("POST", "/rotate", self.session(), {"keyId": t["id"]}).json()
            self.secrets.append(new["key"])
            self.assertEqual(new["expiresAt"], new["createdAt"] + day)
        finally:
            self.set_config("max_token_lifetime_ms", None)

    def test_update_applies_what_it_accepts(self):
        t = self.create({"name": "updatable"})
        r = self.call("POST", "/update", self.session(),
                      {"keyId": t["id"], "expiresIn": 3600, "metadata": {"team": "web"},
                       "permissions": READ})
        self.assertEqual(r.status, 200, r)
        u = r.json()
        self.assertAlmostEqual(u["expiresAt"], now_ms() + 3600_000, delta=60_000)
        self.assertEqual(u["metadata"], {"team": "web"})
        self.assertEqual(u["permissions"], READ)
        again = self.call("GET", f"/get?id={t['id']}", self.session()).json()
        self.assertEqual((again["expiresAt"], again["metadata"], again["permissions"]),
                         (u["expiresAt"], {"team": "web"}, READ))
        # What it cannot change is refused by name, never silently ignored.
        for field, value in (("rateLimitMax", 5), ("remaining", 3), ("prefix", "x_"),
                             ("userId", "someone"), ("refillAmount", 1)):
            r = self.call("POST", "/update", self.session(), {"keyId": t["id"], field: value})
            self.assert_error(r, 400, "INVALID_PARAMETER", field)
        for body in ({"expiresIn": -1}, {"expiresIn": "soon"}, {"metadata": [1]},
                     {"permissions": {"repo": ["own"]}}):
            r = self.call("POST", "/update", self.session(), {"keyId": t["id"], **body})
            self.assert_error(r, 400, "INVALID_PARAMETER")
        final = self.call("GET", f"/get?id={t['id']}", self.session()).json()
        self.assertEqual((final["metadata"], final["permissions"]), ({"team": "web"}, READ))


def main():
    global SERVER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER, choices=["lighttpd", "apache", "nginx"])
    args, rest = parser.parse_known_args()
    SERVER = args.server
    binary = harness.server_module(SERVER).BINARY
    needed = [binary, GIT] + ([FCGIWRAP] if SERVER == "nginx" else [])
    missing = [p for p in needed if not shutil.which(p) and not os.access(p, os.X_OK)]
    if missing:
        print(f"not installed: {' '.join(missing)}: skipped")
        return 77
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{SERVER}: {passed} passed, {failed} failed, {len(result.skipped)} skipped "
          f"in {time.monotonic() - started:.1f}s")
    return 0 if result.wasSuccessful() and not result.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
