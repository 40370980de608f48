#!/usr/bin/env python3
"""The combined configuration of one web server (scripts/<server>/site.conf): the settings page
and the API for people signed in with an htpasswd login, and Git over HTTP for tokens, on one
server and one database, as a site runs them.

    python3 test/servers/test_site.py --server lighttpd|apache|nginx [TEST_NAME_PART...]

Exit code 77 (CTest's skip) when the server, git or fcgiwrap (nginx) is not installed.

- Every Git flow of test_git.py's "everything with token" suite, run again on site.conf.
- Together: sign in, load the page's files (types, Content-Security-Policy), create a token
  through the API, clone and push with it (the reflog names the owner), see that traffic in
  the token's activity, delete it through the API, and git is refused at once.
- The audit trail (GET /audit) names the signed-in person, how, from where, with which agent.
- /metrics (gvx-fcgi --metrics-path) answers this host only, and counts the git traffic.
- The two kinds of credential stay apart: a person's password opens no repository, a token
  opens neither the page nor the API.
- SPEC §14 on the combined server: no credential in git-http-backend's hook environment; the
  API's body limit does not limit pushes (a 2 MiB push with Content-Length lands; a 2 MiB API
  body is refused); a stalled API body is cut off; nothing else is served (the logs are
  not reachable); no token in any log, also one typed as the page's or the API's user name.

Paths come from the environment as for harness.py (GVX_FCGI, GVX_EXT, SQLITE3).
"""

import http.client
import os
import pathlib
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import test_git  # noqa: E402

SERVER = "lighttpd"  # set from the command line in main()
BASE = "/api/auth/api-key"
PEOPLE = {"alice": "alice-Pw-1", "bob": "bob-Pw-2"}
MIB = 1 << 20


class CombinedSite(test_git.Site):
    """A server from site.conf: test_git's Site, plus people's logins and the API's gvx-fcgi."""

    def __init__(self, server):
        super().__init__(server, "site")
        self.htpasswd = harness.write_htpasswd(self.dir / "htpasswd", PEOPLE)

    def backends(self):
        # Apache and lighttpd run one of each; nginx sends both kinds to the API's socket.
        return {"API": ["--db", self.db, "--trust-remote-user", "--metrics-path", "/metrics"],
                "AUTH": ["--db", self.db, "--metrics-path", "/metrics"]}

    def server_vars(self):
        return {"HTPASSWD": self.htpasswd}


class SiteGit(test_git.EverythingWithToken):
    """test_git's flows (clone, push, credentials, refusals, rate limit, 503, logs)."""

    @classmethod
    def setUpClass(cls):
        cls.site = CombinedSite(SERVER).start()
        cls.addClassCleanup(cls.site.stop)


class SiteTogether(unittest.TestCase):
    """The page, the API and Git on one server, one database."""

    @classmethod
    def setUpClass(cls):
        cls.site = CombinedSite(SERVER).start()
        cls.addClassCleanup(cls.site.stop)
        cls.typed = []  # tokens a client typed where a person's login was expected
        cls.hook_env = cls.site.dir / "hook-env"
        hook = cls.site.repos / test_git.REPO / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\nenv >> '{cls.hook_env}'\ncat >/dev/null\nexit 0\n")
        hook.chmod(0o755)
        cls.hook_env.touch()
        if os.geteuid() == 0 and SERVER == "apache":  # git-http-backend runs as www-data
            harness.chown_to_worker(hook, cls.hook_env)
        elif os.geteuid() == 0:
            cls.hook_env.chmod(0o666)

    # --- helpers ---------------------------------------------------------------------------

    def api(self, method, endpoint, user="alice", password=None, body=None, headers=None):
        h = dict(headers or {})
        if user is not None:
            h["Authorization"] = harness.basic_auth(user, PEOPLE.get(user, "")
                                                    if password is None else password)
        return harness.http(method, self.site.srv.url(f"{BASE}/{endpoint}"), headers=h,
                            json_body=body)

    def page(self, path, user="alice", password=None):
        h = {}
        if user is not None:
            h["Authorization"] = harness.basic_auth(user, PEOPLE[user] if password is None
                                                    else password)
        return harness.http("GET", self.site.srv.url(path), headers=h)

    def clone_with(self, user, token, check=True):
        dest = self.site.fresh_dir("together")
        r = self.site.git("clone", self.site.url(user, token), dest, check=check)
        return dest, r

    # --- the page --------------------------------------------------------------------------

    def test_page_is_served_behind_the_login_with_its_headers(self):
        self.assertEqual(self.page("/settings/tokens/", user=None).status, 401)
        self.assertEqual(self.page("/settings/tokens/", password="wrong").status, 401)
        r = self.page("/settings/tokens")
        self.assertIn(r.status, (301, 302, 308), r)
        self.assertTrue(r.header("Location", "").endswith("/settings/tokens/"), r.headers)
        r = self.page("/settings/tokens/")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type", "").startswith("text/html"), r.headers)
        self.assertIn("Personal access tokens", r.text)
        csp = r.header("Content-Security-Policy", "")
        self.assertIn("default-src 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        web = pathlib.Path(self.site.srv.vars["WEB_DIR"])
        for path, kind in (("tokens.css", "text/css"), ("favicon.svg", "image/svg+xml")):
            r = self.page(f"/settings/tokens/{path}")
            self.assertEqual(r.status, 200, (path, r))
            self.assertTrue(r.header("Content-Type", "").startswith(kind), (path, r.headers))
            self.assertEqual(r.body, (web / path).read_bytes())
        scripts = sorted((web / "js").glob("*.js"))
        self.assertTrue(scripts)
        for script in scripts:
            r = self.page(f"/settings/tokens/js/{script.name}")
            self.assertEqual(r.status, 200, (script.name, r))
            self.assertTrue(r.header("Content-Type", "").startswith("text/javascript"),
                            r.headers)

    # --- page, API and git together --------------------------------------------------------

    def test_token_made_through_the_api_clones_and_pushes_until_deleted(self):
        r = self.api("POST", "create", body={"name": "site laptop"})
        self.assertEqual(r.status, 200, r)
        made = r.json()
        token = made["key"]
        self.site.tokens["site-made"] = token
        self.assertEqual(made["userId"], "alice")
        dest, _ = self.clone_with("alice", token)
        self.assertTrue((dest / "README").exists())
        (dest / "site.txt").write_text("pushed through site.conf\n")
        self.site.git("-C", dest, "add", "site.txt")
        self.site.git("-C", dest, "commit", "-q", "-m", "through the combined site")
        r = self.site.git("-C", dest, "push", self.site.url("alice", token), "HEAD:main",
                          check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.site.head(), "through the combined site")
        self.assertTrue(self.site.last_pusher().startswith("alice <alice@"),
                        self.site.last_pusher())
        # The owner sees the git traffic through the API (and so on the page).
        r = self.api("GET", f"activity?id={made['id']}")
        self.assertEqual(r.status, 200, r)
        entries = r.json()
        self.assertGreaterEqual(len(entries), 2)
        self.assertEqual({e["outcome"] for e in entries}, {"OK"})
        self.assertTrue(all(e["userAgent"].startswith("git/") for e in entries), entries)
        [listed] = [t for t in self.api("GET", "list").json() if t["id"] == made["id"]]
        self.assertGreaterEqual(listed["requestCount"], 2)
        # bob neither sees nor deletes alice's token.
        self.assertEqual(self.api("GET", f"get?id={made['id']}", user="bob").status, 404)
        self.assertEqual(self.api("POST", "delete", user="bob",
                                  body={"keyId": made["id"]}).status, 404)
        r = self.api("POST", "delete", body={"keyId": made["id"]})
        self.assertEqual(r.status, 200, r)
        _, r = self.clone_with("alice", token, check=False)
        self.assertIn("Authentication failed", r.stderr)

    def test_audit_trail_names_the_signed_in_person_and_where_from(self):
        agent = {"User-Agent": "Mozilla/5.0 (site audit)"}
        r = self.api("POST", "create", user="bob", body={"name": "bob audit"}, headers=agent)
        self.assertEqual(r.status, 200, r)
        made = r.json()
        self.site.tokens["bob-audit"] = made["key"]
        r = self.api("POST", "update", user="bob", headers=agent,
                     body={"keyId": made["id"], "enabled": False})
        self.assertEqual(r.status, 200, r)
        r = self.api("POST", "delete", user="bob", body={"keyId": made["id"]}, headers=agent)
        self.assertEqual(r.status, 200, r)
        r = self.api("GET", f"audit?id={made['id']}", user="bob")
        self.assertEqual(r.status, 200, r)
        entries = r.json()
        self.assertEqual([e["action"] for e in entries], ["delete", "disable", "create"])
        for e in entries:
            self.assertEqual((e["actor"], e["via"], e["owner"], e["keyName"]),
                             ("bob", "remote_user", "bob", "bob audit"))
            self.assertEqual(e["ip"], harness.HOST)
            self.assertEqual(e["userAgent"], "Mozilla/5.0 (site audit)")
        self.assertNotIn(made["key"][4:], r.text)
        # Only bob's own trail; a token cannot read it.
        self.assertEqual(self.api("GET", f"audit?id={made['id']}").json(), [])
        r = harness.http("GET", self.site.srv.url(f"{BASE}/audit"),
                         headers={"Authorization": f"Bearer {self.site.tokens['alice']}"})
        self.assertEqual(r.status, 401)

    def metrics(self, source=harness.HOST, headers=None):
        """GET /metrics from a local source address (the server listens on 127.0.0.1)."""
        conn = http.client.HTTPConnection(harness.HOST, self.site.srv.port, timeout=10,
                                          source_address=(source, 0))
        try:
            conn.request("GET", "/metrics", headers=headers or {})
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type", ""), r.read().decode()
        finally:
            conn.close()

    @staticmethod
    def sample(text, name, labels=""):
        m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def test_metrics_answer_this_host_only_and_count_git_traffic(self):
        status, kind, before = self.metrics()
        self.assertEqual(status, 200, before)
        self.assertTrue(kind.startswith("text/plain; version=0.0.4"), kind)
        ok = '{outcome="OK"}'
        bad = '{outcome="INVALID_API_KEY"}'
        refs = f"/git/{test_git.REPO}/info/refs?service=git-upload-pack"
        for auth, want in ((harness.basic_auth("alice", self.site.tokens["alice"]), 200),
                           (harness.basic_auth("alice", self.site.tokens["alice"]), 200),
                           (harness.basic_auth("alice", test_git.WRONG_TOKEN), 401)):
            r = harness.http("GET", self.site.srv.url(refs), headers={"Authorization": auth})
            self.assertEqual(r.status, want, r)
        status, _, after = self.metrics()
        self.assertEqual(status, 200)
        for labels, n in ((ok, 2), (bad, 1)):
            self.assertEqual(self.sample(after, "gvx_verifications_total", labels)
                             - self.sample(before, "gvx_verifications_total", labels), n,
                             labels)
        self.assertGreaterEqual(
            self.sample(after, "gvx_request_duration_seconds_count", '{kind="auth"}'), 3)
        self.assertIsNotNone(self.sample(after, "gvx_database_busy_waits_total"))
        for secret in (self.site.tokens["alice"][4:], "alice"):
            self.assertNotIn(secret, after)
        # From any other address (here 127.0.0.2): 403, with or without credentials.
        for headers in (None, {"Authorization": harness.basic_auth("alice", PEOPLE["alice"])},
                        {"Authorization": harness.basic_auth("alice",
                                                             self.site.tokens["alice"])}):
            status, _, text = self.metrics(source="127.0.0.2", headers=headers)
            self.assertEqual(status, 403, text)
            self.assertNotIn("gvx_verifications_total", text)

    def test_passwords_and_tokens_open_only_their_own_doors(self):
        token = self.site.tokens["alice"]
        # A person's password is not a token: git is refused.
        _, r = self.clone_with("alice", PEOPLE["alice"], check=False)
        self.assertIn("Authentication failed", r.stderr)
        # A token is not a login: the API and the page refuse it, in every Basic form.
        for user, password in (("alice", token), (token, ""), (token, "x-oauth-basic")):
            with self.subTest(form=user[:6] + ":" + password[:6]):
                self.typed.append(token)
                self.assertEqual(self.api("GET", "list", user=user, password=password).status,
                                 401)
                self.assertEqual(self.page("/settings/tokens/", user=user,
                                           password=password).status, 401)
        # A Bearer token does not pass the login either (a token never lists tokens).
        r = harness.http("GET", self.site.srv.url(f"{BASE}/list"),
                         headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(r.status, 401)

    def test_hooks_never_see_credentials(self):
        token = self.site.tokens["alice2"]
        dest, _ = self.clone_with("alice", token)
        (dest / "hook.txt").write_text("hook\n")
        self.site.git("-C", dest, "add", "hook.txt")
        self.site.git("-C", dest, "commit", "-q", "-m", "hook sees no token")
        r = self.site.git("-C", dest, "push", self.site.url(token), "HEAD:main", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        env = self.hook_env.read_text()
        self.assertIn("REMOTE_USER=alice", env)
        self.assertNotIn(token, env)
        leaked = [v.split("=")[0] for v in env.splitlines()
                  if v.startswith(("HTTP_AUTHORIZATION=", "HTTP_X_API_KEY=", "HTTP_COOKIE="))]
        self.assertEqual(leaked, [])

    def test_body_limits_are_per_location(self):
        # The API refuses a 2 MiB body (the server, or gvx-fcgi from its Content-Length) ...
        r = self.api("POST", "create", body={"name": "big", "metadata": {"x": "y" * 2 * MIB}})
        self.assertEqual(r.status, 413, r)
        # ... while a 2 MiB push, sent with Content-Length, lands.
        s = self.site
        url = s.url("alice", s.tokens["alice"])
        dest = s.fresh_dir("big")
        s.git("clone", "-q", url, dest)
        (dest / "big.bin").write_bytes(os.urandom(2 * MIB))
        s.git("-C", dest, "add", "big.bin")
        s.git("-C", dest, "commit", "-q", "-m", "two mebibytes on the site")
        r = s.git("-c", "http.postBuffer=16777216", "-C", dest, "push", url, "HEAD:main",
                  check=False, env=s.env(GIT_TRACE_CURL="1", GIT_TRACE_CURL_NO_DATA="1"))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertRegex(r.stderr, r"Content-Length: 2\d{6}")
        self.assertEqual(s.head(), "two mebibytes on the site")

    def test_a_stalled_api_body_is_cut_off(self):
        # Headers, then 10 of the 1000 announced bytes, then nothing: the server must give up
        # within its 20 s body limit (plus slack), not hold the connection, or gvx-fcgi.
        request = (f"POST {BASE}/create HTTP/1.1\r\nHost: {harness.HOST}\r\n"
                   f"Authorization: {harness.basic_auth('alice', PEOPLE['alice'])}\r\n"
                   "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                   '{"name": "').encode()
        started = time.monotonic()
        with socket.create_connection((harness.HOST, self.site.srv.port), timeout=45) as s:
            s.sendall(request)
            answer = b""
            try:
                while chunk := s.recv(65536):
                    answer += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        waited = time.monotonic() - started
        self.assertLess(waited, 42, "the stalled body was not cut off")
        self.assertNotIn(b" 200 ", answer.split(b"\r\n", 1)[0])
        # The API still answers.
        self.assertEqual(self.api("GET", "list").status, 200)

    def test_nothing_else_is_served(self):
        for path in ("/", "/access.log", "/error.log", "/htpasswd", "/nginx.conf",
                     "/apache.conf", "/lighttpd.conf", "/gvx.db", "/git-http-backend",
                     "/settings/", "/api/", "/scripts/", "/repos/"):
            with self.subTest(path=path):
                r = harness.http("GET", self.site.srv.url(path), headers={
                    "Authorization": harness.basic_auth("alice", PEOPLE["alice"])})
                self.assertIn(r.status, (401, 403, 404), r)
                self.assertNotIn(b"alice", r.body)
        # git itself needs a token, anywhere under /git/.
        r = harness.http("GET", self.site.srv.url(f"/git/{test_git.REPO}/HEAD"))
        self.assertEqual(r.status, 401)

    # Runs last: stops the server so that buffered logs are written, then looks for every
    # token in them.
    def test_zz_no_token_in_any_log(self):
        self.site.stop()
        logs = self.site.srv.logs()
        self.assertTrue(any("/api/auth/api-key/" in t for t in logs.values()), list(logs))
        self.assertTrue(any("/git/" in t for t in logs.values()), list(logs))
        for label, token in self.site.tokens.items():
            with self.subTest(token=label):
                harness.assert_not_logged(token, self.site.srv.state_dir, self.site.repos)
                for log in self.site.dir.glob("*.log"):  # fcgiwrap's
                    self.assertNotIn(token, log.read_text(errors="replace"), log)
        for password in PEOPLE.values():
            harness.assert_not_logged(password, self.site.srv.state_dir)
        harness.assert_no_crash_reports(self.site.srv.state_dir)


def main():
    global SERVER
    args = sys.argv[1:]
    if args and args[0] == "--server":
        args.pop(0)
    if not args or args[0] not in test_git.CASES:
        print(f"usage: {sys.argv[0]} --server lighttpd|apache|nginx [TEST_NAME_PART...]",
              file=sys.stderr)
        return 2
    SERVER = test_git.SERVER = args.pop(0)
    binary = harness.server_module(SERVER).BINARY
    needed = [binary, test_git.GIT] + ([test_git.FCGIWRAP] if SERVER == "nginx" else [])
    missing = [p for p in needed if not os.access(p, os.X_OK)]
    if missing:
        print(f"skipped: not installed: {', '.join(missing)}", file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in (SiteGit, SiteTogether))
    if args:
        suite = unittest.TestSuite(t for s in suite for t in s if any(a in t.id() for a in args))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
