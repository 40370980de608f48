#!/usr/bin/env python3
"""The push protection row of `make bench`: `gvx pre-receive` over a 50 MB push of source
files, beside `git cat-file --batch` alone reading the same objects, in the same run.

The repository (generated once, then cached beside the benchmark databases) is a bare one whose
only ref is an empty first commit; the pushed commit adds ~5,000 generated source files
(~50 MB, C-like text with identifiers, strings, numbers, hex digests, base64 lines and, every
fifty files, a checksum-valid token that no database knows, so lookups happen). Its objects sit
in a pack that no ref reaches, as a push's objects do while pre-receive runs.

  gvx       `gvx pre-receive --db DB` with "<zero> <tip> refs/heads/main" on standard input,
            in the repository: rev-list, cat-file --batch-check, cat-file --batch, the scan and
            the lookups, all of it as a push runs it
  baseline  `git cat-file --batch` reading the same objects (their ids from a file) to
            /dev/null: what reading the push costs git alone

Interleaved, median of --reps; ratio = median of the per-repetition ratios. Prints "row" lines
for bench/table.py.
"""
import argparse
import base64
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TARGET_BYTES = 50 * 1000 * 1000
FILE_BYTES = 10_000
GENERATOR_VERSION = "1"  # change with source_file or build_repository: regenerates


def row(what, gvx, baseline, ratio, target, checked):
    print("\t".join(["row", what, gvx, baseline, ratio, target, f"{checked:.4f}"]), flush=True)


def unknown_token(rng):
    body = "".join(rng.choice(BASE62) for _ in range(58))
    crc = zlib.crc32(("gvx_" + body).encode())
    digits = ""
    for _ in range(6):
        crc, d = divmod(crc, 62)
        digits = BASE62[d] + digits
    return "gvx_" + body + digits


def source_file(rng, index):
    words = ["buffer", "count", "index", "value", "result", "config", "token", "handle",
             "stream", "parse", "render", "update", "client", "server", "request", "status"]
    lines = [f"// generated source file {index}", "#include <stdio.h>", ""]
    size = sum(len(s) + 1 for s in lines)
    while size < FILE_BYTES:
        kind = rng.randrange(20)
        a, b = rng.choice(words), rng.choice(words)
        if kind == 0:
            line = f'static const char *{a}_digest = "{rng.getrandbits(256):064x}";'
        elif kind == 1:
            blob = bytes(rng.getrandbits(8) for _ in range(57))
            line = f"  /* {base64.b64encode(blob).decode()} */"
        elif kind == 2:
            line = f'    printf("{a} %d {b}\\n", {a}_{b}[{rng.randrange(100)}]);'
        else:
            line = f"    int {a}_{b}{rng.randrange(1000)} = {a}({b}, {rng.randrange(1 << 16)});"
        lines.append(line)
        size += len(line) + 1
    if index % 50 == 0:
        lines.append(f'#define EXAMPLE_TOKEN "{unknown_token(rng)}"')
    return "\n".join(lines) + "\n"


def git(*args, cwd=None, env=None, input=None):
    return subprocess.run(["git", *map(str, args)], cwd=cwd, env=env, input=input,
                          capture_output=True, check=True, text=isinstance(input, str) or
                          input is None).stdout


def git_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
                "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
                "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"})
    return env


def build_repository(path, home):
    """bare repository at path; returns the pushed tip (kept in path/bench-tip)."""
    tmp = path + ".partial"  # not "*.tmp": bench/run deletes those with find -delete
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    env = git_env(home)
    work = os.path.join(tmp, "work")
    git("init", "-q", "-b", "main", work, env=env)
    git("commit", "-q", "--allow-empty", "-m", "empty start", cwd=work, env=env)
    bare = os.path.join(tmp, "repo.git")
    git("init", "-q", "--bare", "-b", "main", bare, env=env)
    git("push", "-q", bare, "main", cwd=work, env=env)
    base = git("rev-parse", "HEAD", cwd=work, env=env).strip()
    rng = random.Random(20261128)
    total, i = 0, 0
    while total < TARGET_BYTES:
        text = source_file(rng, i)
        d = os.path.join(work, "src", f"module{i // 100:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"file{i:05d}.c"), "w") as f:
            f.write(text)
        total += len(text)
        i += 1
    git("add", "-A", cwd=work, env=env)
    git("commit", "-q", "-m", "add the sources", cwd=work, env=env)
    tip = git("rev-parse", "HEAD", cwd=work, env=env).strip()
    # The new objects into one pack that no ref of the bare repository reaches.
    objects = git("rev-list", "--objects", tip, "--not", base, cwd=work, env=env)
    pack = os.path.join(bare, "objects", "pack", "pack")
    subprocess.run(["git", "pack-objects", "-q", pack], cwd=work, env=env,
                   input=objects.encode(), check=True, capture_output=True)
    with open(os.path.join(bare, "bench-tip"), "w") as f:
        f.write(tip + "\n")
    shutil.rmtree(work)
    os.rename(bare, path)
    shutil.rmtree(tmp)
    return tip


def timed(argv, cwd, env, stdin_path):
    with open(stdin_path, "rb") as stdin:
        t0 = time.perf_counter()
        r = subprocess.run(argv, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} {argv[1]} failed ({r.returncode}): {r.stderr.decode()}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--db", required=True, help="a cached benchmark database (read only here)")
    ap.add_argument("--data", required=True, help="where the generated repository is cached")
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    args.db = os.path.abspath(args.db)

    gvx = os.path.abspath(os.path.join(args.build, "cli", "gvx"))
    home = os.path.join(args.scratch, "push-home")
    os.makedirs(home, exist_ok=True)
    repo = os.path.join(args.data, f"push-50mb-v{GENERATOR_VERSION}.git")
    for old in os.listdir(args.data):
        if old.startswith("push-50mb-") and os.path.join(args.data, old) != repo:
            shutil.rmtree(os.path.join(args.data, old), ignore_errors=True)
    if not os.path.isdir(repo):
        print("bench: generating a 50 MB repository of source files", file=sys.stderr)
        build_repository(repo, home)
    tip = open(os.path.join(repo, "bench-tip")).read().strip()
    env = git_env(home)
    env["GIT_DIR"] = repo

    # What the hook reads: the blobs, commits and tags the push adds.
    listed = subprocess.run(
        ["git", "rev-list", "--objects", tip, "--not", "--all"], env=env, check=True,
        capture_output=True).stdout
    checked = subprocess.run(
        ["git", "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize) %(rest)"],
        env=env, input=listed, check=True, capture_output=True).stdout.decode().splitlines()
    wanted = [line.split()[0] for line in checked if line.split()[1] in ("blob", "commit", "tag")]
    total = sum(int(line.split()[2]) for line in checked if line.split()[1] == "blob")
    ids = os.path.join(args.scratch, "push-objects.txt")
    with open(ids, "w") as f:
        f.write("\n".join(wanted) + "\n")
    updates = os.path.join(args.scratch, "push-updates.txt")
    with open(updates, "w") as f:
        f.write(f"{'0' * 40} {tip} refs/heads/main\n")

    contestants = {
        "gvx": lambda: timed([gvx, "pre-receive", "--db", args.db], repo, env, updates),
        "cat-file": lambda: timed(["git", "cat-file", "--batch"], repo, env, ids),
    }
    for run in contestants.values():  # warm-up: page cache, pack index
        run()
    samples = {name: [] for name in contestants}
    ratios = []
    for rep in range(args.reps):
        order = list(contestants) if rep % 2 == 0 else list(reversed(contestants))
        got = {name: contestants[name]() for name in order}
        for name, t in got.items():
            samples[name].append(t)
        ratios.append(got["gvx"] / got["cat-file"])
    gvx_s = statistics.median(samples["gvx"])
    base_s = statistics.median(samples["cat-file"])
    ratio = statistics.median(ratios)
    mb = total / 1e6
    row(f"push protection: pre-receive over a {mb:.0f} MB push ({len(wanted):,} objects)",
        f"{gvx_s * 1000:.0f} ms ({mb / gvx_s:.0f} MB/s)",
        f"{base_s * 1000:.0f} ms (cat-file --batch)", f"{ratio:.2f}×", "<= 2", ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
