#!/usr/bin/env python3
"""Git over HTTP with the real git client, git-http-backend and gvx-fcgi as the authorizer,
behind one web server started from the configurations in scripts/<server>/ (issue 4).

    python3 test/servers/test_git.py --server lighttpd|apache|nginx [TEST_NAME_PART...]

Exit code 77 (CTest's skip) when the server, git or fcgiwrap (nginx) is not installed.

For each configuration ("everything with token", "push with token", and Apache's
AuthBasicProvider variant) a server is started on a free port with its own database and bare
repositories, and these flows are run with git (HOME is a fresh directory, no prompts on a
terminal, no system config):

- clone with the token typed at the prompt (GIT_ASKPASS), in the URL (as the password, and as
  the user name), and from a `git credential` store; push of a new commit, checked in the bare
  repository and in its reflog, which records REMOTE_USER: the token's owner;
- a wrong, revoked, expired or disabled token: 401, and git says "Authentication failed";
- another user's name with a valid token: refused where the server takes the typed name
  (Apache's AuthBasicProvider mode), and attributed to the token's owner elsewhere;
- usage counters and gvx_activity see the git traffic with the client's IP and user agent;
- rate limiting on: 429 with Retry-After (401 in Apache's AuthBasicProvider mode);
- the token never appears in the server's or gvx-fcgi's logs, nor in the database.

Paths come from the environment as for harness.py (GVX_FCGI, GVX_EXT, SQLITE3).
"""

import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

GIT = shutil.which("git") or "/usr/bin/git"
FCGIWRAP = harness.FCGIWRAP
SERVER = "lighttpd"  # set from the command line in main()
REPO = "project.git"
ALICE, BOB = "alice", "bob"
WRONG_TOKEN = "gvx_" + "W" * 64


def now_ms():
    return int(time.time() * 1000)


class Site:
    """One web server with its own database, bare repositories and git home."""

    def __init__(self, server, config):
        self.server_name = server
        self.config = config
        self.dir = harness.tmpdir(f"git-{server}-{config}")
        self.db = harness.new_database(self.dir)  # a file, or a PostgreSQL database's URI
        self.repos = self.dir / "repos"
        self.home = self.dir / "home"
        self.work = self.dir / "work"
        for d in (self.repos, self.home, self.work):
            d.mkdir()
        self.tokens = {}
        self.helpers = []  # processes of our own (fcgiwrap), stopped with the server
        self.srv = None
        self.counter = 0

    # --- set-up ----------------------------------------------------------------------------

    def create_token(self, label, user, name=None, expires_at=None):
        self.tokens[label] = harness.create_token(self.db, user, name or label + " token",
                                                  expires_at)
        return self.tokens[label]

    def token_id(self, label):
        with harness.db_connect(self.db) as c:
            return c.execute("SELECT id FROM apikey WHERE start = ? AND name LIKE ?",
                             (self.tokens[label][:6], f"{label} %")).fetchone()[0]

    def make_tokens(self):
        self.create_token("alice", ALICE)
        self.create_token("alice2", ALICE)      # spare one for the credential store
        self.create_token("bob", BOB)
        self.create_token("revoked", ALICE)
        self.create_token("expired", ALICE, expires_at=now_ms() + 3_600_000)
        self.create_token("disabled", ALICE)
        self.create_token("limited", ALICE)
        with harness.db_connect(self.db) as c:
            c.execute("DELETE FROM apikey WHERE id = ?", (self.token_id("revoked"),))
            c.execute("UPDATE apikey SET expires_at = ? WHERE id = ?",
                      (now_ms() - 1000, self.token_id("expired")))
            c.execute("UPDATE apikey SET enabled = 0 WHERE id = ?",
                      (self.token_id("disabled"),))

    def make_repo(self):
        bare = self.repos / REPO
        self.git("init", "-q", "--bare", "-b", "main", str(bare))
        # Bare repositories keep no reflog by default: the reflog records who pushed.
        self.git("--git-dir", str(bare), "config", "core.logAllRefUpdates", "true")
        seed = self.work / "seed"
        self.git("init", "-q", "-b", "main", str(seed))
        (seed / "README").write_text("gvx test repository\n")
        self.git("-C", str(seed), "add", "README")
        self.git("-C", str(seed), "commit", "-q", "-m", "initial commit")
        self.git("-C", str(seed), "push", "-q", str(bare), "main")
        if os.geteuid() == 0 and self.server_name == "apache":
            # git-http-backend runs as Apache's worker user: the repositories must be its own
            # (git refuses to work in a repository of another owner).
            harness.chown_to_worker(self.repos)

    def backends(self):
        """The gvx-fcgi backends the configuration may use (harness.py's fcgi=)."""
        return {"AUTH": ["--db", self.db]}

    def server_vars(self):
        """Further template values of the configuration."""
        return {}

    def start(self):
        self.make_tokens()
        self.make_repo()
        mod = harness.server_module(self.server_name)
        extra = self.server_vars()
        try:
            if self.server_name == "nginx":
                fw, extra["GIT_CGI_ADDR"] = harness.start_fcgiwrap(self.dir)
                self.helpers.append(fw)
            self.srv = mod.start(self.config, fcgi=self.backends(), REPOS=self.repos, **extra)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self.srv is not None:
            self.srv.stop()
        for p in self.helpers:
            p.stop()
        self.helpers = []

    # --- git -------------------------------------------------------------------------------

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "SSH_ASKPASS")) and k != "HOME"}
        env.update({
            "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
            "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
            "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
        })
        env.update(extra)
        return env

    def git(self, *args, env=None, check=True, timeout=60):
        r = subprocess.run([GIT, *map(str, args)], capture_output=True, text=True,
                           env=env or self.env(), timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"git {' '.join(map(str, args))} failed ({r.returncode}):\n"
                                 f"{r.stderr}")
        return r

    def url(self, user=None, password=None):
        """http://[user[:password]@]127.0.0.1:PORT/git/project.git"""
        cred = ""
        if user is not None:
            cred = user + (f":{password}" if password is not None else "") + "@"
        return f"http://{cred}{harness.HOST}:{self.srv.port}/git/{REPO}"

    def fresh_dir(self, tag):
        self.counter += 1
        return self.work / f"{tag}-{self.counter}"

    def bare_git(self, *args):
        return self.git("-c", "safe.directory=*", "--git-dir", str(self.repos / REPO), *args)

    def head(self):
        return self.bare_git("log", "-1", "--format=%s", "main").stdout.strip()

    def last_pusher(self):
        """The committer identity of main's newest reflog entry: git-http-backend makes it
        from REMOTE_USER ("alice <alice@http.127.0.0.1>")."""
        return self.bare_git("log", "-g", "-1", "--format=%gn <%ge>", "main").stdout.strip()

    def activity(self, label):
        with harness.db_connect(self.db) as c:
            return c.execute("SELECT outcome, ip, user_agent, key_start FROM gvx_activity "
                             "WHERE key_id = ? ORDER BY id", (self.token_id(label),)).fetchall()

    def usage(self, label):
        with harness.db_connect(self.db) as c:
            return c.execute("SELECT request_count, last_request FROM apikey WHERE id = ?",
                             (self.token_id(label),)).fetchone()


class GitTestCase(unittest.TestCase):
    CONFIG = None            # scripts/<server>/<CONFIG>.conf
    READS_NEED_TOKEN = True
    SERVER_TAKES_NAME = False  # Apache's AuthBasicProvider mode
    site = None

    @classmethod
    def setUpClass(cls):
        if cls.CONFIG is None:
            raise unittest.SkipTest("base class")
        cls.site = Site(SERVER, cls.CONFIG).start()
        cls.addClassCleanup(cls.site.stop)

    # --- helpers ---------------------------------------------------------------------------

    def clone(self, url, env=None, check=True, tag="clone", args=()):
        dest = self.site.fresh_dir(tag)
        r = self.site.git("clone", *args, url, dest, env=env, check=check)
        return dest, r

    def assert_auth_failed(self, r):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("Authentication failed", r.stderr)

    def commit(self, clone, message, size=0):
        name = f"file-{self.site.counter}-{time.monotonic_ns()}"
        data = os.urandom(size) if size else (message + "\n").encode()
        (clone / name).write_bytes(data)
        self.site.git("-C", clone, "add", name)
        self.site.git("-C", clone, "commit", "-q", "-m", message)

    def push_as(self, user, token, message, size=0):
        """Clone (with the token unless reads are public), commit, push; the push's result."""
        if self.READS_NEED_TOKEN:
            dest, _ = self.clone(self.site.url(user, token))
        else:
            dest, _ = self.clone(self.site.url())
        self.commit(dest, message, size)
        return self.site.git("-C", dest, "push", self.site.url(user, token), "HEAD:main",
                             check=False)

    def get_refs(self, service, authorization=None, user_agent="gvx-test"):
        headers = {"User-Agent": user_agent}
        if authorization:
            headers["Authorization"] = authorization
        return harness.http("GET", self.site.srv.url(
            f"/git/{REPO}/info/refs?service={service}"), headers=headers)

    # --- the flows every configuration supports ---------------------------------------------

    def test_push_with_token_lands_and_names_the_owner(self):
        token = self.site.tokens["alice"]
        r = self.push_as(ALICE, token, "pushed by alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.site.head(), "pushed by alice")
        self.assertTrue(self.site.last_pusher().startswith("alice <alice@"),
                        self.site.last_pusher())

    def test_large_push_lands(self):
        # Above git's 1 MiB http.postBuffer the push is sent with chunked encoding.
        r = self.push_as(ALICE, self.site.tokens["alice"], "large push", size=3 << 20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.site.head(), "large push")

    def test_push_without_credentials_is_refused(self):
        dest, _ = self.clone(self.site.url(ALICE, self.site.tokens["alice"])
                             if self.READS_NEED_TOKEN else self.site.url())
        self.commit(dest, "anonymous push")
        before = self.site.head()
        r = self.site.git("-C", dest, "push", self.site.url(), "HEAD:main", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("could not read Username", r.stderr)  # git was asked for credentials
        self.assertEqual(self.site.head(), before)
        reply = self.get_refs("git-receive-pack")
        self.assertEqual(reply.status, 401)
        self.assertTrue(reply.header("WWW-Authenticate", "").startswith("Basic "), reply.headers)

    def test_bad_tokens_are_refused(self):
        before = self.site.head()
        for label in ("wrong", "revoked", "expired", "disabled"):
            with self.subTest(token=label):
                token = WRONG_TOKEN if label == "wrong" else self.site.tokens[label]
                r = self.push_as(ALICE, token, f"push with a {label} token") \
                    if not self.READS_NEED_TOKEN else \
                    self.clone(self.site.url(ALICE, token), check=False)[1]
                self.assert_auth_failed(r)
                reply = self.get_refs("git-receive-pack", harness.basic_auth(ALICE, token))
                self.assertEqual(reply.status, 401, reply)
                self.assertIn("Basic", reply.header("WWW-Authenticate", ""))
        self.assertEqual(self.site.head(), before)

    def test_token_typed_at_the_prompt(self):
        askpass = self.site.dir / "askpass.sh"
        calls = self.site.dir / "askpass.calls"
        token_file = self.site.dir / "askpass.token"
        token_file.write_text(self.site.tokens["alice"] + "\n")
        askpass.write_text(
            "#!/bin/sh\n"
            f"echo \"$1\" >> '{calls}'\n"
            "case \"$1\" in\n"
            f"  Username*) echo {ALICE} ;;\n"
            f"  Password*) cat '{token_file}' ;;\n"
            "  *) exit 1 ;;\n"
            "esac\n")
        askpass.chmod(0o700)
        env = self.site.env(GIT_ASKPASS=str(askpass))
        if self.READS_NEED_TOKEN:
            dest, r = self.clone(self.site.url(), env=env)
        else:
            dest, r = self.clone(self.site.url())
        self.commit(dest, "pushed after a prompt")
        r = self.site.git("-C", dest, "push", "origin", "HEAD:main", env=env, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        prompts = calls.read_text()
        self.assertIn("Username for 'http://127.0.0.1", prompts)
        self.assertIn("Password for 'http://alice@127.0.0.1", prompts)
        self.assertEqual(self.site.head(), "pushed after a prompt")

    def test_token_from_a_credential_store(self):
        store = self.site.dir / "git-credentials"
        host = f"{harness.HOST}:{self.site.srv.port}"
        store.write_text(f"http://{ALICE}:{self.site.tokens['alice2']}@{host}\n")
        store.chmod(0o600)
        helper = ["-c", f"credential.helper=store --file={store}"]
        dest = self.site.fresh_dir("store")
        r = self.site.git(*helper, "clone", self.site.url(), dest, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.commit(dest, "pushed with stored credentials")
        r = self.site.git(*helper, "-C", dest, "push", "origin", "HEAD:main", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.site.head(), "pushed with stored credentials")
        # git asks the helper, so `git credential fill` finds it: the same path git takes.
        r = subprocess.run([GIT, *helper, "credential", "fill"], capture_output=True,
                           text=True, env=self.site.env(),
                           input=f"protocol=http\nhost={host}\n\n")
        self.assertIn(f"username={ALICE}", r.stdout)
        self.assertGreater(len(self.site.activity("alice2")), 0)

    def test_git_traffic_is_counted_and_logged(self):
        label = "bob"
        count_before = self.site.usage(label)[0]
        rows_before = len(self.site.activity(label))
        t0 = now_ms()
        r = self.push_as(BOB, self.site.tokens[label], "pushed by bob")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.site.last_pusher().startswith("bob <bob@"), self.site.last_pusher())
        rows = self.site.activity(label)[rows_before:]
        self.assertGreater(len(rows), 0)
        for outcome, ip, agent, key_start in rows:
            self.assertEqual(ip, "127.0.0.1")
            self.assertTrue(agent.startswith("git/"), agent)
            self.assertEqual(key_start, self.site.tokens[label][:6])
        ok = sum(1 for row in rows if row[0] == "OK")
        count, last = self.site.usage(label)
        self.assertEqual(count - count_before, ok)
        self.assertGreaterEqual(last, t0)
        # Failures are logged too, for the owner to spot: a revoked token has no row to
        # point at, so its attempts are kept by their first 6 characters.
        self.clone(self.site.url(ALICE, WRONG_TOKEN), check=False)
        with harness.db_connect(self.site.db) as c:
            n = c.execute("SELECT count(*) FROM gvx_activity WHERE key_id IS NULL AND "
                          "key_start = ? AND outcome = 'INVALID_API_KEY' AND user_agent LIKE "
                          "'git/%'", (WRONG_TOKEN[:6],)).fetchone()[0]
        self.assertGreater(n, 0)

    def test_rate_limit(self):
        token = self.site.tokens["limited"]
        auth = harness.basic_auth(ALICE, token)
        with harness.db_connect(self.site.db) as c:
            c.execute("INSERT INTO gvx_config (name, value) VALUES "
                      "('rate_limit_enabled', 1), ('rate_limit_max', 3), "
                      "('rate_limit_time_window', 600000) "
                      "ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        try:
            statuses = [self.get_refs("git-receive-pack", auth).status for _ in range(3)]
            self.assertEqual(statuses, [200, 200, 200])
            reply = self.get_refs("git-receive-pack", auth)
            if self.SERVER_TAKES_NAME:
                # mod_auth_basic answers every refusal from a provider with its own 401.
                self.assertEqual(reply.status, 401, reply)
            else:
                self.assertEqual(reply.status, 429, reply)
                retry = int(reply.header("Retry-After"))
                self.assertTrue(0 < retry <= 600, retry)
            r = self.push_as(ALICE, token, "rate limited push") if not self.READS_NEED_TOKEN \
                else self.clone(self.site.url(ALICE, token), check=False)[1]
            self.assertNotEqual(r.returncode, 0)
            if not self.SERVER_TAKES_NAME:
                self.assertIn("429", r.stderr)
            outcomes = [row[0] for row in self.site.activity("limited")]
            self.assertEqual(outcomes.count("OK"), 3, outcomes)
            self.assertIn("RATE_LIMITED", outcomes)
        finally:
            with harness.db_connect(self.site.db) as c:
                c.execute("DELETE FROM gvx_config WHERE name LIKE 'rate_limit%'")

    def test_busy_database_is_503_not_a_rate_limit(self):
        """A database locked past gvx-fcgi's 5 s busy timeout: 503 to the client, with
        Retry-After (nginx's auth_request used to turn it into 429 "rate limit exceeded")."""
        locked = threading.Event()
        release = threading.Event()

        def hold_write_lock():
            # PostgreSQL: a table lock that every verification's row lock waits behind, past
            # gvx-fcgi's 5 s lock_timeout.
            c = harness.db_connect(self.site.db) if harness.is_postgres(self.site.db) else \
                sqlite3.connect(self.site.db, timeout=10, isolation_level=None)
            try:
                c.execute("BEGIN; LOCK TABLE apikey IN ACCESS EXCLUSIVE MODE"
                          if harness.is_postgres(self.site.db) else "BEGIN EXCLUSIVE")
                locked.set()
                release.wait(60)
                c.execute("ROLLBACK")
            finally:
                c.close()

        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        try:
            self.assertTrue(locked.wait(10))
            started = time.monotonic()
            reply = harness.http("GET", self.site.srv.url(
                f"/git/{REPO}/info/refs?service=git-receive-pack"), timeout=40, headers={
                    "Authorization": harness.basic_auth(ALICE, self.site.tokens["alice"])})
            waited = time.monotonic() - started
        finally:
            release.set()
            holder.join()
        if self.SERVER_TAKES_NAME:
            # mod_auth_basic answers every refusal from a provider with its own 401.
            self.assertEqual(reply.status, 401, reply)
            return
        self.assertEqual(reply.status, 503, (reply, f"after {waited:.1f} s"))
        self.assertNotIn(b"rate limit", reply.body)
        self.assertEqual(reply.header("Retry-After"), "1")

    # Next to last: without its authorizer the server must refuse, never let requests through.
    def test_z_authorizer_down_fails_closed(self):
        backends = self.site.srv.backends  # gvx-fcgi processes the harness started for it
        if not backends:
            self.skipTest("the server spawns gvx-fcgi itself (and restarts it)")
        for b in backends:
            b.stop()
        reply = self.get_refs("git-receive-pack",
                              harness.basic_auth(ALICE, self.site.tokens["alice"]))
        self.assertGreaterEqual(reply.status, 500, reply)
        before = self.site.head()
        r = self.push_as(ALICE, self.site.tokens["alice"], "push without an authorizer") \
            if not self.READS_NEED_TOKEN else \
            self.clone(self.site.url(ALICE, self.site.tokens["alice"]), check=False)[1]
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.site.head(), before)

    # Runs last (unittest orders tests by name): stops the server so that buffered logs are
    # written, then looks for every token in them.
    def test_zz_tokens_never_logged(self):
        self.site.stop()
        logs = self.site.srv.logs()
        self.assertTrue(any("git/" in text for text in logs.values()), list(logs))
        stored = [(f, f.read_bytes()) for f in harness.database_files(self.site.db)]
        for label, token in self.site.tokens.items():
            with self.subTest(token=label):
                harness.assert_not_logged(token, self.site.srv.state_dir, self.site.repos)
                for log in self.site.dir.glob("*.log"):  # fcgiwrap's (git-http-backend's)
                    self.assertNotIn(token, log.read_text(errors="replace"), log)
                for db_file, data in stored:
                    self.assertNotIn(token.encode(), data, db_file)
        harness.assert_not_logged(WRONG_TOKEN, self.site.srv.state_dir)


class EverythingWithToken(GitTestCase):
    CONFIG = "git-everything-with-token"

    def test_clone_without_credentials_is_refused(self):
        _, r = self.clone(self.site.url(), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("could not read Username", r.stderr)
        reply = self.get_refs("git-upload-pack")
        self.assertEqual(reply.status, 401)
        self.assertTrue(reply.header("WWW-Authenticate", "").startswith("Basic "))

    def test_token_in_the_url(self):
        dest, r = self.clone(self.site.url(ALICE, self.site.tokens["alice"]))
        self.assertTrue((dest / "README").exists())
        # GitHub's forms: the token as the user name, alone or with "x-oauth-basic".
        for url in (self.site.url(self.site.tokens["alice"]),
                    self.site.url(self.site.tokens["alice"], "x-oauth-basic")):
            with self.subTest(url=url.split("@")[0][:20]):
                dest, r = self.clone(url, check=False)
                if self.SERVER_TAKES_NAME:
                    # The token names nobody. Without a password in the URL, git then asks
                    # for one (and may not prompt here).
                    self.assertNotEqual(r.returncode, 0)
                    self.assertRegex(r.stderr, "Authentication failed|could not read Password")
                else:
                    self.assertEqual(r.returncode, 0, r.stderr)

    def test_another_users_name(self):
        token = self.site.tokens["alice"]
        if self.SERVER_TAKES_NAME:
            # Apache would make the typed name the user: gvx-fcgi refuses it.
            _, r = self.clone(self.site.url(BOB, token), check=False)
            self.assert_auth_failed(r)
            reply = self.get_refs("git-receive-pack", harness.basic_auth(BOB, token))
            self.assertEqual(reply.status, 401)
            self.assertIn("USER_MISMATCH", [row[0] for row in self.site.activity("alice")])
        else:
            r = self.push_as(BOB, token, "alice's token, bob's name")
            # The server takes the user from gvx-fcgi: the token's owner, whatever was typed.
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(self.site.last_pusher().startswith("alice <alice@"),
                            self.site.last_pusher())


class PushWithToken(GitTestCase):
    CONFIG = "git-push-with-token"
    READS_NEED_TOKEN = False

    def test_anonymous_clone_and_fetch_need_no_token(self):
        with harness.db_connect(self.site.db) as c:
            rows_before = c.execute("SELECT count(*) FROM gvx_activity").fetchone()[0]
        dest, _ = self.clone(self.site.url())
        self.assertTrue((dest / "README").exists())
        self.site.git("-C", dest, "fetch", "-q", "origin")
        with harness.db_connect(self.site.db) as c:
            rows_after = c.execute("SELECT count(*) FROM gvx_activity").fetchone()[0]
        self.assertEqual(rows_after, rows_before)  # reads never reach the authorizer
        self.assertEqual(self.get_refs("git-upload-pack").status, 200)

    def test_token_in_the_url(self):
        token = self.site.tokens["alice"]
        for label, url in (("password", self.site.url(ALICE, token)),
                           ("user name", self.site.url(token))):
            with self.subTest(form=label):
                dest, _ = self.clone(self.site.url())
                self.commit(dest, f"token as the {label}")
                r = self.site.git("-C", dest, "push", url, "HEAD:main", check=False)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(self.site.head(), f"token as the {label}")


class BasicProvider(EverythingWithToken):
    """Apache only: gvx-fcgi as an AuthBasicProvider, where Apache keeps the typed name."""
    CONFIG = "git-basic-provider"
    SERVER_TAKES_NAME = True

    @classmethod
    def setUpClass(cls):
        cls.site = Site(SERVER, cls.CONFIG)
        # better-auth's user table, with the username plugin's column (before gvx-fcgi starts:
        # it looks for the table once).
        with harness.db_connect(cls.site.db) as c:
            c.execute('CREATE TABLE "user" (id TEXT PRIMARY KEY, name TEXT, username TEXT)')
            c.execute('INSERT INTO "user" VALUES (?, ?, ?)', ("usr_7Qx", "Carol", "carol"))
            # Where the user table exists, only its users have tokens that verify.
            for user in (ALICE, BOB):
                c.execute('INSERT INTO "user" VALUES (?, ?, NULL)', (user, user.title()))
        cls.site.create_token("carol", "usr_7Qx")
        cls.site.start()
        cls.addClassCleanup(cls.site.stop)

    def test_better_auth_username_names_the_owner(self):
        # Where better-auth's user table has a username, the typed name may be that.
        token = self.site.tokens["carol"]
        r = self.push_as("carol", token, "pushed by carol")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.site.last_pusher().startswith("carol <carol@"),
                        self.site.last_pusher())
        _, r = self.clone(self.site.url("dave", token), check=False)
        self.assert_auth_failed(r)


CASES = {
    "lighttpd": [EverythingWithToken, PushWithToken],
    "apache": [EverythingWithToken, PushWithToken, BasicProvider],
    "nginx": [EverythingWithToken, PushWithToken],
}


def main():
    global SERVER
    args = sys.argv[1:]
    if args and args[0] == "--server":
        args.pop(0)
    if not args or args[0] not in CASES:
        print(f"usage: {sys.argv[0]} --server {'|'.join(CASES)} [TEST_NAME_PART...]",
              file=sys.stderr)
        return 2
    SERVER = args.pop(0)
    binary = harness.server_module(SERVER).BINARY
    needed = [binary, GIT] + ([FCGIWRAP] if SERVER == "nginx" else [])
    missing = [p for p in needed if not os.access(p, os.X_OK)]
    if missing:
        print(f"skipped: not installed: {', '.join(missing)}", file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in CASES[SERVER])
    if args:  # test names: run only those
        suite = unittest.TestSuite(
            t for s in suite for t in s if any(a in t.id() for a in args))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
