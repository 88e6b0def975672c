#!/usr/bin/env python3
"""Markdown summary of one bench/run.sh results file (JSON lines).

    python3 bench/report.py bench/results/<stamp>.jsonl

Every figure is a median over rounds. "Added" figures are medians of per-round differences
(target minus direct in the same round), which cancels most of the background load that the
three targets shared in that round.
"""
import json
import statistics
import sys
from collections import defaultdict

TARGETS = ("direct", "null", "proxy")


def load(path):
    runs, s5, meta, meta_end = [], [], {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            if "meta" in d:
                meta = d["meta"]
            elif "meta_end" in d:
                meta_end = d["meta_end"]
            elif d.get("scenario") == "S5":
                s5.append(d)
            else:
                runs.append(d)
    return runs, s5, meta, meta_end


def by_round(runs, scenario):
    """{round: {target: line}} for one scenario."""
    out = defaultdict(dict)
    for r in runs:
        if r["scenario"] == scenario:
            out[r["round"]][r["target"]] = r
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def col(runs, scenario, target, key):
    return med([t[target].get(key) for t in by_round(runs, scenario).values() if target in t])


def added(runs, scenario, target, key):
    diffs = [
        t[target][key] - t["direct"][key]
        for t in by_round(runs, scenario).values()
        if target in t and "direct" in t and t[target].get(key) is not None
        and t["direct"].get(key) is not None
    ]
    return med(diffs)


def ceiling(runs, scenario, target):
    """Requests/s one dedicated core could serve at the measured CPU cost per request."""
    cpu = col(runs, scenario, target, "cpu_hop_us_per_req")
    return None if not cpu else 1e6 / cpu


def s3_extra(runs, target):
    """Per round: (S3 target − S3 direct) − (S1 target − S1 direct), in µs."""
    s1, s3 = by_round(runs, "S1c1"), by_round(runs, "S3c1")
    diffs = []
    for r, t3 in s3.items():
        t1 = s1.get(r, {})
        if all(k in t3 for k in ("direct", target)) and all(k in t1 for k in ("direct", target)):
            diffs.append((t3[target]["p50_us"] - t3["direct"]["p50_us"])
                         - (t1[target]["p50_us"] - t1["direct"]["p50_us"]))
    return med(diffs)


def ms(us, signed=False):
    if us is None:
        return "–"
    v = us / 1000.0
    return f"{v:+.3f} ms" if signed else f"{v:.3f} ms"


def num(v, unit=""):
    return "–" if v is None else f"{v:,.0f}{unit}"


def main(path):
    runs, s5, meta, meta_end = load(path)
    rounds = sorted({r["round"] for r in runs if r["round"] > 0})
    print(f"Results: `{path}`  ")
    if meta:
        built = meta.get("proxy_binary_built")
        if built:
            print(f"kiro-proxy binary built {built}; tree at rev {meta.get('rev')} with "
                  f"{meta.get('uncommitted_files')} uncommitted files at run time.  ")
        print(f"Machine: {meta.get('nproc')} × {meta.get('cpu')}; rev {meta.get('rev')}; "
              f"{len(rounds)} rounds{' (quick)' if meta.get('quick') else ''}; "
              f"load average at start {meta.get('load_start')}"
              + (f", at end {meta_end.get('load_end')}" if meta_end else "") + ".")
    loads = [r["load1"] for r in runs if "load1" in r]
    if loads:
        print(f"1-minute load average during the runs: min {min(loads):.2f}, "
              f"median {statistics.median(loads):.2f}, max {max(loads):.2f}.")
    print()
    print("| scenario | metric | direct | null proxy | kiro-proxy | bar: null / best peer / target |")
    print("|---|---|---|---|---|---|")

    def row(scen, metric, d, n, p, bar):
        print(f"| {scen} | {metric} | {d} | {n} | {p} | {bar} |")

    row("S1 c=1", "p50 latency", ms(col(runs, "S1c1", "direct", "p50_us")),
        ms(col(runs, "S1c1", "null", "p50_us")), ms(col(runs, "S1c1", "proxy", "p50_us")), "")
    row("S1 c=1", "**added p50 over direct**", "", ms(added(runs, "S1c1", "null", "p50_us"), True),
        ms(added(runs, "S1c1", "proxy", "p50_us"), True), "+0.20 / +0.38 / ≤ +0.25 ms")
    row("S1 c=1", "p99 latency", ms(col(runs, "S1c1", "direct", "p99_us")),
        ms(col(runs, "S1c1", "null", "p99_us")), ms(col(runs, "S1c1", "proxy", "p99_us")), "")
    row("S1 c=16", "**requests/s**", num(col(runs, "S1c16", "direct", "rps")),
        num(col(runs, "S1c16", "null", "rps")), num(col(runs, "S1c16", "proxy", "rps")),
        "29,000 / 4,900 / ≥ 15,000")
    row("S1 c=16", "hop CPU per request (→ one-core ceiling)", "",
        *[f"{num(col(runs, 'S1c16', t, 'cpu_hop_us_per_req'), ' µs')} (→ {num(ceiling(runs, 'S1c16', t))}/s)"
          for t in ("null", "proxy")], "")
    row("S1 c=16", "p50 / p99 latency",
        *[f"{ms(col(runs, 'S1c16', t, 'p50_us'))} / {ms(col(runs, 'S1c16', t, 'p99_us'))}"
          for t in TARGETS], "")
    row("S2 c=1", "**total p50** (200 frames)", ms(col(runs, "S2c1", "direct", "p50_us")),
        ms(col(runs, "S2c1", "null", "p50_us")), ms(col(runs, "S2c1", "proxy", "p50_us")),
        "0.23 / 0.84 / ≤ 0.4 ms")
    row("S2 c=1", "added p50 / p99 latency", "",
        *[f"{ms(added(runs, 'S2c1', t, 'p50_us'), True)} / {ms(col(runs, 'S2c1', t, 'p99_us'))} p99"
          for t in ("null", "proxy")], "")
    row("S2 c=16", "**requests/s**", num(col(runs, "S2c16", "direct", "rps")),
        num(col(runs, "S2c16", "null", "rps")), num(col(runs, "S2c16", "proxy", "rps")),
        "23,000 / 1,300 / ≥ 5,000")
    row("S2 c=16", "**hop CPU per request**", "",
        num(col(runs, "S2c16", "null", "cpu_hop_us_per_req"), " µs"),
        num(col(runs, "S2c16", "proxy", "cpu_hop_us_per_req"), " µs"), "41 / 780 / ≤ 150 µs")
    row("S2 c=16", "one-core ceiling (1 s ÷ hop CPU per request)", "",
        *[f"{num(ceiling(runs, 'S2c16', t))}/s" for t in ("null", "proxy")], "")
    row("S2 c=1", "hop CPU per request", "",
        num(col(runs, "S2c1", "null", "cpu_hop_us_per_req"), " µs"),
        num(col(runs, "S2c1", "proxy", "cpu_hop_us_per_req"), " µs"), "")
    row("S2 c=16", "simulator CPU per request",
        *[num(col(runs, "S2c16", t, "cpu_sim_us_per_req"), " µs") for t in TARGETS], "")
    row("S2 c=1", "body chunks per response",
        *[f"{col(runs, 'S2c1', t, 'chunks_per_response'):.1f}"
          if col(runs, 'S2c1', t, 'chunks_per_response') is not None else "–" for t in TARGETS], "")
    chk = {r["target"]: r for r in runs if r["scenario"] == "S2check"}
    if chk:
        row("S2 check", "content events per response (min–max)",
            *[f"{chk[t]['matches_min']}–{chk[t]['matches_max']}" if t in chk else "–"
              for t in TARGETS], "= upstream content frames (200)")
    row("S3 c=1", "p50 latency (76 KB request)", ms(col(runs, "S3c1", "direct", "p50_us")),
        ms(col(runs, "S3c1", "null", "p50_us")), ms(col(runs, "S3c1", "proxy", "p50_us")), "")
    row("S3 c=1", "**extra latency over S1**", "", ms(s3_extra(runs, "null"), True),
        ms(s3_extra(runs, "proxy"), True), "~0 / +0.8 to +1.6 / ≤ +0.3 ms")
    row("S3 c=1", "hop CPU per request (S1 c=1 in brackets)", "",
        *[f"{num(col(runs, 'S3c1', t, 'cpu_hop_us_per_req'), ' µs')} ({num(col(runs, 'S1c1', t, 'cpu_hop_us_per_req'), ' µs')})"
          for t in ("null", "proxy")], "")
    row("S3 c=1", "p99 latency", ms(col(runs, "S3c1", "direct", "p99_us")),
        ms(col(runs, "S3c1", "null", "p99_us")), ms(col(runs, "S3c1", "proxy", "p99_us")), "")
    row("S4 c=64", "time to first token p50", ms(col(runs, "S4c64", "direct", "ttft_p50_us")),
        ms(col(runs, "S4c64", "null", "ttft_p50_us")), ms(col(runs, "S4c64", "proxy", "ttft_p50_us")), "")
    row("S4 c=64", "**added time to first token**", "",
        ms(added(runs, "S4c64", "null", "ttft_p50_us"), True),
        ms(added(runs, "S4c64", "proxy", "ttft_p50_us"), True), "+0.13 / +0.9 / ≤ +0.2 ms")
    row("S4 c=64", "added TTFT p99", "",
        ms(added(runs, "S4c64", "null", "ttft_p99_us"), True),
        ms(added(runs, "S4c64", "proxy", "ttft_p99_us"), True), "")
    row("S4 c=64", "content events per response",
        *[f"{col(runs, 'S4c64', t, 'matches_per_response'):.1f}"
          if col(runs, 'S4c64', t, 'matches_per_response') is not None else "–" for t in TARGETS],
        "= 50")
    for n in sorted({d["streams"] for d in s5}):
        cells = {}
        for t in ("null", "proxy"):
            runs_t = [d for d in s5 if d["streams"] == n and d["target"] == t]
            v = med([d["kb_per_stream"] for d in runs_t])
            cells[t] = "–" if v is None else f"{v:.1f} KB"
        row(f"S5 {n:,} streams", "**RSS per open idle stream**", "", cells["null"], cells["proxy"],
            "29 / 54 / ≤ 35 KB")
    if s5:
        print()
        print("S5 RSS of the hop (KB): before → holding N streams → after they closed; "
              "then the same N again → after.")
        print()
        print("| target | streams | before | during | after | during again | after again |")
        print("|---|---|---|---|---|---|---|")
        for d in s5:
            print(f"| {d['target']} | {d['streams']:,} (opened {d['opened']:,}) | "
                  f"{d['rss_before_kb']:,} | {d['rss_during_kb']:,} | {d['rss_after_kb']:,} | "
                  f"{d.get('rss_during_again_kb', 0):,} | {d.get('rss_after_again_kb', 0):,} |")
    if meta_end:
        print()
        print(f"kiro-proxy RSS: {meta_end['proxy_rss_kb_before_rounds']:,} KB before the rounds, "
              f"{meta_end['proxy_rss_kb_after_rounds']:,} KB after them, "
              f"{meta_end['proxy_rss_kb_end']:,} KB at the end (the process S5 restarted last).")


if __name__ == "__main__":
    main(sys.argv[1])
