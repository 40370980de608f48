#!/usr/bin/env python3
"""The real better-auth 1.4.9 (configured as Gitflare configures it) as a peer for gvx's tests.

test/peers/better-auth/ holds the peer's package.json, package-lock.json and scripts (lib.mjs:
better-auth with its API-key and username plugins over a SQLite file through drizzle and
better-sqlite3; peer.mjs: commands). install() copies them into the build tree and runs
`npm ci` there (the npm registry and the machine's Node.js; better-sqlite3 compiles its native
module, a minute or two on 2 cores); later calls reuse that install while package-lock.json
and the Node.js version are unchanged.

    python3 test/peers/better_auth.py install       # what the CTest fixture peers.better_auth runs

    import better_auth                              # sys.path: test/peers
    peer = better_auth.peer()                       # installed, or PeerUnavailable (never a skip)
    peer.init(db)                                   # better-auth's tables in db
    peer.signup(db, "alice")                        # {"userId": ..., "cookie": "__Secure-..."}
    peer.create(db, "alice", "laptop")              # as Gitflare's UI does (HTTP + cookie)
    peer.create_server(db, "alice", "ci", permissions={"repo": ["read"]}, expires_in=3600)
    peer.verify(db, token, permissions=None)        # {"valid", "code", "userId"}
    peer.list(db, "alice")                          # {"status", "body"}
    peer.secret()                                   # the session cookie secret

Where: $GVX_PEER_DIR, else <repo>/build/peers/better-auth; $GVX_PEER_REUSE names another such
directory whose finished install may be copied instead. Node.js: `node` and `npm` on PATH.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

SOURCE = pathlib.Path(__file__).resolve().parent / "better-auth"
REPO = pathlib.Path(__file__).resolve().parents[2]
FILES = ("package.json", "package-lock.json", "lib.mjs", "peer.mjs")


class PeerUnavailable(RuntimeError):
    """The peer could not be installed or run; the message says why and what to do."""


def peer_dir():
    return pathlib.Path(os.environ.get("GVX_PEER_DIR") or REPO / "build" / "peers" / "better-auth")


def _node_version():
    node = shutil.which("node")
    if not node:
        raise PeerUnavailable("node is not on PATH: scripts/install-deps installs Node.js")
    return subprocess.run([node, "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _stamp():
    h = hashlib.sha256()
    for name in FILES:
        h.update((SOURCE / name).read_bytes())
    h.update(_node_version().encode())
    return h.hexdigest()


def install(target=None, log=sys.stderr):
    """Copies the peer to target and runs npm ci there, unless an install with the same files
    and Node.js is already in place. Safe to call from several processes at once."""
    target = pathlib.Path(target or peer_dir())
    target.mkdir(parents=True, exist_ok=True)
    stamp = _stamp()
    stamp_file = target / ".gvx-installed"
    with open(target / ".gvx-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp_file.exists() and stamp_file.read_text() == stamp:
            return target
        npm = shutil.which("npm")
        if not npm:
            raise PeerUnavailable("npm is not on PATH: scripts/install-deps installs it")
        with contextlib.suppress(FileNotFoundError):
            stamp_file.unlink()
        shutil.rmtree(target / "node_modules", ignore_errors=True)
        for name in FILES:
            shutil.copyfile(SOURCE / name, target / name)
        if _copy_from_sibling(target, stamp, log):
            stamp_file.write_text(stamp)
            return target
        print(f"better-auth peer: npm ci in {target}", file=log, flush=True)
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=target, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise PeerUnavailable(f"npm ci failed in {target} ({r.returncode}):\n"
                                  f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        # The native module must load: better-sqlite3 builds it in an install script.
        r = subprocess.run(["node", "-e", "require('better-sqlite3')(':memory:').close()"],
                           cwd=target, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise PeerUnavailable(f"better-sqlite3 does not load after npm ci:\n{r.stderr}")
        stamp_file.write_text(stamp)
    return target


def _copy_from_sibling(target, stamp, log):
    """Copies node_modules from a finished install with the same stamp ($GVX_PEER_REUSE, e.g.
    build/ for build-asan/): better-sqlite3's native build is most of an install's time."""
    other = os.environ.get("GVX_PEER_REUSE")
    if not other or pathlib.Path(other).resolve() == target.resolve():
        return False
    other = pathlib.Path(other)
    with contextlib.suppress(OSError):
        if (other / ".gvx-installed").read_text() == stamp:
            shutil.copytree(other / "node_modules", target / "node_modules", symlinks=True)
            print(f"better-auth peer: copied from {other}", file=log, flush=True)
            return True
    return False


class Peer:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)

    def run(self, *args, timeout=60):
        """Runs peer.mjs with args; the JSON it printed."""
        r = subprocess.run(["node", "peer.mjs", *map(str, args)], cwd=self.dir,
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise PeerUnavailable(f"peer.mjs {args[0]} failed ({r.returncode}): {r.stderr}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    def init(self, db):
        return self.run("init", db)

    def signup(self, db, user):
        return self.run("signup", db, user)

    def create(self, db, user, name, expires_in=None):
        return self.run("create", db, user, name, *([expires_in] if expires_in else []))

    def create_server(self, db, user, name, permissions=None, expires_in=None):
        args = ["create-server", db, user, name]
        if permissions is not None or expires_in is not None:
            args.append(json.dumps(permissions) if permissions is not None else "")
        if expires_in is not None:
            args.append(expires_in)
        return self.run(*args)

    def verify(self, db, token, permissions=None):
        args = ["verify", db, token]
        if permissions is not None:
            args.append(json.dumps(permissions))
        return self.run(*args)

    def list(self, db, user):
        return self.run("list", db, user)

    def secret(self):
        r = subprocess.run(["node", "peer.mjs", "secret"], cwd=self.dir, capture_output=True,
                           text=True, timeout=60, check=True)
        return r.stdout.strip()


def peer():
    """The installed peer (installing it if needed). Raises PeerUnavailable, never skips."""
    return Peer(install())


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        print("usage: better_auth.py install", file=sys.stderr)
        sys.exit(2)
    try:
        where = install(log=sys.stdout)
    except PeerUnavailable as e:
        print(f"better-auth peer: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"better-auth peer: ready in {where} ({_node_version()})")
