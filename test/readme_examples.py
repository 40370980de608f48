#!/usr/bin/env python3
"""Runs every ```sql block of README.md, verbatim, through the real sqlite3 shell.

The blocks run in order in one shell session on one database in a scratch directory, so a
later example may use tokens and temp tables an earlier one created. `.load ./build/gvx` is pointed at the gvx.so under test.
A line `-- => TEXT` after a statement says TEXT must appear in that block's output.
The test fails on any shell error or an expected line missing (they must appear in order).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--sqlite3", required=True)
    ap.add_argument("--ext", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()

    text = open(args.readme, encoding="utf-8").read()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    if not blocks:
        print("README.md has no ```sql examples")
        return 1
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    ext = os.path.splitext(os.path.abspath(args.ext))[0]
    # One shell session, as a reader following the README would have: temp tables made in
    # one example are still there in the next.
    script = "\n".join(b.replace(".load ./build/gvx", f".load {ext}") for b in blocks)
    if not script.lstrip().startswith(".load"):
        script = f".load {ext}\n" + script
    proc = subprocess.run([args.sqlite3, "-bail", "-batch", "readme.db"], input=script,
                          capture_output=True, text=True, cwd=args.work, timeout=120)
    out_lines = proc.stdout.splitlines()
    expected = [m.strip() for b in blocks for m in re.findall(r"^-- => (.*)$", b, re.M)]
    failures = 0
    pos = 0
    for e in expected:  # each expected line must appear, in order
        while pos < len(out_lines) and out_lines[pos].strip() != e:
            pos += 1
        if pos == len(out_lines):
            failures += 1
            print("missing expected output (in order):", e)
            pos = 0
        else:
            pos += 1
    if proc.returncode != 0 or proc.stderr:
        failures += 1
        print(f"sqlite3 exited {proc.returncode}: {proc.stderr}")
    if failures:
        print("stdout:\n" + proc.stdout)
    print(f"{len(expected) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
