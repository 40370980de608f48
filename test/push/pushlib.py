"""Shared by the push protection tests: a gvx database with tokens, bare repositories with the
hook installed, and a working clone to commit and push from, all in one temporary directory,
with the real git and the real `gvx` command. Python 3 stdlib only."""

import os
import pathlib
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
import zlib

GIT = shutil.which("git") or "/usr/bin/git"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def now_ms():
    return int(time.time() * 1000)


def checksum_valid_token(prefix="gvx_"):
    """A token of gvx's shape with a valid checksum that no database knows."""
    body = "".join(random.choice(BASE62) for _ in range(58))
    crc = zlib.crc32((prefix + body).encode())
    digits = ""
    for _ in range(6):
        crc, d = divmod(crc, 62)
        digits = BASE62[d] + digits
    return prefix + body + digits


class Workspace:
    """A database, bare repositories and a clone in a fresh directory (removed by close())."""

    def __init__(self, gvx, tag="push"):
        self.gvx = gvx
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=f"gvx-{tag}-"))
        os.chmod(self.dir, 0o755)
        self.db = self.dir / "gvx.db"
        self.home = self.dir / "home"
        self.home.mkdir()
        self.counter = 0
        self.tokens = {}

    def close(self):
        if os.environ.get("GVX_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- tokens ----------------------------------------------------------------------------

    def run_gvx(self, *args, input=None, check=True):
        r = subprocess.run([self.gvx, *map(str, args)], capture_output=True, text=True,
                           input=input, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"gvx {' '.join(map(str, args))} failed ({r.returncode}):\n"
                                 f"{r.stderr}")
        return r

    def create_token(self, label, user="alice", prefix=None):
        args = ["create", "--db", self.db, "--user", user, "--name", f"{label} token"]
        if prefix:
            args += ["--prefix", prefix]
        self.tokens[label] = self.run_gvx(*args).stdout.strip()
        return self.tokens[label]

    def sql(self, query, params=()):
        with sqlite3.connect(str(self.db), timeout=10, isolation_level=None) as c:
            c.execute("PRAGMA busy_timeout = 10000")
            return c.execute(query, params).fetchall()

    def token_row(self, label):
        rows = self.sql("SELECT id, enabled FROM apikey WHERE name = ?", (f"{label} token",))
        return rows[0] if rows else None

    def activity(self, label):
        return self.sql("SELECT outcome, ip, user_agent, key_start FROM gvx_activity "
                        "WHERE key_id = ? ORDER BY id", (self.token_row(label)[0],))

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

    def git(self, *args, check=True, env=None):
        r = subprocess.run([GIT, *map(str, args)], capture_output=True, text=True,
                           env=env or self.env(), timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"git {' '.join(map(str, args))} failed ({r.returncode}):\n"
                                 f"{r.stderr}")
        return r

    def hook_script(self, *options):
        opts = " ".join(str(o) for o in options)
        return f"#!/bin/sh\nexec {self.gvx} pre-receive --db {self.db} {opts}\n"

    def bare_repo(self, name, *hook_options, install_hook=True):
        """A bare repository with one commit on main, and hooks/pre-receive running gvx."""
        bare = self.dir / name
        self.git("init", "-q", "--bare", "-b", "main", bare)
        seed = self.dir / f"{name}-seed"
        self.git("init", "-q", "-b", "main", seed)
        (seed / "README").write_text("a repository\n")
        self.git("-C", seed, "add", "README")
        self.git("-C", seed, "commit", "-q", "-m", "initial commit")
        self.git("-C", seed, "push", "-q", bare, "main")
        shutil.rmtree(seed)
        if install_hook:
            self.set_hook(bare, *hook_options)
        return bare

    def set_hook(self, bare, *options):
        hook = pathlib.Path(bare) / "hooks" / "pre-receive"
        hook.write_text(self.hook_script(*options))
        hook.chmod(0o755)

    def clone(self, url):
        self.counter += 1
        dest = self.dir / f"clone-{self.counter}"
        self.git("clone", "-q", url, dest)
        return dest

    def commit_files(self, clone, files, message="a change"):
        """Writes {path: str or bytes}, commits them; the new commit's id."""
        for path, data in files.items():
            p = pathlib.Path(clone) / path
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                p.write_bytes(data)
            else:
                p.write_text(data)
            self.git("-C", clone, "add", path)
        self.git("-C", clone, "commit", "-q", "-m", message)
        return self.git("-C", clone, "rev-parse", "HEAD").stdout.strip()

    def ref(self, bare, ref):
        r = self.git("--git-dir", bare, "rev-parse", "--verify", "-q", ref, check=False)
        return r.stdout.strip() or None
