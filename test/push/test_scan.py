#!/usr/bin/env python3
"""`gvx scan --db DB PATH...` over files and directories (README, "Push protection"): exit 1
and file:line with the token's start (never the token) for a live token; 0 for a clean tree,
for revoked, expired and unknown tokens, for binary files, .git directories and symbolic links;
2 for a missing database or path.

    python3 test_scan.py --gvx build/cli/gvx [unittest args]
"""

import argparse
import os
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import pushlib  # noqa: E402

GVX = None


class ScanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws = pushlib.Workspace(GVX, "scan")
        cls.addClassCleanup(cls.ws.close)
        cls.live = cls.ws.create_token("live")
        cls.custom = cls.ws.create_token("custom", prefix="ci-")
        cls.revoked = cls.ws.create_token("revoked")
        cls.expired = cls.ws.create_token("expired")
        cls.ws.run_gvx("revoke", "--db", cls.ws.db, cls.ws.token_row("revoked")[0])
        cls.ws.sql("UPDATE apikey SET expires_at = 1 WHERE name = 'expired token'")

    def tree(self, name, files):
        root = self.ws.dir / name
        for path, data in files.items():
            p = root / path
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                p.write_bytes(data)
            else:
                p.write_text(data)
        return root

    def scan(self, *paths, db=None):
        return self.ws.run_gvx("scan", "--db", db or self.ws.db, *paths, check=False)

    def assert_no_token_printed(self, r):
        for token in (self.live, self.custom, self.revoked, self.expired):
            self.assertNotIn(token[6:], r.stdout + r.stderr)

    def test_clean_tree_exits_0(self):
        root = self.tree("clean", {
            "src/a.c": "int a;\n", "README": "hello\n",
            "docs/example.md": f"`{pushlib.checksum_valid_token()}`\n",
            "old/revoked.txt": self.revoked, "old/expired.txt": self.expired,
            "bin/blob.dat": b"\0\1" + self.live.encode(),       # binary: skipped
            ".git/config": self.live,                          # .git: skipped
        })
        os.symlink(self.ws.dir / "outside-secret", root / "link")
        (self.ws.dir / "outside-secret").write_text(self.live)  # behind a symlink: skipped
        r = self.scan(root)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("0 live tokens", r.stderr)
        self.assert_no_token_printed(r)

    def test_live_tokens_exit_1_with_file_and_line(self):
        root = self.tree("dirty", {
            "src/a.c": "int a;\n",
            "deploy/.env": f"A=1\nTOKEN={self.live}\n",
            "ci.yml": f"key: {self.custom}\n"})
        r = self.scan(root)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"{root}/deploy/.env:2: live gvx token {self.live[:6]}...", r.stdout)
        self.assertIn(f"{root}/ci.yml:1: live gvx token {self.custom[:6]}...", r.stdout)
        self.assertIn("2 live tokens", r.stderr)
        self.assert_no_token_printed(r)
        # A single file as the path, among others.
        r = self.scan(root / "src" / "a.c", root / "deploy" / ".env")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.count("live gvx token"), 1)
        # Scanning counts no use of the token and records no activity.
        self.assertEqual(self.ws.sql("SELECT request_count FROM apikey WHERE name = "
                                     "'live token'"), [(0,)])
        self.assertEqual(self.ws.sql("SELECT count(*) FROM gvx_activity"), [(0,)])

    def test_size_limit(self):
        root = self.tree("large", {"big.txt": "x\n" * 1000 + self.live})
        self.assertEqual(self.scan("--max-blob-size", "100", root).returncode, 0)
        self.assertEqual(self.scan(root).returncode, 1)

    def test_bad_database_or_path_exits_2(self):
        root = self.tree("any", {"a.txt": "a\n"})
        r = self.scan(root, db=self.ws.dir / "missing.db")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no database at", r.stderr)
        self.assertFalse((self.ws.dir / "missing.db").exists())
        r = self.scan(self.ws.dir / "no-such-path")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.ws.run_gvx("scan", "--db", self.ws.db, check=False).returncode, 2)


def main():
    global GVX
    parser = argparse.ArgumentParser()
    parser.add_argument("--gvx", required=True)
    args, rest = parser.parse_known_args()
    GVX = os.path.abspath(args.gvx)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
