#!/usr/bin/env python3
"""Summary of a callgrind output file: instructions (Ir) per unit of work, by function.

    python3 bench/cgsummary.py callgrind.out UNITS [--top N] [--incl REGEX] [--callers NAME]

UNITS divides every figure (requests served, frames decoded…). Self cost is what a function
executes itself; inclusive cost adds everything it calls (recursion not double-counted).
`--incl REGEX` lists the inclusive cost of every function whose name matches; `--callers NAME`
lists who calls NAME and how much of its cost each caller accounts for.
"""
import argparse
import re
from collections import defaultdict


def parse(path):
    names, selfc, edge, calls = {}, defaultdict(int), defaultdict(int), defaultdict(int)

    def name(tok):
        m = re.match(r"\((\d+)\)(?: (.*))?", tok)
        if not m:
            return tok
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), "?" + m.group(1))

    cur = cfn = None
    # The line after `calls=` is a call's inclusive cost, not self cost (even when the call
    # count is 0, as for calls made before the counters were zeroed).
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                cur = name(line[3:])
            elif line.startswith("cfn="):
                cfn = name(line[4:])
            elif line.startswith("calls="):
                pending = int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                cost = int(parts[1])
                if pending is not None:
                    if cfn != cur:
                        edge[(cur, cfn)] += cost
                        calls[cfn] += pending
                    pending = None
                else:
                    selfc[cur] += cost
    return selfc, edge, calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("units", type=float)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--incl", default=None)
    ap.add_argument("--callers", action="append", default=[])
    a = ap.parse_args()
    selfc, edge, calls = parse(a.file)
    total = sum(selfc.values())
    n = a.units

    def inclusive(f):
        return selfc.get(f, 0) + sum(c for (x, y), c in edge.items() if x == f and y != f)

    print(f"total {total:,} Ir = {total / n:,.0f} Ir per unit ({n:,.0f} units)\n")
    print("| Ir/unit (self) | share | function |")
    print("|---:|---:|---|")
    for f, c in sorted(selfc.items(), key=lambda x: -x[1])[: a.top]:
        print(f"| {c / n:,.0f} | {100 * c / total:.1f}% | `{f[:110]}` |")
    if a.incl:
        print("\n| Ir/unit (inclusive) | share | function |")
        print("|---:|---:|---|")
        rows = [(inclusive(f), f) for f in selfc if re.search(a.incl, f)]
        for c, f in sorted(rows, reverse=True)[: a.top]:
            print(f"| {c / n:,.0f} | {100 * c / total:.1f}% | `{f[:110]}` |")
    for target in a.callers:
        print(f"\ncallers of `{target}`:")
        rows = [(c, x) for (x, y), c in edge.items() if y == target]
        for c, x in sorted(rows, reverse=True)[:10]:
            print(f"  {c / n:>10,.0f} Ir/unit  {x[:120]}")


if __name__ == "__main__":
    main()
