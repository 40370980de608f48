#!/usr/bin/env python3
"""`make run` (scripts/demo) on a free PORT, as a user would try it: read the banner, use the
API with the demo login, clone and push with the printed token, then Ctrl-C (SIGINT to the
process group, as a terminal sends it) and check that everything it started has stopped.

    python3 test/servers/test_demo.py            (BUILD= as for scripts/demo; default ./build)
"""

import os
import pathlib
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DEMO = harness.SOURCE_DIR / "scripts" / "demo"


def processes_mentioning(text):
    """pids whose command line mentions text."""
    found = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


class Demo(unittest.TestCase):
    def setUp(self):
        self.dir = harness.tmpdir("demo")
        self.demo_dir = self.dir / "demo"
        self.port = harness.free_port()
        env = dict(os.environ, PORT=str(self.port), DEMO_DIR=str(self.demo_dir))
        if os.environ.get("GVX_FCGI"):  # CTest: the build tree the tests run from
            env["BUILD"] = str(pathlib.Path(os.environ["GVX_FCGI"]).parent.parent)
        self.proc = subprocess.Popen(["bash", str(DEMO)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        self.addCleanup(self.kill)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        for pid in processes_mentioning(str(self.demo_dir)):
            os.kill(pid, signal.SIGKILL)
        self.proc.stdout.close()

    def read_banner(self, timeout=60):
        out = b""
        deadline = time.monotonic() + timeout
        while b"Then see who pushed" not in out:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.fail(f"no banner from scripts/demo:\n{out.decode(errors='replace')}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    continue
                out += chunk
        return out.decode()

    def git(self, *args, cwd=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(HOME=str(self.dir), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0",
                   LC_ALL="C", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
        r = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, f"git {args}: {r.stderr}")
        return r.stdout

    def test_make_run(self):
        banner = self.read_banner()
        base = f"http://127.0.0.1:{self.port}"
        self.assertIn(base, banner)
        self.assertIn("demo / demo", banner)
        token = re.search(r"gvx_[A-Za-z0-9]{64}", banner).group(0)
        token_id = re.search(r"activity\?id=([A-Za-z0-9]{32})", banner).group(1)

        # The API, with the demo login.
        auth = {"Authorization": harness.basic_auth("demo", "demo")}
        listed = harness.http("GET", f"{base}/api/auth/api-key/list", headers=auth)
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([t["id"] for t in listed.json()], [token_id])
        created = harness.http("POST", f"{base}/api/auth/api-key/create", headers=auth,
                               json_body={"name": "laptop"})
        self.assertEqual(created.status, 200, created)
        self.assertEqual(harness.http("GET", f"{base}/api/auth/api-key/list").status, 401)

        # The token settings page, at the printed URL, behind the same login.
        self.assertIn(f"{base}/settings/tokens", banner)
        self.assertEqual(harness.http("GET", f"{base}/settings/tokens/").status, 401)
        page = harness.http("GET", f"{base}/settings/tokens/", headers=auth)
        self.assertEqual(page.status, 200, page)
        self.assertTrue(page.header("Content-Type").startswith("text/html"), page.headers)
        self.assertIn("<h1>Personal access tokens</h1>", page.text)
        self.assertIn("default-src 'none'", page.header("Content-Security-Policy", ""))
        script = harness.http("GET", f"{base}/settings/tokens/js/main.js", headers=auth)
        self.assertEqual(script.status, 200, script)
        self.assertTrue(script.header("Content-Type").startswith("text/javascript"))

        # Git with the printed token, as the printed commands do.
        clone = self.dir / "hello"
        self.git("clone", "-q", f"http://demo:{token}@127.0.0.1:{self.port}/git/hello.git",
                 str(clone))
        with open(clone / "README.md", "a") as f:
            f.write("hello\n")
        self.git("commit", "-qam", "hello", cwd=clone)
        self.git("push", "-q", cwd=clone)
        repo = self.demo_dir / "repos" / "hello.git"
        pusher = self.git("--git-dir", str(repo), "log", "-g", "-1", "--format=%gn")
        self.assertEqual(pusher.strip(), "demo")
        activity = harness.http("GET", f"{base}/api/auth/api-key/activity?id={token_id}",
                                headers=auth)
        self.assertEqual(activity.status, 200, activity)
        self.assertTrue(any(a.get("userAgent", "").startswith("git/")
                            for a in activity.json()), activity.text[:500])

        # Ctrl-C: the script, lighttpd and the gvx-fcgi processes all stop.
        self.assertTrue(processes_mentioning(str(self.demo_dir)))
        os.killpg(self.proc.pid, signal.SIGINT)
        self.assertEqual(self.proc.wait(15), 0)
        deadline = time.monotonic() + 5
        while processes_mentioning(str(self.demo_dir)) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(processes_mentioning(str(self.demo_dir)), [])
        harness.assert_not_logged(token, self.demo_dir / "state")


if __name__ == "__main__":
    if not (shutil.which("lighttpd") or os.path.exists("/usr/sbin/lighttpd")):
        print("skipped: lighttpd is not installed", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
