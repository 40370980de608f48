#!/usr/bin/env python3
"""`gvx pre-receive` as the pre-receive hook of bare repositories, with real `git push`es
straight to them (README, "Push protection"):

- a push adding a live token (default prefix, a custom one, in a commit message) is refused,
  the branch does not move, the message names the file and the token's start, never the token;
- a revoked, disabled or expired token's text and a checksum-valid unknown token pass;
- a token split across lines and a token in a binary file pass, as documented;
- a new branch, a force-push, an annotated tag and a lightweight tag are scanned;
- --revoke disables the token and records LEAKED in its activity; the retry passes;
- core.hooksPath runs the hook for every repository at once;
- database missing or unreadable: refused with a clear message; --fail-open lets it through;
- a time limit that runs out: refused; deleting a branch needs no scan.

    python3 test_pre_receive.py --gvx build/cli/gvx [unittest args]
"""

import argparse
import os
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import pushlib  # noqa: E402

GVX = None


class PreReceiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws = pushlib.Workspace(GVX, "pre-receive")
        cls.addClassCleanup(cls.ws.close)
        ws = cls.ws
        ws.create_token("live")
        ws.create_token("custom", user="bob", prefix="acme-ci_")
        ws.create_token("revoked")
        ws.create_token("disabled")
        ws.create_token("expired")
        ws.create_token("leaky")
        ws.create_token("leaky2", prefix="x")
        ws.run_gvx("revoke", "--db", ws.db, ws.token_row("revoked")[0])
        ws.sql("UPDATE apikey SET enabled = 0 WHERE name = 'disabled token'")
        ws.sql("UPDATE apikey SET expires_at = ? WHERE name = 'expired token'",
               (pushlib.now_ms() - 1000,))
        cls.bare = ws.bare_repo("project.git")

    def setUp(self):
        self.clone = self.ws.clone(self.bare)

    # --- helpers ---------------------------------------------------------------------------

    def push(self, *args, clone=None):
        return self.ws.git("-C", clone or self.clone, "push", *args, check=False)

    def assert_refused(self, r, path=None, start=None):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("pre-receive hook declined", r.stderr)
        self.assertIn("gvx: push refused", r.stderr)
        if path:
            self.assertIn(f"in {path}, line", r.stderr)
        if start:
            self.assertIn(start + "...", r.stderr)
        for token in self.ws.tokens.values():
            self.assertNotIn(token, r.stderr + r.stdout)
            self.assertNotIn(token[6:30], r.stderr + r.stdout)

    def assert_passed(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("gvx:", r.stderr)

    # --- refused ---------------------------------------------------------------------------

    def test_live_token_is_refused_and_the_branch_stays(self):
        before = self.ws.ref(self.bare, "main")
        token = self.ws.tokens["live"]
        commit = self.ws.commit_files(self.clone, {
            "src/main.c": "int main(void) { return 0; }\n",
            "config/deploy.env": f"# deploy settings\nURL=https://example.com\nTOKEN={token}\n"})
        r = self.push("origin", "HEAD:main")
        self.assert_refused(r, "config/deploy.env", token[:6])
        self.assertIn("line 3", r.stderr)
        self.assertIn(f"commit {commit[:12]}", r.stderr)
        self.assertIn("git rebase -i", r.stderr)  # how to remove it from history
        self.assertEqual(self.ws.ref(self.bare, "main"), before)
        # Without --revoke the token keeps working: only the push is stopped.
        self.assertEqual(self.ws.token_row("live")[1], 1)

    def test_custom_prefix_token_is_refused(self):
        before = self.ws.ref(self.bare, "main")
        token = self.ws.tokens["custom"]
        self.assertTrue(token.startswith("acme-ci_"))
        self.ws.commit_files(self.clone, {"ci.yml": f"env:\n  API_KEY: '{token}'\n"})
        r = self.push("origin", "HEAD:main")
        self.assert_refused(r, "ci.yml", token[:6])
        self.assertEqual(self.ws.ref(self.bare, "main"), before)

    def test_token_in_an_older_commit_of_the_push_is_refused(self):
        token = self.ws.tokens["live"]
        first = self.ws.commit_files(self.clone, {"notes.txt": f"oops {token}\n"}, "add notes")
        self.ws.commit_files(self.clone, {"notes.txt": "cleaned up\n"}, "remove the token")
        r = self.push("origin", "HEAD:main")
        self.assert_refused(r, "notes.txt", token[:6])
        self.assertIn(f"commit {first[:12]}", r.stderr)

    def test_token_in_a_commit_message_is_refused(self):
        token = self.ws.tokens["live"]
        (self.clone / "x.txt").write_text("x\n")
        self.ws.git("-C", self.clone, "add", "x.txt")
        self.ws.git("-C", self.clone, "commit", "-q", "-m", f"use {token} for now")
        r = self.push("origin", "HEAD:main")
        self.assert_refused(r, None, token[:6])
        self.assertIn("in the message of commit", r.stderr)

    # --- passed ----------------------------------------------------------------------------

    def test_revoked_expired_disabled_and_unknown_tokens_pass(self):
        unknown = pushlib.checksum_valid_token()
        unknown_custom = pushlib.checksum_valid_token("my-prefix_")
        self.ws.commit_files(self.clone, {
            "docs/example.md": f"Example: `{unknown}` or `{unknown_custom}`\n",
            "old/revoked.txt": self.ws.tokens["revoked"] + "\n",
            "old/disabled.txt": self.ws.tokens["disabled"] + "\n",
            "old/expired.txt": self.ws.tokens["expired"] + "\n"})
        r = self.push("origin", "HEAD:main")
        self.assert_passed(r)
        self.assertEqual(self.ws.ref(self.bare, "main"),
                         self.ws.git("-C", self.clone, "rev-parse", "HEAD").stdout.strip())

    def test_token_split_across_lines_passes_as_documented(self):
        token = self.ws.tokens["live"]
        self.ws.commit_files(self.clone, {
            "split.py": f'TOKEN = (\n    "{token[:30]}"\n    "{token[30:]}"\n)\n',
            "wrapped.txt": token[:40] + "\n" + token[40:] + "\n"})
        self.assert_passed(self.push("origin", "HEAD:main"))

    def test_token_in_a_binary_file_passes_as_documented(self):
        token = self.ws.tokens["live"]
        # A NUL in the first 8000 bytes: binary by git's own rule, not scanned.
        self.ws.commit_files(self.clone, {"logo.png": b"\x89PNG\r\n\x1a\n\0\0" +
                                          token.encode() + b"\0" * 64})
        self.assert_passed(self.push("origin", "HEAD:main"))
        # The same bytes after 8000 text bytes are text, and scanned.
        self.ws.commit_files(self.clone, {"late.bin": b"x" * 8000 + b"\0" + token.encode()})
        self.assert_refused(self.push("origin", "HEAD:main"), "late.bin", token[:6])

    def test_blob_over_the_size_limit_passes_as_documented(self):
        token = self.ws.tokens["live"]
        bare = self.ws.bare_repo("limit.git", "--max-blob-size", "1000")
        clone = self.ws.clone(bare)
        self.ws.commit_files(clone, {"big.txt": "a\n" * 600 + token + "\n"})
        self.assert_passed(self.push("origin", "HEAD:main", clone=clone))
        self.ws.commit_files(clone, {"small.txt": token + "\n"})
        self.assert_refused(self.push("origin", "HEAD:main", clone=clone), "small.txt")

    def test_deleting_a_branch_passes(self):
        self.assert_passed(self.push("origin", "HEAD:refs/heads/to-delete"))
        self.assert_passed(self.push("origin", ":refs/heads/to-delete"))
        self.assertIsNone(self.ws.ref(self.bare, "refs/heads/to-delete"))

    # --- every kind of ref update is scanned -------------------------------------------------

    def test_new_branch_is_scanned(self):
        token = self.ws.tokens["live"]
        self.ws.git("-C", self.clone, "checkout", "-q", "-b", "feature")
        self.ws.commit_files(self.clone, {"feature.txt": f"key={token}\n"})
        r = self.push("origin", "feature")
        self.assert_refused(r, "feature.txt", token[:6])
        self.assertIsNone(self.ws.ref(self.bare, "refs/heads/feature"))
        # A new branch at a commit the repository already has adds nothing to scan.
        self.assert_passed(self.push("origin", "origin/main:refs/heads/copy"))

    def test_force_push_is_scanned(self):
        token = self.ws.tokens["live"]
        self.ws.commit_files(self.clone, {"a.txt": "clean\n"})
        self.assert_passed(self.push("origin", "HEAD:refs/heads/forced"))
        before = self.ws.ref(self.bare, "refs/heads/forced")
        self.ws.git("-C", self.clone, "reset", "-q", "--hard", "HEAD~1")
        self.ws.commit_files(self.clone, {"b.txt": f"{token}\n"}, "rewritten")
        r = self.push("--force", "origin", "HEAD:refs/heads/forced")
        self.assert_refused(r, "b.txt", token[:6])
        self.assertEqual(self.ws.ref(self.bare, "refs/heads/forced"), before)

    def test_tags_are_scanned(self):
        token = self.ws.tokens["live"]
        # A lightweight tag on a commit no branch has.
        self.ws.commit_files(self.clone, {"release.txt": f"{token}\n"}, "release")
        r = self.push("origin", "HEAD:refs/tags/v1")
        self.assert_refused(r, "release.txt", token[:6])
        self.assertIsNone(self.ws.ref(self.bare, "refs/tags/v1"))
        # An annotated tag whose message holds the token, on a commit the repository has.
        self.ws.git("-C", self.clone, "tag", "-a", "v2", "-m", f"release key {token}",
                    "origin/main")
        r = self.push("origin", "refs/tags/v2")
        self.assert_refused(r, None, token[:6])
        self.assertIn("in the message of tag v2", r.stderr)
        self.assertIsNone(self.ws.ref(self.bare, "refs/tags/v2"))

    # --- --revoke ----------------------------------------------------------------------------

    def test_revoke_disables_the_token_and_records_leaked(self):
        bare = self.ws.bare_repo("revoking.git", "--revoke")
        clone = self.ws.clone(bare)
        token, custom = self.ws.tokens["leaky"], self.ws.tokens["leaky2"]
        before = self.ws.ref(bare, "main")
        self.ws.commit_files(clone, {"app/settings.py": f"API_TOKEN = '{token}'\n",
                                     "app/other.py": f"K = '{custom}'\n"})
        r = self.push("origin", "HEAD:main", clone=clone)
        self.assert_refused(r, "app/settings.py", token[:6])
        self.assertIn("have been revoked", r.stderr)
        self.assertEqual(self.ws.ref(bare, "main"), before)
        for label in ("leaky", "leaky2"):
            self.assertEqual(self.ws.token_row(label)[1], 0, label)  # disabled
            outcomes = [a[0] for a in self.ws.activity(label)]
            self.assertEqual(outcomes, ["LEAKED"], label)
        leaked = self.ws.activity("leaky")[0]
        self.assertEqual(leaked[3], token[:6])
        self.assertIn("app/settings.py", leaked[2])
        for row in self.ws.sql("SELECT * FROM gvx_activity"):
            self.assertNotIn(token, repr(row))
        # The audit trail names the disable, its reason and the hook that did it.
        for label in ("leaky", "leaky2"):
            rows = self.ws.sql("SELECT action, via, user_agent, detail FROM gvx_audit "
                               "WHERE key_id = ? AND action = 'disable'",
                               (self.ws.token_row(label)[0],))
            self.assertEqual([tuple(r) for r in rows],
                             [("disable", "admin", "gvx pre-receive", '{"reason":"LEAKED"}')],
                             label)
        # The tokens no longer work, so the same push now passes.
        self.assert_passed(self.push("origin", "HEAD:main", clone=clone))

    # --- many repositories, failures ---------------------------------------------------------

    def test_core_hooks_path_covers_every_repository(self):
        hooks = self.ws.dir / "shared-hooks"
        hooks.mkdir()
        (hooks / "pre-receive").write_text(self.ws.hook_script())
        (hooks / "pre-receive").chmod(0o755)
        token = self.ws.tokens["live"]
        for name in ("one.git", "two.git"):
            bare = self.ws.bare_repo(name, install_hook=False)
            self.ws.git("--git-dir", bare, "config", "core.hooksPath", hooks)
            clone = self.ws.clone(bare)
            before = self.ws.ref(bare, "main")
            self.ws.commit_files(clone, {"key.txt": token + "\n"})
            self.assert_refused(self.push("origin", "HEAD:main", clone=clone), "key.txt")
            self.assertEqual(self.ws.ref(bare, "main"), before)

    def test_unreachable_database_fails_closed_or_open_when_asked(self):
        token = self.ws.tokens["live"]
        bare = self.ws.bare_repo("nodb.git")
        garbage = self.ws.dir / "garbage.db"
        garbage.write_bytes(b"this is not a database" * 100)
        for db, why in ((self.ws.dir / "missing.db", "no database at"),
                        (garbage, "the token database is unreachable")):
            hook = bare / "hooks" / "pre-receive"
            hook.write_text(f"#!/bin/sh\nexec {GVX} pre-receive --db {db}\n")
            clone = self.ws.clone(bare)
            before = self.ws.ref(bare, "main")
            self.ws.commit_files(clone, {f"clean-{db.name}.txt": "nothing secret\n"})
            r = self.push("origin", "HEAD:main", clone=clone)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("push refused: push protection could not check it", r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(self.ws.ref(bare, "main"), before)
            self.assertFalse((self.ws.dir / "missing.db").exists())  # never created
            hook.write_text(f"#!/bin/sh\nexec {GVX} pre-receive --db {db} --fail-open\n")
            self.ws.commit_files(clone, {f"key-{db.name}.txt": token + "\n"})
            r = self.push("origin", "HEAD:main", clone=clone)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("let through unchecked (--fail-open)", r.stderr)

    def test_time_limit_fails_closed(self):
        bare = self.ws.bare_repo("slow.git", "--timeout", "1")
        clone = self.ws.clone(bare)
        before = self.ws.ref(bare, "main")
        # Base62 digits that could all end a token: the slowest text there is to scan.
        digits = "".join("01234"[(i * 7919) % 5] for i in range(3_000_000))
        self.ws.commit_files(clone, {f"data{i}.txt": digits[i:] for i in range(4)})
        r = self.push("origin", "HEAD:main", clone=clone)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("time limit", r.stderr)
        self.assertEqual(self.ws.ref(bare, "main"), before)


def main():
    global GVX
    parser = argparse.ArgumentParser()
    parser.add_argument("--gvx", required=True)
    args, rest = parser.parse_known_args()
    GVX = os.path.abspath(args.gvx)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
