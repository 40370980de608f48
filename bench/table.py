#!/usr/bin/env python3
"""Prints the one `make bench` table (Markdown) from the "meta" and "row" lines on stdin.

A row's target ("<= 1.25", ">= 0.9", "report", "n/a") is checked here against its checked
figure, so the verdicts follow one rule for every program that measured a row.
"""
import operator
import sys

CHECKS = {"<=": operator.le, ">=": operator.ge}


def verdict(target, checked):
    parts = target.split()
    if len(parts) != 2 or parts[0] not in CHECKS:
        return "n/a" if target == "n/a" else "—"
    return "met" if CHECKS[parts[0]](checked, float(parts[1])) else "**missed**"


def target_text(target):
    parts = target.split()
    if len(parts) == 2 and parts[0] in CHECKS:
        return {"<=": "≤ ", ">=": "≥ "}[parts[0]] + parts[1] + "×"
    return target


def main():
    meta, rows = {}, []
    for line in sys.stdin:
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "meta" and len(fields) == 3:
            meta[fields[1]] = fields[2]
        elif fields[0] == "row" and len(fields) == 7:
            rows.append(fields[1:])
    mode = meta.get("mode", "?")
    note = " (few repetitions: indicative only)" if mode == "quick" else ""
    print(f"gvx `make bench`, {meta.get('date', '?')}, {mode} mode{note}  ")
    print(f"machine: {meta.get('machine', '?')}, SQLite {meta.get('sqlite', '?')}, "
          f"{meta.get('compiler', '?')}, Release  ")
    print(f"SQL rows: median of {meta.get('repetitions', '?')}, gvx and baseline interleaved; "
          "ratio = median of the per-repetition ratios  ")
    if "verify_blocks" in meta:
        print(f"Verification and create rows: median of {meta['verify_blocks']}, each block "
              "starting with an empty WAL and page cache (checkpoints between blocks, untimed)  ")
    if "http" in meta:
        print(f"HTTP rows: {meta['http']}  ")
    if "authorizer_exact" in meta:
        print(f"Authorizer counts: {meta['authorizer_exact']}  ")
    if "postgresql_settings" in meta:
        print(f"PostgreSQL rows: {meta['postgresql_settings']}; the baseline is a raw libpq "
              "client issuing the same statements")
    print()
    print("| what | gvx | baseline | gvx / baseline | target | verdict |")
    print("|---|---:|---:|---:|---|---|")
    for what, gvx, baseline, ratio, target, checked in rows:
        print(f"| {what} | {gvx} | {baseline} | {ratio} | {target_text(target)} | "
              f"{verdict(target, float(checked))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
