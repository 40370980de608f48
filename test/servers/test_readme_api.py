#!/usr/bin/env python3
"""Runs the curl examples of README.md's "HTTP API" section, as printed, against lighttpd with
scripts/lighttpd/api-basic.conf (users alice/alice-pw and bob/bob-pw) and, for the cookie and
Bearer examples, scripts/lighttpd/api-session.conf.

The README's placeholders are replaced by real values: the host and port, the example token id
(by the id the first create returned), SESSIONTOKEN.SIGNATURE%3D (by a signed session cookie),
the example origin, and `gvx_…` (by a real token). Each command's output must carry every
"field":value pair that the README's `# …` comment shows, except the fields that differ from
run to run (ids, times, the token, counters and activity details).
"""
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

README = harness.SOURCE_DIR / "README.md"
EXAMPLE_ID = "fmN7zewhntDd3FsdNTfZUyYbHN3ZTOtE"
EXAMPLE_BASE = "http://127.0.0.1:8080"
EXAMPLE_ORIGIN = "https://git.example.com"
SECRET = "readme-example-secret-0123456789abcdef"
VARYING = {"id", "createdAt", "updatedAt", "expiresAt", "lastRequest", "requestCount", "key",
           "start", "at", "keyId", "outcome", "ip", "userAgent", "count", "lastAt", "newKeyId"}
PAIR = re.compile(r'"(\w+)":("(?:[^"\\]|\\.)*"|true|false|null|-?\d+)')


def examples():
    """(command, expected comment text) for each curl command of the Endpoints section."""
    text = README.read_text()
    section = text[text.index("### Endpoints"):text.index("### Errors", text.index("### Endpoints"))]
    out = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        command, expected = None, []
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("curl"):
                if command:
                    out.append((command, " ".join(expected)))
                command, expected = line, []
            elif line.startswith("#"):
                expected.append(line.lstrip("# "))
        if command:
            out.append((command, " ".join(expected)))
    return out


class ReadmeApiExamples(unittest.TestCase):
    def setUp(self):
        self.work = harness.tmpdir("readme-api")
        self.db = self.work / "gvx.db"
        htpasswd = harness.write_htpasswd(self.work / "htpasswd",
                                          {"alice": "alice-pw", "bob": "bob-pw"})
        secret_file = self.work / "secret"
        secret_file.write_text(SECRET + "\n")
        self.basic = self.session = None
        lighttpd = harness.server_module("lighttpd")
        self.basic = lighttpd.start("api-basic", fcgi={"API": ["--db", self.db,
                                                               "--trust-remote-user"]},
                                    HTPASSWD=htpasswd)
        self.session = lighttpd.start("api-session", fcgi={"API": [
            "--db", self.db, "--session-secret-file", secret_file,
            "--trusted-origin", EXAMPLE_ORIGIN]}, HTPASSWD=htpasswd)

    def tearDown(self):
        for srv in (self.basic, self.session):
            if srv:
                srv.stop()
        harness.remove_tmpdir(self.work)

    def make_session(self):
        with harness.sqlite(self.db) as c:
            c.execute("CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, expires_at "
                      "INTEGER NOT NULL, token TEXT NOT NULL UNIQUE, created_at INTEGER, "
                      "updated_at INTEGER, user_id TEXT NOT NULL)")
            c.execute("INSERT INTO session VALUES ('s1', ?, 'readme-session-token', 0, 0, "
                      "'alice')", (int(time.time() * 1000) + 3_600_000,))
        return harness.sign_cookie("readme-session-token", SECRET)

    def test_every_endpoint_example_runs_as_documented(self):
        cases = examples()
        self.assertGreaterEqual(len(cases), 8, "the README's endpoint examples were found")
        token_id, token = None, None
        for command, expected in cases:
            uses_session = "SESSIONTOKEN" in command or "Bearer" in command
            srv = self.session if uses_session else self.basic
            cmd = command.replace(EXAMPLE_BASE, srv.base_url)
            if "SESSIONTOKEN" in cmd:
                cmd = cmd.replace("SESSIONTOKEN.SIGNATURE%3D", self.make_session())
            if "gvx_…" in cmd:
                self.assertIsNotNone(token, "a create example precedes the Bearer example")
                cmd = cmd.replace("gvx_…", token)
            if token_id:
                cmd = cmd.replace(EXAMPLE_ID, token_id)
            run = subprocess.run(["bash", "-c", cmd.replace("curl ", "curl -sS ", 1)],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(run.returncode, 0, f"{command}\n{run.stderr}")
            body = run.stdout.strip()
            parsed = json.loads(body)  # every answer is JSON
            if "/create" in command and token_id is None:
                token_id, token = parsed["id"], parsed["key"]
            for key, value in PAIR.findall(expected):
                if key in VARYING:
                    continue
                self.assertIn(f'"{key}":{value}', body, f"{command}\n -> {body}")
        self.assertIsNotNone(token_id)


if __name__ == "__main__":
    unittest.main(verbosity=2)
