"""Turn a results file of ``benchmarks.run`` into the README's Markdown tables.

    .venv/bin/python -m benchmarks.report benchmarks/results/100000.json

The first table is the targets table: the naive-Whoosh column is the measurement quoted in
the issue that set the targets (not re-measured here); the FTS5 and corpus_search columns
both come from the results file, that is from one run on one machine. The second table
lists every operation the harness times, with the ratio of the medians.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# row label: (naive Whoosh as quoted in issue 5, the target as written, the target as a check
# of (corpus_search, FTS5) p50/p95 rows; the build row gets seconds)
NAIVE = {
    "build": ("481 s", "<= 240 s", lambda secs, _: secs <= 240),
    "query + facet counts, top-10": ("74 / 219 ms", "<= FTS5's", lambda c, f: _le(c, f)),
    "common term, top-10": ("152 / 331 ms", "<= FTS5's", lambda c, f: _le(c, f)),
    "phrase, top-10": ("36 / 1,155 ms", "p95 <= 200 ms", lambda c, _: c["p95"] <= 200),
    "article counts by outlet x month": ("4.6 s", "<= 50 ms", lambda c, _: c["p95"] <= 50),
    "term frequency by outlet x month": ("14 / 383 ms", "p95 <= 50 ms",
                                         lambda c, _: c["p95"] <= 50),
    "* (every article), top-10": ("45 s", "within 1 s", lambda c, _: c["p95"] <= 1000),
    "n* (prefix)": ("7 s", "within 1 s", lambda c, _: c["p95"] <= 1000),
}


def _le(cs: dict, fts: dict) -> bool:
    return cs["p50"] <= fts["p50"] and cs["p95"] <= fts["p95"]


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ms(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _pp(row: dict) -> str:
    return f"{_ms(row['p50'])} / {_ms(row['p95'])} ms"


def render(results: dict) -> str:
    b, q = results["build"], results["queries"]
    lines = [
        "| operation | naive Whoosh (issue 5) | SQLite FTS5 (this run) | target "
        "| corpus_search (this run) | |",
        "|---|---|---|---|---|---|",
    ]
    cs_b, fts_b = b["corpus_search"], b["fts5"]
    naive, target, check = NAIVE["build"]
    lines.append(f"| build without entity extraction | {naive} | {fts_b['seconds']:,.0f} s "
                 f"| {target} | {cs_b['seconds']:,.0f} s "
                 f"| {_met(check(cs_b['seconds'], None))} |")
    for name, (naive, target, check) in NAIVE.items():
        if name == "build":
            continue
        cs, fts = q[name]["corpus_search"], q[name]["fts5"]
        lines.append(f"| {name} (p50 / p95) | {naive} | {_pp(fts)} | {target} | {_pp(cs)} "
                     f"| {_met(check(cs, fts))} |")
    rate = b.get("ner_articles_per_second")
    if rate is not None:
        procs = b.get("ner_processes", 1)
        lines.append(f"| entity extraction | 10-16 articles/s | - | >= 100 articles/s "
                     f"| {rate:.1f} articles/s ({procs} process{'es' if procs > 1 else ''}) "
                     f"| {_met(rate >= 100)} |")
    lines += ["", "| operation (p50 / p95) | corpus_search | SQLite FTS5 | ratio of p50 |",
              "|---|---|---|---|"]
    for name, row in q.items():
        if row["fts5"] is None:  # a view FTS5 has no equivalent for
            lines.append(f"| {name} | {_pp(row['corpus_search'])} | - | - |")
            continue
        lines.append(f"| {name} | {_pp(row['corpus_search'])} | {_pp(row['fts5'])} "
                     f"| {row['ratio_p50']:.2f} |")
    inc = b.get("incremental")
    lines += ["", f"Build: corpus_search {cs_b['seconds']:,.0f} s, peak RSS "
              f"{cs_b['peak_rss_mb']:,.0f} MB, index {cs_b['index_mb']:,.0f} MB; FTS5 "
              f"{fts_b['seconds']:,.0f} s, peak RSS {fts_b['peak_rss_mb']:,.0f} MB, index "
              f"{fts_b['index_mb']:,.0f} MB."]
    if inc:
        lines.append(f"Rebuild after adding {inc['added']:,} articles: {inc['seconds']:,.1f} s.")
    if "serving_rss_mb" in results:
        lines.append(f"An open index serving these queries: +{results['serving_rss_mb']:,.0f} MB "
                     "RSS.")
    m = results.get("machine", {})
    lines.append(f"Machine: {m.get('cpus')} CPUs, Python {m.get('python')}, "
                 f"{results['size']:,} articles.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "benchmarks/results/100000.json")
    print(render(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
